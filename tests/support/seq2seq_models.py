"""Tiny randomly initialised encoder-decoders (T5, BART and Marian style) with tokenizers built in code."""

from __future__ import annotations

from pathlib import Path

import torch

from .tiny_models import CORPUS, WORDS, sharpened

KINDS = ("t5", "bart", "marian")


def seq2seq_tokenizer(kind: str):
    """A byte-level BPE tokenizer trained on the tiny corpus, framing a text as the kind's tokenizer does: T5 and
    Marian end it with </s>, BART puts <s> before and </s> after it."""
    from tokenizers import ByteLevelBPETokenizer, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>", "<s>"]
    trainer = ByteLevelBPETokenizer(add_prefix_space=kind == "bart", trim_offsets=True)
    trainer.train_from_iterator(CORPUS + [" ".join(WORDS)] * 3, vocab_size=400, min_frequency=1,
                                special_tokens=specials, show_progress=False)
    tok = trainer._tokenizer
    single = "<s> $A </s>" if kind == "bart" else "$A </s>"
    tok.post_processor = processors.TemplateProcessing(
        single=single, special_tokens=[(name, tok.token_to_id(name)) for name in ("<s>", "</s>")])
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=64, pad_token="<pad>", eos_token="</s>",
                                   unk_token="<unk>", bos_token="<s>")


def seq2seq_config(kind: str, tokenizer):
    from transformers import BartConfig, MarianConfig, T5Config

    ids = dict(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
               bos_token_id=tokenizer.bos_token_id)
    if kind == "t5":
        return T5Config(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, decoder_start_token_id=ids["pad_token_id"],
                        **ids)
    layers = dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
                  encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64)
    if kind == "bart":
        return BartConfig(decoder_start_token_id=ids["eos_token_id"], forced_bos_token_id=None, **layers, **ids)
    if kind == "marian":  # scales its embeddings by sqrt(d_model) inside the encoder
        return MarianConfig(decoder_start_token_id=ids["pad_token_id"], scale_embedding=True,
                            decoder_vocab_size=len(tokenizer), **layers, **ids)
    raise ValueError(kind)


def build_seq2seq_folder(folder: Path, kind: str = "t5", seed: int = 0) -> Path:
    """Save a random tiny ``kind`` (t5, bart or marian) encoder-decoder with its tokenizer into ``folder``."""
    from transformers import AutoModelForSeq2SeqLM

    tokenizer = seq2seq_tokenizer(kind)
    torch.manual_seed(seed)
    model = sharpened(AutoModelForSeq2SeqLM.from_config(seq2seq_config(kind, tokenizer)))
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
