"""Runs every selected explainer over a dataset in shared, length-sorted model batches."""

from __future__ import annotations

import time
from pathlib import Path
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .data import Dataset, clean_text
from .errors import ReportgenError, first_line
from .explainers import Batch, Explainer, Explanation, explainers
from .metrics import compute_metrics
from .modeling import Classifier
from .checkpoint import Checkpoint, Unit, fingerprint, model_fingerprint
from .records import Attribution, Example, Failure, MethodInfo, RunResult
from .runner import DEFAULT_MAX_BATCH_SIZE, PRECISIONS, HeapTrimmer, ModelRunner
from .versions import package_versions, timestamp
from .words import fold_to_words, spread_to_tokens

TARGETS = ("pred", "label")


@dataclass
class RunConfig:
    """Everything that decides the scores of a run."""

    methods: list[str] = field(default_factory=lambda: explainers.names())
    target: str = "pred"
    seed: int = 0
    max_batch_tokens: int | None = None  # None: the device's default (runner.DEFAULT_MAX_BATCH_TOKENS)
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    precision: str = "float32"  # runner.PRECISIONS: "bfloat16" runs the model under bfloat16 autocast
    method_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    attention_maps: int = 10
    metrics: list[str] | str = "all"
    metric_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        if (self.max_batch_tokens is not None and self.max_batch_tokens < 1) or self.max_batch_size < 1:
            raise ReportgenError("batch limits must be at least 1")
        if self.target not in TARGETS:
            raise ReportgenError(f"--target must be one of {', '.join(TARGETS)}, not {self.target!r}")
        if self.precision not in PRECISIONS:
            raise ReportgenError(f"--precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        self.methods = explainers.resolve(self.methods)
        for name in self.method_params:
            if name not in self.methods:
                raise ReportgenError(f"parameters given for {name!r}, which is not among the methods run")


class Engine:
    """Turns a classifier and a dataset into a :class:`RunResult` of attributions."""

    def __init__(self, classifier: Classifier, config: RunConfig, progress: bool = True,
                 results: str | Path | None = None):
        self.classifier = classifier
        self.results = results
        self.checkpoint: Checkpoint | None = None
        self.runner = ModelRunner(classifier, config.max_batch_tokens, config.max_batch_size, config.precision)
        self.config = replace(config, max_batch_tokens=self.runner.max_batch_tokens)  # the budget used, recorded
        self.progress = progress
        self.trim_heap = True  # see runner.HeapTrimmer
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
            name: MethodInfo(name, type(ex).description, dict(ex.params), dict(type(ex).defaults))
            for name, ex in self.explainers.items()
        }
        run.examples = self._examples(dataset, run)
        if self.results is not None:
            self.checkpoint = Checkpoint(self.results, self._run_key(run), self._method_keys())
        started = time.perf_counter()
        self._explain_all([ex for ex in run.examples if ex.ok], run)
        run.timings["explain"] = time.perf_counter() - started
        started = time.perf_counter()
        compute_metrics(run, self.runner, self.config.metrics, self.config.metric_params)
        run.timings["metrics"] = time.perf_counter() - started
        run.timings["model_batch_sizes"] = _size_summary(self.runner.batch_sizes)
        return run

    def _run_key(self, run: RunResult) -> str:
        """Fingerprint of everything that decides batches and predictions."""
        data = [(ex.index, ex.text, ex.label, ex.group) for ex in run.examples]
        settings = {key: run.config[key] for key in ("target", "seed", "max_batch_tokens", "max_batch_size",
                                                      "precision", "attention_maps")}
        return fingerprint(model_fingerprint(self.classifier.model), self.classifier.max_length, data, settings)

    def _method_keys(self) -> dict[str, str]:
        return {name: fingerprint(name, type(ex).__module__, type(ex).__qualname__, ex.params, ex.seed)
                for name, ex in self.explainers.items()}

    def _examples(self, dataset: Dataset, run: RunResult) -> list[Example]:
        """One Example per input row, in order; a row that cannot be explained is a recorded failure."""
        texts = [clean_text("" if text is None else str(text)) for text in dataset.texts]
        encoded = self._encode([text if text.strip() else "" for text in texts])
        problems = getattr(dataset, "problems", None) or {}
        examples = []
        for i, enc in enumerate(encoded):
            group = dataset.groups[i] if dataset.groups is not None else None
            ex = Example(index=dataset.rows[i], text=texts[i], label=dataset.labels[i], group=group)
            if not isinstance(enc, str):
                ex.input_ids, ex.tokens, ex.word_ids = enc.input_ids, enc.tokens, enc.word_ids
                ex.words, ex.truncated = enc.words, enc.truncated
            reason = self._unexplainable(ex, enc, problems.get(ex.index))
            if reason is not None:
                self._fail(run, ex, reason)
            examples.append(ex)
        run.dataset["truncated"] = sum(ex.truncated for ex in examples)
        return examples

    def _unexplainable(self, ex: Example, enc: Any, problem: str | None) -> str | None:
        """Why ``ex`` cannot be explained, or None."""
        if problem is not None:
            return problem
        if not ex.text.strip():
            return "text is empty"
        if isinstance(enc, str):
            return f"the tokenizer failed: {enc}"
        if not enc.words:
            return "text has no tokens after tokenisation"
        if ex.label is None and self.config.target == "label":
            return "no label to explain"
        return None

    def _encode(self, texts: list[str]) -> list[Any]:
        """Each text's encoding, or for a text the tokenizer refuses, the reason (one line)."""
        try:
            return self.classifier.encode(texts)
        except Exception as err:  # noqa: BLE001 - find the text at fault, keep the others
            if len(texts) == 1:
                return [_reason(err)]
        encoded: list[Any] = []
        for text in texts:
            try:
                encoded.extend(self.classifier.encode([text]))
            except Exception as err:  # noqa: BLE001
                encoded.append(_reason(err))
        return encoded

    def _explain_all(self, examples: list[Example], run: RunResult) -> None:
        self._keep_maps = {ex.index for ex in examples[: self.config.attention_maps]}
        plan = self.runner.batches([len(ex.input_ids) for ex in examples])
        trimmer = HeapTrimmer()
        with _ProgressBars(list(self.explainers), len(examples), self.progress) as bars:
            for number, positions in enumerate(plan):
                self._run_batch(number, [examples[i] for i in positions], run, bars)
                if self.trim_heap:
                    trimmer.after_batch()

    def _run_batch(self, number: int, examples: list[Example], run: RunResult, bars: "_ProgressBars") -> None:
        batch = self._batch(examples)
        stored = self.checkpoint.outcomes(number) if self.checkpoint else None
        if stored is None:
            started = time.perf_counter()
            stored = self._predict(batch)
            run.timings["predict"] = run.timings.get("predict", 0.0) + time.perf_counter() - started
            if self.checkpoint:
                self.checkpoint.save_outcomes(number, stored)
        ok = [ex for ex, outcome in zip(examples, stored) if self._absorb_outcome(ex, outcome, run)]
        if len(ok) < len(examples) and ok:
            batch = self._batch(ok)
        for name, explainer in self.explainers.items():
            unit = self.checkpoint.unit(name, number) if self.checkpoint else None
            if ok and unit is None:
                unit = self._compute_unit(batch, explainer)
                if self.checkpoint:
                    self.checkpoint.save_unit(name, number, unit)
            if unit is not None:
                self._absorb_unit(run, name, unit)
            bars.advance(name, len(examples), run.methods[name].seconds)

    def _predict(self, batch: Batch) -> list[dict[str, Any]]:
        """Per example its class probabilities, or the error that stopped the model."""
        try:
            return [{"example": ex.index, "probabilities": probs.tolist()}
                    for ex, probs in zip(batch.examples, batch.predict())]
        except Exception as err:  # noqa: BLE001 - one bad example must not end the run
            if len(batch.examples) == 1:
                return [{"example": batch.examples[0].index, "error": _reason(err)}]
            return [outcome for ex in batch.examples for outcome in self._predict(self._batch([ex]))]

    def _absorb_outcome(self, ex: Example, outcome: dict[str, Any], run: RunResult) -> bool:
        if "error" in outcome:
            self._fail(run, ex, outcome["error"])
            return False
        ex.probabilities = outcome["probabilities"]
        ex.prediction = int(np.argmax(ex.probabilities))
        ex.target = ex.prediction if self.config.target == "pred" else ex.label
        return True

    def _compute_unit(self, batch: Batch, explainer: Explainer) -> Unit:
        started, evaluations = time.perf_counter(), self.runner.evaluations
        unit = Unit()
        self._attribute(batch, explainer, unit)
        unit.seconds = time.perf_counter() - started
        unit.evaluations = self.runner.evaluations - evaluations
        return unit

    def _attribute(self, batch: Batch, explainer: Explainer, unit: Unit) -> None:
        try:
            explanations = explainer.attribute(batch)
        except Exception as err:  # noqa: BLE001 - isolate the failing example, keep the rest
            if len(batch.examples) == 1:
                unit.failures.append(Failure(batch.examples[0].index, _reason(err), explainer.name))
                return
            for ex in batch.examples:
                self._attribute(self._batch([ex]), explainer, unit)
            return
        for ex, explanation in zip(batch.examples, explanations):
            unit.attributions.append(_attribution(explainer.name, ex, explanation))

    @staticmethod
    def _absorb_unit(run: RunResult, name: str, unit: Unit) -> None:
        info = run.methods[name]
        info.seconds += unit.seconds
        info.model_evaluations += unit.evaluations
        info.examples += len(unit.attributions)
        for attribution in unit.attributions:
            run.add(attribution)
        run.failures.extend(unit.failures)

    def _batch(self, examples: list[Example]) -> Batch:
        want = any(ex.needs_attentions for ex in self.explainers.values())
        return Batch(self.runner, examples, want_attentions=want, keep_maps=self._keep_maps)

    @staticmethod
    def _fail(run: RunResult, ex: Example, reason: str) -> None:
        ex.error = reason
        run.failures.append(Failure(example=ex.index, reason=reason))


class _ProgressBars:
    """An overall bar (examples/s and time left), then one bar per method.

    Methods take turns on every batch, so a method's bar moves when it finishes its share
    of a batch, and its rate is its own: examples done / seconds spent in that method.
    """

    def __init__(self, methods: list[str], total: int, enabled: bool):
        self.overall = tqdm(total=total, desc=f"{'all methods':>26}", unit="ex", position=0, disable=not enabled)
        self.bars = {name: tqdm(total=total, desc=f"{name:>26}", position=i + 1, disable=not enabled,
                                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix}")
                     for i, name in enumerate(methods)}

    def __enter__(self) -> "_ProgressBars":
        return self

    def advance(self, method: str, count: int, seconds: float) -> None:
        bar = self.bars[method]
        done = bar.n + count
        rate = f"{done / seconds:.1f} ex/s, " if seconds > 0 else ""
        bar.set_postfix_str(f"{rate}{seconds:.1f} s in this method", refresh=False)
        bar.update(count)
        if method == list(self.bars)[-1]:
            self.overall.update(count)

    def __exit__(self, *exc) -> None:
        for bar in [self.overall, *self.bars.values()]:
            bar.close()


def _attribution(method: str, ex: Example, explanation: Explanation) -> Attribution:
    if explanation.words is not None:
        words = np.asarray(explanation.words, dtype=np.float64)
        tokens = explanation.tokens if explanation.tokens is not None else spread_to_tokens(words, ex.word_ids)
    else:
        tokens = np.asarray(explanation.tokens, dtype=np.float64)
        words = fold_to_words(tokens, ex.word_ids, len(ex.words))
    return Attribution(method, ex.index, _floats(tokens), _floats(words), explanation.extra)


def _floats(values: np.ndarray) -> list[float]:
    return np.asarray(values, dtype=np.float64).tolist()


def _reason(err: BaseException) -> str:
    return f"{type(err).__name__}: {first_line(err)}"


def _size_summary(sizes: list[int]) -> dict[str, float]:
    if not sizes:
        return {}
    return {"calls": len(sizes), "mean": float(np.mean(sizes)), "max": int(max(sizes)), "min": int(min(sizes))}
