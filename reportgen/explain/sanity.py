"""Sanity checks of the explanations (Adebayo et al. 2018, model parameter randomisation): every method run again,
on a seeded sample of the explained examples, for models whose parameters are re-initialised, so that the
measure stage can tell how much each method's scores depend on what the model learned.

Two kinds of randomisation, each step a group of parameters: cascading, from the classification head down through
the layers to the embeddings, each step keeping the ones before it randomised; and independent, each layer alone.
A group is re-initialised as a fresh model would be (weight matrices from a normal distribution of the config's
initializer range, biases at zero, layer norms at one and zero), from a generator seeded by the run's seed and the
group's name, so a group gets the same weights in both kinds and in every rerun. The same target class is
explained as in the main pass. Each step's word scores go into the example's attribution, under
``extra["sanity"]``; the work is checkpointed per batch under its own keys and timed apart (``timings["sanity"]``).
"""

from __future__ import annotations

import copy
import random
import time
import zlib
from dataclasses import replace
from typing import Any

import torch

from ..load.layers import attribution_layers
from ..results.records import Example, RunResult
from .batching import ModelRunner
from .progress import ProgressBars

SHARE = 0.25  # by default, the sample costs at most this share of the main pass
MOST = 100  # the default sample's largest size
HEAD = "classifier head"
EMBEDDINGS = "embeddings"
DEFAULT_STD = 0.02  # the initializer range of a config that names none (BERT's)


def sanity_sample_size(requested: int | None, explained: int, steps: int) -> int:
    """The examples the checks run on: those requested, else as many as cost at most SHARE of the main pass (each
    step costs what the main pass costs per example), at most MOST (none for a run too small to afford one);
    never more than were explained."""
    if requested is None:
        requested = min(MOST, int(SHARE * explained / max(steps, 1)))
    return min(requested, explained)


def sanity_sample(run: RunResult, requested: int | None, steps: int, seed: int) -> list[Example]:
    """A seeded sample of the explained examples (sanity_sample_size of them), in index order."""
    explained = [ex for ex in run.examples if ex.ok and ex.target is not None
                 and any(ex.index in scores for scores in run.attributions.values())]
    chosen = random.Random(seed).sample(explained, sanity_sample_size(requested, len(explained), steps))
    return sorted(chosen, key=lambda ex: ex.index)


class RandomisedModel:
    """A copy of a model whose parameter groups are re-initialised, seeded, one step at a time."""

    def __init__(self, model: Any, seed: int):
        self.model = copy.deepcopy(model)
        self.seed = seed
        self.std = float(getattr(model.config, "initializer_range", None) or DEFAULT_STD)
        self.groups = _groups(self.model)

    @property
    def cascade(self) -> list[str]:
        return list(self.groups)

    @property
    def layers(self) -> list[str]:
        return [name for name in self.groups if name not in (HEAD, EMBEDDINGS)]

    def randomise(self, group: str) -> None:
        generator = torch.Generator().manual_seed(self.seed * 7919 + zlib.crc32(group.encode("utf-8")))
        with torch.no_grad():
            for owner, name, parameter in self.groups[group]:
                if "norm" in type(owner).__name__.lower():
                    parameter.fill_(1.0 if name == "weight" else 0.0)
                elif parameter.dim() >= 2:
                    drawn = torch.randn(parameter.shape, generator=generator, dtype=torch.float32) * self.std
                    parameter.copy_(drawn.to(parameter))
                else:
                    parameter.zero_()

    def saved(self, group: str) -> list[torch.Tensor]:
        return [parameter.detach().clone() for _, _, parameter in self.groups[group]]

    def restore(self, group: str, values: list[torch.Tensor]) -> None:
        with torch.no_grad():
            for (_, _, parameter), value in zip(self.groups[group], values):
                parameter.copy_(value)


def _groups(model: Any) -> dict[str, list[tuple[torch.nn.Module, str, torch.nn.Parameter]]]:
    """The parameter groups in cascading order: the head (every parameter outside the embeddings and the layers,
    the pooler included), the layers from the top down, the embeddings. A parameter shared by two is in the first."""
    named = attribution_layers(model)
    embeddings, layers = named[0][1], [module for _, module in named[1:]]
    seen: set[int] = set()

    def owned(module: torch.nn.Module, skip: set[int] = frozenset()):
        found = []
        for owner in module.modules():
            for name, parameter in owner.named_parameters(recurse=False):
                if id(parameter) not in seen and id(parameter) not in skip:
                    seen.add(id(parameter))
                    found.append((owner, name, parameter))
        return found

    inside = {id(p) for module in [embeddings, *layers] for p in module.parameters()}
    groups = {HEAD: owned(model, inside)}
    for number in range(len(layers), 0, -1):
        groups[f"layer {number}"] = owned(layers[number - 1])
    groups[EMBEDDINGS] = owned(embeddings)
    return groups


def explain_sanity(engine: Any, run: RunResult, requested: int | None) -> None:
    """Every method of ``engine`` on the sample, for each randomisation step (independent first, then cascading)."""
    randomised = RandomisedModel(engine.classifier.model, engine.config.seed)
    steps = [("independent", layer) for layer in randomised.layers] + [("cascade", g) for g in randomised.cascade]
    sample = sanity_sample(run, requested, len(steps), engine.config.seed)
    if not sample or not engine.explainers:
        return
    started = time.perf_counter()
    runner = ModelRunner(replace(engine.classifier, model=randomised.model), engine.config.max_batch_tokens,
                         engine.config.max_batch_size, engine.config.precision)
    plan = runner.batches([len(ex.input_ids) for ex in sample])
    with ProgressBars([f"{name} (sanity)" for name in engine.explainers], len(sample) * len(steps), engine.progress,
                      stage="sanity checks: the model randomised") as bars:
        for kind, group in steps:
            saved = randomised.saved(group) if kind == "independent" else None
            randomised.randomise(group)
            for number, positions in enumerate(plan):
                batch = engine._batch([sample[i] for i in positions], runner)
                for name, explainer in engine.explainers.items():
                    unit = engine.stored_or_computed(name, explainer, f"sanity {kind} {group} {number}", batch)
                    _keep(run, name, kind, group, unit)
                    bars.advance(f"{name} (sanity)", len(positions), unit.seconds)
            if saved is not None:
                randomised.restore(group, saved)
    run.timings["sanity"] = time.perf_counter() - started


def _keep(run: RunResult, name: str, kind: str, group: str, unit: Any) -> None:
    """Each step's word scores beside the main ones; a failed example's step is left out."""
    for attribution in unit.attributions:
        main = run.attributions[name].get(attribution.example)
        if main is not None:
            main.extra.setdefault("sanity", {}).setdefault(kind, {})[group] = attribution.words
