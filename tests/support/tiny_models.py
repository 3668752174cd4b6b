"""Tiny randomly initialised classifiers with tokenizers built in code (no hub)."""

from __future__ import annotations

from pathlib import Path

import torch

WORDS = (
    "the a an movie film plot actor actors story scene scenes good great fine bad awful dull "
    "boring brilliant fun funny sad long short not very really quite is was are be it this "
    "that and or but of to in on with for as by at from love hate like best worst ever never "
    "slow fast smart silly dark light cast director script music ending beginning"
).split()
CORPUS = [
    "the movie was good and the cast was great",
    "a dull and boring film with an awful script",
    "not very funny but the music is brilliant",
    "the worst plot ever, slow and silly",
    "I love this story; the ending is smart!",
    "unbelievable acting... really quite fun",
]


def bert_tokenizer(folder: Path):
    """A lower-casing WordPiece tokenizer with [CLS]/[SEP] framing, like BERT's."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = ["##s", "##ing", "##ed", "##ly", "##able", "un", "believ", "act", "!", ",", ".", ";", "?", "'", "i"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab = list(dict.fromkeys(specials + list(WORDS) + pieces + letters + ["##" + c for c in letters]))
    tok = Tokenizer(models.WordPiece({word: i for i, word in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab.index("[CLS]")), ("[SEP]", vocab.index("[SEP]"))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=64,
    )


def roberta_tokenizer(folder: Path):
    """A byte-level BPE tokenizer trained on the tiny corpus, framed <s> ... </s> like RoBERTa's."""
    from tokenizers import ByteLevelBPETokenizer, processors
    from transformers import PreTrainedTokenizerFast

    trainer = ByteLevelBPETokenizer(add_prefix_space=True, trim_offsets=True)
    trainer.train_from_iterator(
        CORPUS + [" ".join(WORDS)] * 3, vocab_size=400, min_frequency=1,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False,
    )
    tok = trainer._tokenizer
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        cls_token="<s>", sep_token="</s>", mask_token="<mask>", model_max_length=64,
    )


def _config(kind: str, vocab_size: int, num_labels: int, tokenizer):
    from transformers import BertConfig, DistilBertConfig, RobertaConfig

    labels = {i: f"class_{i}" for i in range(num_labels)}
    if num_labels == 2:
        labels = {0: "negative", 1: "positive"}
    common = dict(vocab_size=vocab_size, num_labels=num_labels, id2label=labels,
                  label2id={v: k for k, v in labels.items()}, pad_token_id=tokenizer.pad_token_id)
    if kind == "bert":
        return BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                          max_position_embeddings=64, **common)
    if kind == "distilbert":
        return DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64, **common)
    if kind == "roberta":
        return RobertaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                             max_position_embeddings=66, bos_token_id=tokenizer.bos_token_id,
                             eos_token_id=tokenizer.eos_token_id, **common)
    raise ValueError(kind)


def sharpened(model):
    """``model`` with its weight matrices tripled: sharper logits than the default init, so scores are not all
    near zero."""
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() > 1:
                param.mul_(3.0)
    return model


def build_model_folder(folder: Path, kind: str = "bert", num_labels: int = 2, seed: int = 0) -> Path:
    """Save a random tiny ``kind`` classifier with its tokenizer (safetensors) into ``folder``."""
    from transformers import AutoModelForSequenceClassification

    tokenizer = roberta_tokenizer(folder) if kind == "roberta" else bert_tokenizer(folder)
    torch.manual_seed(seed)
    config = _config(kind, len(tokenizer), num_labels, tokenizer)
    model = sharpened(AutoModelForSequenceClassification.from_config(config))
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


KEYWORD_FILLER = ("the a an movie film plot actor story scene is was it this that and of to in on with for as by "
                  "at from cast director script music ending").split()


def keyword_sentences(n: int, rng) -> tuple[list[str], list[int]]:
    """Neutral filler with one deciding word: 'great' -> positive (1), 'awful' -> negative (0)."""
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(KEYWORD_FILLER, size=int(rng.integers(5, 10))))
        label = int(rng.integers(2))
        words.insert(int(rng.integers(len(words) + 1)), "great" if label else "awful")
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def build_keyword_model(folder: Path) -> Path:
    """The tiny BERT trained (80 Adam steps; the loss is ~0.01 after 50) so that one known word decides the class."""
    import numpy as np
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    build_model_folder(folder, "bert", seed=1)
    model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(80):
        texts, labels = keyword_sentences(32, rng)
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        loss = model(**batch, labels=torch.tensor(labels)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.save_pretrained(folder, safe_serialization=True)
    return folder
