"""Tiny randomly initialised token classifiers (NER tags per token) and tagged data."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .tiny_models import _config, bert_tokenizer, sharpened

NER_TAGS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
TOKEN_KINDS = ("bert", "distilbert")
TAGGED = [
    ("the actor was good in the film", ["O", "B-PER", "O", "O", "O", "O", "O"]),
    ("a dull film from the director", ["O", "O", "O", "O", "O", "B-PER"]),
    ("the cast and the music were brilliant", ["O", "B-PER", "O", "O", "O", "O", "O"]),
    ("unbelievable acting in the scene", ["O", "O", "O", "O", "B-LOC"]),
    ("the story of the actors in the dark", ["O", "O", "O", "O", "B-PER", "O", "O", "B-LOC"]),
    ("slow and silly, the ending was fun", ["O", "O", "O", "O", "O", "O", "O"]),
]


def build_token_folder(folder: Path, kind: str = "bert", seed: int = 0) -> Path:
    """Save a random tiny ``kind`` token classifier of the NER_TAGS with its tokenizer (safetensors)."""
    from transformers import AutoModelForTokenClassification

    tokenizer = bert_tokenizer(folder)
    torch.manual_seed(seed)
    config = _config(kind, len(tokenizer), len(NER_TAGS), tokenizer)
    config.id2label = dict(enumerate(NER_TAGS))
    config.label2id = {name: i for i, name in enumerate(NER_TAGS)}
    model = sharpened(AutoModelForTokenClassification.from_config(config))
    with torch.no_grad():  # most tokens outside any entity, as in real data
        model.classifier.bias[0] += 1.0
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def write_tagged_data(path: Path, repeat: int = 1) -> Path:
    rows = [{"text": text, "tags": json.dumps(tags)} for _ in range(repeat) for text, tags in TAGGED]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path
