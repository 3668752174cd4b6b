"""Runs every selected explainer over a dataset in shared, length-sorted model batches."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .data import Dataset
from .errors import ReportgenError, first_line
from .explainers import Batch, Explainer, Explanation, explainers
from .metrics import compute_metrics
from .modeling import Classifier
from .records import Attribution, Example, Failure, MethodInfo, RunResult
from .runner import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS, ModelRunner
from .versions import package_versions, timestamp
from .words import fold_to_words, spread_to_tokens

TARGETS = ("pred", "label")


@dataclass
class RunConfig:
    """Everything that decides the scores of a run."""

    methods: list[str] = field(default_factory=lambda: explainers.names())
    target: str = "pred"
    seed: int = 0
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    method_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    attention_maps: int = 10
    metrics: list[str] | str = "all"
    metric_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        if self.max_batch_tokens < 1 or self.max_batch_size < 1:
            raise ReportgenError("batch limits must be at least 1")
        if self.target not in TARGETS:
            raise ReportgenError(f"--target must be one of {', '.join(TARGETS)}, not {self.target!r}")
        self.methods = explainers.resolve(self.methods)


class Engine:
    """Turns a classifier and a dataset into a :class:`RunResult` of attributions."""

    def __init__(self, classifier: Classifier, config: RunConfig, progress: bool = True):
        self.classifier = classifier
        self.config = config
        self.progress = progress
        self.runner = ModelRunner(classifier, config.max_batch_tokens, config.max_batch_size)
        self._keep_maps: set[int] = set()
        self.explainers = {
            name: explainers.get(name)(seed=config.seed, **config.method_params.get(name, {}))
            for name in config.methods
        }

    def run(self, dataset: Dataset) -> RunResult:
        torch.manual_seed(self.config.seed)
        run = RunResult(
            config=asdict(self.config),
            model=dict(self.classifier.info),
            dataset=dict(dataset.info, explained=len(dataset)),
            versions=package_versions(),
            created=timestamp(),
        )
        run.methods = {
            name: MethodInfo(name, type(ex).description, dict(ex.params)) for name, ex in self.explainers.items()
        }
        run.examples = self._examples(dataset, run)
        started = time.perf_counter()
        self._explain_all([ex for ex in run.examples if ex.ok], run)
        run.timings["explain"] = time.perf_counter() - started
        started = time.perf_counter()
        compute_metrics(run, self.runner, self.config.metrics, self.config.metric_params)
        run.timings["metrics"] = time.perf_counter() - started
        run.timings["model_batch_sizes"] = _size_summary(self.runner.batch_sizes)
        return run

    def _examples(self, dataset: Dataset, run: RunResult) -> list[Example]:
        encoded = self.classifier.encode([text if text.strip() else "" for text in dataset.texts])
        examples = []
        for i, enc in enumerate(encoded):
            group = dataset.groups[i] if dataset.groups is not None else None
            ex = Example(index=dataset.rows[i], text=dataset.texts[i], label=dataset.labels[i], group=group)
            ex.input_ids, ex.tokens, ex.word_ids = enc.input_ids, enc.tokens, enc.word_ids
            ex.words, ex.truncated = enc.words, enc.truncated
            if not dataset.texts[i].strip():
                self._fail(run, ex, "text is empty")
            elif not enc.words:
                self._fail(run, ex, "text has no tokens after tokenisation")
            examples.append(ex)
        return examples

    def _explain_all(self, examples: list[Example], run: RunResult) -> None:
        bars = {
            name: tqdm(total=len(examples), desc=f"{name:>26}", unit="ex", position=i,
                       disable=not self.progress, leave=True)
            for i, name in enumerate(self.explainers)
        }
        self._keep_maps = {ex.index for ex in examples[: self.config.attention_maps]}
        try:
            for positions in self.runner.batches([len(ex.input_ids) for ex in examples]):
                batch_examples = [examples[i] for i in positions]
                self._run_batch(batch_examples, run)
                for bar in bars.values():
                    bar.update(len(batch_examples))
        finally:
            for bar in bars.values():
                bar.close()

    def _run_batch(self, examples: list[Example], run: RunResult) -> None:
        batch = self._batch(examples)
        started = time.perf_counter()
        try:
            probabilities = batch.predict()
        except Exception as err:  # noqa: BLE001 - one bad example must not end the run
            if len(examples) == 1:
                self._fail(run, examples[0], _reason(err))
                return
            for ex in examples:
                self._run_batch([ex], run)
            return
        run.timings["predict"] = run.timings.get("predict", 0.0) + time.perf_counter() - started
        for ex, probs in zip(examples, probabilities):
            ex.probabilities = probs.tolist()
            ex.prediction = int(np.argmax(probs))
            ex.target = ex.prediction if self.config.target == "pred" else ex.label
        for name, explainer in self.explainers.items():
            self._attribute(batch, name, explainer, run)

    def _attribute(self, batch: Batch, name: str, explainer: Explainer, run: RunResult) -> None:
        info = run.methods[name]
        started, evaluations = time.perf_counter(), self.runner.evaluations
        try:
            explanations = explainer.attribute(batch)
        except Exception as err:  # noqa: BLE001 - isolate the failing example, keep the rest
            if len(batch.examples) == 1:
                self._fail(run, batch.examples[0], _reason(err), name)
                return
            for ex in batch.examples:
                self._attribute(self._batch([ex]), name, explainer, run)
            return
        info.seconds += time.perf_counter() - started
        info.model_evaluations += self.runner.evaluations - evaluations
        info.examples += len(batch.examples)
        for ex, explanation in zip(batch.examples, explanations):
            run.add(_attribution(name, ex, explanation))

    def _batch(self, examples: list[Example]) -> Batch:
        want = any(ex.needs_attentions for ex in self.explainers.values())
        return Batch(self.runner, examples, want_attentions=want, keep_maps=self._keep_maps)

    @staticmethod
    def _fail(run: RunResult, ex: Example, reason: str, method: str | None = None) -> None:
        if method is None:
            ex.error = reason
        run.failures.append(Failure(example=ex.index, reason=reason, method=method))


def _attribution(method: str, ex: Example, explanation: Explanation) -> Attribution:
    if explanation.words is not None:
        words = np.asarray(explanation.words, dtype=np.float64)
        tokens = explanation.tokens if explanation.tokens is not None else spread_to_tokens(words, ex.word_ids)
    else:
        tokens = np.asarray(explanation.tokens, dtype=np.float64)
        words = fold_to_words(tokens, ex.word_ids, len(ex.words))
    return Attribution(method, ex.index, _floats(tokens), _floats(words), explanation.extra)


def _floats(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64)]


def _reason(err: BaseException) -> str:
    return f"{type(err).__name__}: {first_line(err)}"


def _size_summary(sizes: list[int]) -> dict[str, float]:
    if not sizes:
        return {}
    return {"calls": len(sizes), "mean": float(np.mean(sizes)), "max": int(max(sizes)), "min": int(min(sizes))}
