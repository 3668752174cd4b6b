"""Tiny randomly initialised causal language models (GPT-2 and Llama style) with tokenizers built in code,
and a small corpus of sources and references."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from pytest import approx

from .decoder_models import decoder_config, decoder_tokenizer
from .tiny_models import sharpened

SOURCES = ["the movie was good and", "a dull and boring film", "not very funny but the music", "the cast was"]
REFERENCES = ["the cast was great", "with an awful script", "is brilliant", "good and the film was fun"]
GOLD = ["0-0 1-1 2-2 3-3", "0-0 1?1 2-2 4-3", "5-0 3?1", "0-0 1-1 2-2 2?3 2?4 2?5"]  # source word - reference word


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
    rows = [{"source": source, **({"reference": reference, "gold": gold} if references else {})}
            for _ in range(repeat) for source, reference, gold in zip(SOURCES, REFERENCES, GOLD)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def check_gold_alignments(run, attention_of) -> None:
    """A reference run's AER per method (from its stored scores) and per head (from ``attention_of``, the
    model's own [layers, heads, output, source] attention of a row's units), recomputed here; and the kept
    heads of the explorer's first rows equal to the model's, to their two significant digits."""
    from reportgen.ops.alignment import aer, aer_counts, argmax_links, parse_pharaoh, word_matrix

    rows = {}
    for ex in run.examples:
        if ex.step is not None:
            rows.setdefault(ex.row, []).append(ex)
    assert sorted(rows) == list(range(len(SOURCES)))
    methods = run.metrics["alignment"]["result"]
    heads = run.metrics["alignment_atlas"]["result"]
    assert methods["gold_rows"] == heads["gold_rows"] == len(SOURCES) and methods["gold_unmatched"] == 0

    def counts(matrices):
        total = np.zeros(4)
        for row, matrix in matrices.items():
            unit = rows[row][0]
            words = unit.generated["gold_words"]
            spelled = [word for word in words["target"] if word is not None]  # BART's output starts with <s>
            assert len(words["target"]) == len(unit.generated["ids"]) and spelled[0] == 0
            assert spelled[-1] == len(REFERENCES[row].split()) - 1
            links = argmax_links(word_matrix(np.abs(matrix), words["source"], words["target"],
                                             len(SOURCES[row].split()), len(REFERENCES[row].split())))
            total += aer_counts(links, parse_pharaoh(GOLD[row]))
        return aer(total)

    width = lambda unit: unit.generated["start"] or len(unit.tokens)  # noqa: E731
    for row in methods["methods"]:
        scored = run.attributions[row["method"]]
        matrices = {r: np.array([scored[u.index].tokens[: width(u)] for u in units]) for r, units in rows.items()}
        assert row["aer"] == approx(counts(matrices)), row["method"]
    attention = {r: attention_of(units) for r, units in rows.items()}
    for head in heads["per_head"]:
        layer, number = head["layer"], head["head"]
        assert head["aer"] == approx(counts({r: a[layer, number] for r, a in attention.items()}), abs=1e-9)
    kept = heads["head_rows"]
    assert [entry["row"] for entry in kept] == list(range(len(SOURCES)))
    for entry in kept:
        assert np.allclose(entry["heads"], attention[entry["row"]], rtol=0.06, atol=1e-3)
