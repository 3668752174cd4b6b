"""A misclassified example explained once more, for the class the run did not explain: with --target pred its
true class, with --target label its predicted one, so that the report can say why this class and not that.

Only the methods whose scores depend on the class run again (attention, rollout and the random control give
every class the same scores). Its work is stored as it is done, as the main pass's is, so a resumed run redoes
none of it. The scores go into the example's attribution, under ``extra["contrast"]``; the
methods' cost figures count only the main pass (this pass is timed apart, in ``timings["contrast"]``)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from ..results.records import Example, RunResult
from .progress import ProgressBars


def contrast_target(ex: Example) -> int | None:
    """The class an error's contrast explains: the one of its true and predicted class that it was not
    explained for; None for an example that is not a labeled, explained error."""
    if not ex.ok or not ex.has_label or ex.prediction is None or ex.label == ex.prediction:
        return None
    if ex.target == ex.prediction:
        return ex.label
    return ex.prediction if ex.target == ex.label else None


def explain_contrasts(engine: Any, run: RunResult) -> None:
    """Every class-dependent method of ``engine`` over the run's errors, for their contrast class."""
    methods = {name: explainer for name, explainer in engine.explainers.items() if type(explainer).reads_target}
    errors = [replace(ex, target=other) for ex in run.examples if (other := contrast_target(ex)) is not None]
    if not methods or not errors:
        return
    started = time.perf_counter()
    plan = engine.runner.batches([len(ex.input_ids) for ex in errors])
    with ProgressBars([f"{name} (contrast)" for name in methods], len(errors), engine.progress,
                      stage="explain the errors' other class") as bars:
        for number, positions in enumerate(plan):
            batch = engine._batch([errors[i] for i in positions])
            for name, explainer in methods.items():
                unit = engine.stored_or_computed(name, explainer, f"contrast {number}", batch)
                _keep(run, name, batch.examples, unit)
                bars.advance(f"{name} (contrast)", len(positions), unit.seconds)
    run.timings["contrast"] = time.perf_counter() - started


def _keep(run: RunResult, name: str, examples: list[Example], unit: Any) -> None:
    target_of = {ex.index: ex.target for ex in examples}
    for attribution in unit.attributions:
        main = run.attributions[name].get(attribution.example)
        if main is not None:
            main.extra["contrast"] = {"target": target_of[attribution.example], "tokens": attribution.tokens,
                                      "words": attribution.words}
    for failure in unit.failures:  # the main explanation stands; the contrast says why it is missing
        main = run.attributions[name].get(failure.example)
        if main is not None:
            main.extra["contrast"] = {"target": target_of[failure.example], "error": failure.reason}
