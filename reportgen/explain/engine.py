"""Runs every selected explainer over a dataset in shared, length-sorted model batches."""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import torch

from ..errors import reason
from ..load.data import Dataset, clean_text
from ..load.model import Classifier
from ..load.rationales import word_rationale
from ..ops.words import fold_to_words, spread_to_tokens
from ..results.provenance import package_versions, timestamp
from ..results.records import Attribution, Example, Failure, MethodInfo, RunResult
from ..tasks import DEFAULT_TASK
from .batch import Batch
from .batching import ModelRunner
from .checkpoint import Checkpoint, Unit, fingerprint, model_fingerprint
from .contrast import explain_contrasts
from .sanity import explain_sanity
from .explainer import Explainer, Explanation, explainers
from .isolate import isolate
from .maps import keep_attention_maps
from .memory import HeapTrimmer
from .progress import ProgressBars
from .windows import merge_windows, windows_for, WINDOW_SETTINGS

KEYED_SETTINGS = ("target", "seed", "max_batch_tokens", "max_batch_size", "precision", "attention_maps")


class Engine:
    """Explains a dataset: a :class:`RunResult` with every example's prediction and attributions.

    ``config`` is a :class:`reportgen.options.RunConfig`. The statistics are a later step
    (:mod:`reportgen.measure`). With a ``checkpoint``, finished work is stored as it is done and
    a run started again on the same folder computes only what is missing.
    """

    def __init__(self, classifier: Classifier, config: Any, checkpoint: Checkpoint | None = None,
                 progress: str | bool = True):
        self.classifier = classifier
        self.checkpoint = checkpoint
        self.runner = ModelRunner(classifier, config.max_batch_tokens, config.max_batch_size, config.precision)
        self.runner.windows = self.windows = windows_for(classifier, config)
        self.config = replace(config, max_batch_tokens=self.runner.max_batch_tokens)  # the budget used, recorded
        self.progress = progress
        self.trim_heap = True  # see memory.HeapTrimmer
        self.explainers = {
            name: explainers.get(name)(seed=config.seed, **config.method_params.get(name, {}))
            for name in config.methods
        }
        for explainer in self.explainers.values():
            explainer.check_model(classifier)  # limits that depend on the model (layers, length), before any work

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
        run.key = self._run_key(run)
        if self.checkpoint is not None:
            self.checkpoint.open(run.key, self._method_keys())
        started = time.perf_counter()
        if self.classifier.task.per_label:
            self._predict_all([ex for ex in run.examples if ex.ok], run)
            run.examples = self._units(run)
            self._explain_all([ex for ex in run.examples if ex.ok and ex.target is not None], run, predicted=True)
        elif self.windows is not None:
            self._explain_windows(run)
        elif self.classifier.task.answers_first:
            self._predict_all([ex for ex in run.examples if ex.ok], run)
            self._explain_all([ex for ex in run.examples if ex.ok and ex.target is not None], run, predicted=True)
        else:
            self._explain_all([ex for ex in run.examples if ex.ok], run)
        if self.config.contrast and self.classifier.task.contrasts_errors and self.windows is None:
            explain_contrasts(self, run)
        if self.config.sanity_examples != 0 and self.classifier.task.randomisable and self.windows is None:
            explain_sanity(self, run, self.config.sanity_examples)
        kept = self.config.attention_maps if self.classifier.task.keeps_attention_maps else 0
        if kept and "attention" in self.explainers:
            maps_started = time.perf_counter()
            keep_attention_maps(self.runner, self.explainers["attention"], run, kept, self.config.attention_budget)
            run.timings["attention_maps"] = time.perf_counter() - maps_started
        run.timings["explain"] = time.perf_counter() - started
        return run

    def _run_key(self, run: RunResult) -> str:
        """Fingerprint of everything that decides batches and predictions."""
        data = [(ex.index, ex.text, ex.label, ex.group) + ((ex.text_pair,) if ex.text_pair is not None else ())
                + ((ex.labels,) if ex.labels is not None else ()) + ((ex.tags,) if ex.tags is not None else ())
                + ((ex.rationale, ex.rationale_error) if ex.rationale is not None or ex.rationale_error else ())
                for ex in run.examples]
        settings = {key: run.config[key] for key in KEYED_SETTINGS}
        if self.classifier.task.per_label:
            settings["threshold"] = run.config["threshold"]
        if self.windows is not None:
            settings.update({key: run.config[key] for key in WINDOW_SETTINGS})
        model = (self.classifier.task.name, self.classifier.replacement_id, *self.classifier.task.fingerprint())
        if model == (DEFAULT_TASK, self.classifier.tokenizer.mask_token_id):
            model = ()  # as results written before tasks and --replacement had them
        return fingerprint(model_fingerprint(self.classifier.model), self.classifier.max_length, data, settings,
                           *model)

    def _method_keys(self) -> dict[str, str]:
        return {name: fingerprint(name, type(ex).__module__, type(ex).__qualname__, ex.params, ex.seed)
                for name, ex in self.explainers.items()}

    def _examples(self, dataset: Dataset, run: RunResult) -> list[Example]:
        """One Example per input row, in order; a row that cannot be explained is a recorded failure."""
        texts = [clean_text("" if text is None else str(text)) for text in dataset.texts]
        pairs = getattr(dataset, "pairs", None)
        if pairs is not None:
            pairs = [clean_text("" if text is None else str(text)) for text in pairs]
        encoded = isolate(list(range(len(texts))), lambda rows: self._encode(rows, texts, pairs),
                          lambda row, err: reason(err))
        problems = getattr(dataset, "problems", None) or {}
        rationales = getattr(dataset, "rationales", None)
        examples = []
        for i, enc in enumerate(encoded):
            group = dataset.groups[i] if dataset.groups is not None else None
            ex = Example(index=dataset.rows[i], text=texts[i], label=dataset.labels[i], group=group,
                         text_pair=pairs[i] if pairs is not None else None,
                         labels=dataset.label_sets[i] if dataset.label_sets is not None else None,
                         tags=dataset.tag_lists[i] if dataset.tag_lists is not None else None,
                         alignment=dataset.alignments[i] if getattr(dataset, "alignments", None) is not None else None)
            if not isinstance(enc, str):
                ex.input_ids, ex.tokens, ex.word_ids = enc.input_ids, enc.tokens, enc.word_ids
                ex.words, ex.truncated, ex.word_segments = enc.words, enc.truncated, enc.word_segments
                if rationales is not None and enc.words:
                    ex.rationale, ex.rationale_error = word_rationale(rationales[i], ex.text, ex.words,
                                                                      ex.word_segments)
            problem = self._unexplainable(ex, enc, problems.get(ex.index))
            if problem is not None:
                self._fail(run, ex, problem)
            examples.append(ex)
        run.dataset["truncated"] = sum(ex.truncated for ex in examples)
        return examples

    def _encode(self, rows: list[int], texts: list[str], pairs: list[str] | None) -> list[Any]:
        """The rows' texts (blank ones as empty texts) and second segments, encoded."""
        blank = lambda text: text if text.strip() else ""  # noqa: E731
        return self.classifier.encode([blank(texts[row]) for row in rows],
                                      None if pairs is None else [blank(pairs[row]) for row in rows],
                                      self.windows.longest if self.windows is not None else None)

    def _unexplainable(self, ex: Example, enc: Any, problem: str | None) -> str | None:
        """Why ``ex`` cannot be explained, or None."""
        if problem is not None:
            return problem
        if not ex.text.strip():
            return "text is empty"
        if ex.text_pair is not None and not ex.text_pair.strip():
            return "target is empty" if self.classifier.task.reads_references else "text pair is empty"
        if isinstance(enc, str):
            return f"the tokenizer failed: {enc}"
        if not enc.words:
            return "text has no tokens after tokenisation"
        if not ex.has_label and self.config.target == "label":
            return "no label to explain"
        return None

    def _explain_all(self, examples: list[Example], run: RunResult, predicted: bool = False) -> None:
        """Every method over ``examples`` in planned batches, each batch predicted first unless ``predicted``."""
        plan = self.runner.batches([len(ex.input_ids) for ex in examples])
        trimmer = HeapTrimmer()
        with ProgressBars(list(self.explainers), len(examples), self.progress) as bars:
            for number, positions in enumerate(plan):
                self._run_batch(number, [examples[i] for i in positions], run, bars, predicted)
                if self.trim_heap:
                    trimmer.after_batch()

    def _predict_all(self, examples: list[Example], run: RunResult) -> None:
        """The model's answer for every example, in planned batches (before a per-label task expands them)."""
        for number, positions in enumerate(self.runner.batches([len(ex.input_ids) for ex in examples])):
            part = [examples[i] for i in positions]
            self._answer(number, part, Batch(self.runner, part), run)

    def _units(self, run: RunResult) -> list[Example]:
        """Each row once per label it is explained for (at least once, so that no row goes missing: a row with
        no label to explain, or a failed one, stays as one unit without a target), numbered in row order.
        The failures recorded so far are of rows, and move to their row's unit."""
        units: list[Example] = []
        for row in run.examples:
            chosen = self.classifier.task.units(row, self.config.target) if row.ok else []
            for fields in chosen or [{"target": None}]:
                units.append(replace(row, index=len(units), source=row.index, **fields))
        unit_of_row = {unit.source: unit.index for unit in units if not unit.ok}
        for failure in run.failures:
            failure.example = unit_of_row[failure.example]
        return units

    def _explain_windows(self, run: RunResult) -> None:
        """Long documents (--long-text window): each row predicted from its windows, every method run on each
        window (a row the model reads whole is its own one window, of its own index), then each row's windows'
        scores merged into the row's."""
        self._predict_all([ex for ex in run.examples if ex.ok], run)
        rows = [ex for ex in run.examples if ex.ok and ex.target is not None]
        first_free = max((ex.index for ex in run.examples), default=-1) + 1
        units, windows_of = [], {}
        for row in rows:
            parts = self.windows.units(row)
            if len(parts) > 1:
                parts = [replace(part, index=first_free + len(units) + n) for n, part in enumerate(parts)]
                units += parts
            windows_of[row.index] = [part.index for part in parts]
        self._explain_all(sorted([row for row in rows if len(windows_of[row.index]) == 1] + units,
                                 key=lambda ex: ex.index), run, predicted=True)
        merge_windows(run, rows, windows_of, self.windows)

    def _run_batch(self, number: int, examples: list[Example], run: RunResult, bars: ProgressBars,
                   predicted: bool = False) -> None:
        batch = self._batch(examples)
        ok = examples if predicted else self._answer(number, examples, batch, run)
        if len(ok) < len(examples) and ok:
            batch = self._batch(ok)
        for name, explainer in self.explainers.items():
            unit = self.checkpoint.unit(name, number, ok) if self.checkpoint else None
            if ok and unit is None:
                unit = self._compute_unit(batch, explainer)
                if self.checkpoint:
                    self.checkpoint.save_unit(name, number, unit)
            if unit is not None:
                self._absorb_unit(run, name, unit)
            bars.advance(name, len(examples), run.methods[name].seconds)

    def _answer(self, number: int, examples: list[Example], batch: Batch, run: RunResult) -> list[Example]:
        """The model's answers for batch ``number`` (stored ones, else predicted and stored), recorded on its
        examples; the examples it answered."""
        stored = self.checkpoint.outcomes(number, examples) if self.checkpoint else None
        if stored is None:
            started = time.perf_counter()
            stored = self._predict(batch)
            run.timings["predict"] = run.timings.get("predict", 0.0) + time.perf_counter() - started
            if self.checkpoint:
                self.checkpoint.save_outcomes(number, stored)
        return [ex for ex, outcome in zip(examples, stored) if self._absorb_outcome(ex, outcome, run)]

    def _predict(self, batch: Batch) -> list[dict[str, Any]]:
        """Per example its class probabilities, or the error that stopped the model."""
        def work(examples: list[Example]) -> list[dict[str, Any]]:
            part = self._part(batch, examples)
            if self.classifier.task.answers_first:
                answers = self.classifier.task.answers(self.runner, examples)
            else:
                answers = part.predict() if self.windows is None else self.runner.window_probabilities(examples)
            return [{"example": ex.index, **self.classifier.task.outcome(probs, len(ex.input_ids))}
                    for ex, probs in zip(part.examples, answers)]

        return isolate(batch.examples, work, lambda ex, err: {"example": ex.index, "error": reason(err)})

    def _absorb_outcome(self, ex: Example, outcome: dict[str, Any], run: RunResult) -> bool:
        if "error" in outcome:
            self._fail(run, ex, outcome["error"])
            return False
        self.classifier.task.absorb(ex, outcome, self.config.target, self.config.threshold)
        return True

    def stored_or_computed(self, name: str, explainer: Explainer, key: str, batch: Batch) -> Unit:
        """A method's work on a batch of a later pass (the errors' contrast, the sanity checks): stored by an
        earlier, interrupted run (in the method's checkpoint file, under its own key), else computed and stored."""
        unit = self.checkpoint.unit(name, key, batch.examples) if self.checkpoint else None
        if unit is None:
            unit = self._compute_unit(batch, explainer)
            if self.checkpoint:
                self.checkpoint.save_unit(name, key, unit)
        return unit

    def _compute_unit(self, batch: Batch, explainer: Explainer) -> Unit:
        started, evaluations = time.perf_counter(), batch.runner.evaluations
        outcomes = isolate(batch.examples, lambda examples: explainer.attribute(self._part(batch, examples)),
                           lambda ex, err: Failure(ex.index, reason(err), explainer.name))
        unit = Unit()
        for ex, outcome in zip(batch.examples, outcomes):
            if isinstance(outcome, Failure):
                unit.failures.append(outcome)
            else:
                unit.attributions.append(_attribution(explainer.name, ex, outcome))
        unit.seconds = time.perf_counter() - started
        unit.evaluations = batch.runner.evaluations - evaluations
        return unit

    @staticmethod
    def _absorb_unit(run: RunResult, name: str, unit: Unit) -> None:
        info = run.methods[name]
        info.seconds += unit.seconds
        info.model_evaluations += unit.evaluations
        info.examples += len(unit.attributions)
        for attribution in unit.attributions:
            run.add(attribution)
        run.failures.extend(unit.failures)

    def _batch(self, examples: list[Example], runner: ModelRunner | None = None) -> Batch:
        """A batch of ``examples`` for the run's model, or for ``runner``'s (the sanity checks' randomised one)."""
        want = any(ex.needs_attentions for ex in self.explainers.values())
        return Batch(runner or self.runner, examples, want_attentions=want)

    def _part(self, batch: Batch, examples: list[Example]) -> Batch:
        """The batch itself for all of its examples (its shared outputs are reused), else a new one."""
        return batch if examples is batch.examples else self._batch(examples, batch.runner)

    @staticmethod
    def _fail(run: RunResult, ex: Example, why: str) -> None:
        ex.error = why
        run.failures.append(Failure(example=ex.index, reason=why))


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
