"""Tiny randomly initialised multi-label classifiers (a sigmoid per label) and multi-label data."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .tiny_models import CORPUS, _config, bert_tokenizer, roberta_tokenizer, sharpened

TOPICS = ("acting", "plot", "music", "pace")
MULTI_LABEL_KINDS = ("roberta", "bert")


def build_multi_label_folder(folder: Path, kind: str = "roberta", seed: int = 0,
                             problem_type: str | None = "multi_label_classification") -> Path:
    """Save a random tiny ``kind`` classifier of the four TOPICS, declared multi-label by its config unless
    ``problem_type`` is None, with its tokenizer."""
    from transformers import AutoModelForSequenceClassification

    tokenizer = roberta_tokenizer(folder) if kind == "roberta" else bert_tokenizer(folder)
    torch.manual_seed(seed)
    config = _config(kind, len(tokenizer), len(TOPICS), tokenizer)
    config.id2label = dict(enumerate(TOPICS))
    config.label2id = {name: i for i, name in enumerate(TOPICS)}
    config.problem_type = problem_type
    model = sharpened(AutoModelForSequenceClassification.from_config(config))
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def multi_label_rows(repeat: int = 1) -> list[dict[str, str]]:
    """The tiny corpus with a JSON list of topics per row (some rows with none), ``repeat`` times."""
    rows = []
    for n in range(repeat):
        for i, text in enumerate(CORPUS):
            chosen = [topic for t, topic in enumerate(TOPICS) if (i + n + t) % 3 == 0]
            rows.append({"text": text, "label": json.dumps(chosen)})
    return rows


def write_multi_label_data(path: Path, repeat: int = 1) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in multi_label_rows(repeat)), encoding="utf-8")
    return path
