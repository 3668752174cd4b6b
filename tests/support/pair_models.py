"""Tiny randomly initialised sentence-pair classifiers (BERT with two token types, RoBERTa with one) and pair data."""

from __future__ import annotations

from pathlib import Path

import torch

from .tiny_models import CORPUS, bert_tokenizer, roberta_tokenizer, sharpened

PAIR_LABELS = ("entailment", "neutral", "contradiction")
HYPOTHESES = ["the film was fun", "the cast was bad", "it is a story", "the music is great", "silly plot",
              "the ending was slow"]
PAIR_KINDS = ("bert", "roberta")


def pair_config(kind: str, tokenizer):
    from transformers import BertConfig, RobertaConfig

    labels = dict(enumerate(PAIR_LABELS))
    common = dict(vocab_size=len(tokenizer), num_labels=len(labels), id2label=labels,
                  label2id={v: k for k, v in labels.items()}, pad_token_id=tokenizer.pad_token_id,
                  hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    if kind == "bert":
        return BertConfig(type_vocab_size=2, max_position_embeddings=64, **common)
    if kind == "roberta":
        return RobertaConfig(type_vocab_size=1, max_position_embeddings=66, bos_token_id=tokenizer.bos_token_id,
                             eos_token_id=tokenizer.eos_token_id, **common)
    raise ValueError(kind)


def with_bert_pair_types(tokenizer):
    """The tiny BERT tokenizer with BERT's token types for a pair: 1 from the second text to its [SEP]."""
    from tokenizers import processors

    specials = [(token, tokenizer.convert_tokens_to_ids(token)) for token in ("[CLS]", "[SEP]")]
    tokenizer._tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=specials)
    return tokenizer


def build_pair_folder(folder: Path, kind: str = "bert", seed: int = 0) -> Path:
    """Save a random tiny ``kind`` (bert or roberta) pair classifier of three NLI classes with its tokenizer."""
    from transformers import AutoModelForSequenceClassification

    tokenizer = roberta_tokenizer(folder) if kind == "roberta" else with_bert_pair_types(bert_tokenizer(folder))
    torch.manual_seed(seed)
    model = sharpened(AutoModelForSequenceClassification.from_config(pair_config(kind, tokenizer)))
    if kind == "bert":
        with torch.no_grad():  # token types far apart, so that which segment a token is in changes the logits
            model.bert.embeddings.token_type_embeddings.weight[1].mul_(-4.0)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def pair_rows(repeat: int = 1) -> list[dict[str, str]]:
    """Premise, hypothesis and an NLI label per row: the tiny corpus against the hypotheses, ``repeat`` times."""
    rows = []
    for n in range(repeat):
        for i, (premise, hypothesis) in enumerate(zip(CORPUS, HYPOTHESES)):
            rows.append({"premise": premise, "hypothesis": hypothesis,
                         "label": PAIR_LABELS[(i + n) % len(PAIR_LABELS)]})
    return rows
