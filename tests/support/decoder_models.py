"""Tiny randomly initialised decoder-only classifiers (GPT-2 and Llama style) with tokenizers built in code."""

from __future__ import annotations

from pathlib import Path

import torch

from .tiny_models import CORPUS, WORDS, sharpened


def decoder_tokenizer(bos: bool, pad: bool, eos: bool = True):
    """A byte-level BPE tokenizer trained on the tiny corpus: GPT-2's framing (nothing added, one
    <|endoftext|> token for eos) or, with ``bos``, Llama's (<s> before every text, </s> as eos). With
    ``pad`` it has a padding token of its own; without, none (as GPT-2 and Llama ship); without ``eos``, no
    end-of-sequence token either."""
    from tokenizers import ByteLevelBPETokenizer, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<s>", "</s>", "<unk>"] if bos else ["<|endoftext|>"]
    specials += ["<pad>"] if pad else []
    trainer = ByteLevelBPETokenizer(add_prefix_space=False, trim_offsets=True)
    trainer.train_from_iterator(CORPUS + [" ".join(WORDS)] * 3, vocab_size=400, min_frequency=1,
                                special_tokens=specials, show_progress=False)
    tok = trainer._tokenizer
    names = {"pad_token": "<pad>"} if pad else {}
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", tok.token_to_id("<s>"))])
        names.update(bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=True)
        if eos:
            names.update(bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=64, **names)


def decoder_config(kind: str, tokenizer, num_labels: int = 2):
    from transformers import GPT2Config, LlamaConfig

    labels = {0: "negative", 1: "positive"} if num_labels == 2 else {i: f"class_{i}" for i in range(num_labels)}
    common = dict(vocab_size=len(tokenizer), num_labels=num_labels, id2label=labels,
                  label2id={v: k for k, v in labels.items()}, pad_token_id=tokenizer.pad_token_id,
                  eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
    if kind == "gpt2":
        return GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=64, **common)
    if kind == "llama":
        return LlamaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                           intermediate_size=64, max_position_embeddings=64, **common)
    raise ValueError(kind)


def build_decoder_folder(folder: Path, kind: str = "gpt2", pad: bool = False, num_labels: int = 2,
                         seed: int = 0, eos: bool = True) -> Path:
    """Save a random tiny ``kind`` (gpt2 or llama) sequence classifier with its tokenizer into ``folder``."""
    from transformers import AutoModelForSequenceClassification

    tokenizer = decoder_tokenizer(bos=kind == "llama", pad=pad, eos=eos)
    torch.manual_seed(seed)
    model = sharpened(AutoModelForSequenceClassification.from_config(decoder_config(kind, tokenizer, num_labels)))
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
