"""Tiny randomly initialised causal language models (GPT-2 and Llama style) with tokenizers built in code,
and a small corpus of sources and references."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .decoder_models import decoder_config, decoder_tokenizer
from .tiny_models import sharpened

SOURCES = ["the movie was good and", "a dull and boring film", "not very funny but the music", "the cast was"]
REFERENCES = ["the cast was great", "with an awful script", "is brilliant", "good and the film was fun"]


def build_lm_folder(folder: Path, kind: str = "gpt2", pad: bool = False, seed: int = 0) -> Path:
    """Save a random tiny ``kind`` (gpt2 or llama) causal language model with its tokenizer into ``folder``."""
    from transformers import AutoModelForCausalLM

    tokenizer = decoder_tokenizer(bos=kind == "llama", pad=pad)
    torch.manual_seed(seed)
    config = decoder_config(kind, tokenizer)
    config.architectures = ["GPT2LMHeadModel" if kind == "gpt2" else "LlamaForCausalLM"]
    model = sharpened(AutoModelForCausalLM.from_config(config))
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def write_generation_data(path: Path, references: bool = True, repeat: int = 1) -> Path:
    rows = [{"source": source, **({"reference": reference} if references else {})}
            for _ in range(repeat) for source, reference in zip(SOURCES, REFERENCES)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path
