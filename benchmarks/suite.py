"""Speed, side by side in one run: the model's limit, reportgen per method, the reference libraries.

    python benchmarks/suite.py                       # the demo model, 40 held-out reviews, 3 repetitions
    python benchmarks/suite.py --model DIR --examples 4 --reps 1 --quality-examples 2 --out /tmp/r.md

Writes a Markdown report (default benchmarks/RESULTS.md). Efficiency of a method is the time the
model alone would need for the real (unpadded) tokens the method evaluated, at the limit's
tokens/s (forward-only or forward+backward as the call was), divided by the method's wall time.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from references import References, Sample  # noqa: E402

from reportgen.data import Dataset, stratified_sample  # noqa: E402
from reportgen.engine import Engine, RunConfig  # noqa: E402
from reportgen.modeling import Classifier, load_classifier  # noqa: E402
from reportgen.runner import ModelRunner  # noqa: E402
from reportgen.versions import package_versions  # noqa: E402

BATCH_SIZES = (1, 8, 16, 32, 64, 128)
# Settings shared by reportgen and the references in the side-by-side comparison.
EQUAL_SETTINGS = {
    "integrated_gradients": {"n_steps": 50, "method": "gausslegendre"},
    "saliency": {},
    "grad_x_input": {},
    "occlusion": {},
    "lime": {"num_samples": 500},
    "shap": {"max_evals": 500},
}
BUDGETS = {
    "integrated_gradients": ("n_steps", (4, 8, 12, 16, 24, 32, 50)),
    "lime": ("num_samples", (100, 200, 300, 500, 1000)),
    "shap": ("max_evals", (64, 128, 256, 500)),
}
REFERENCE_BUDGETS = {"integrated_gradients": 50, "lime": 5000, "shap": 500}
REFERENCE_DEFAULTS = {"integrated_gradients": "Captum IG, 50 Riemann (trapezoid) steps",
                      "lime": "lime, 5,000 samples", "shap": "shap Partition, max_evals 500"}
LIME_SCORE_TOLERANCE = 0.02


@dataclass
class Timing:
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def spread(self, scale: float = 1.0, digits: int = 3) -> str:
        return (f"{self.median * scale:.{digits}g} ({min(self.values) * scale:.{digits}g}-"
                f"{max(self.values) * scale:.{digits}g})")


def repeat(fn: Callable[[], object], reps: int) -> Timing:
    timing = Timing()
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        timing.values.append(time.perf_counter() - started)
    return timing


# ---------------------------------------------------------------- the examples


def benchmark_data(classifier: Classifier, n: int, seed: int) -> tuple[Dataset, list[Sample]]:
    from reportgen.default import load_corpus

    held = load_corpus().held_out
    data = held.subset(stratified_sample(held.labels, n, seed))
    encoded = classifier.encode(data.texts)
    probs = ModelRunner(classifier).predict_ids([e.input_ids for e in encoded])
    samples = [Sample(text, e.input_ids, int(p.argmax())) for text, e, p in zip(data.texts, encoded, probs)]
    return data, samples


# ---------------------------------------------------------------- 1. the limit


@dataclass
class Limit:
    rows: list[dict]
    tokens_per_s: dict[str, float]


def model_limit(classifier: Classifier, samples: list[Sample], reps: int, copies: int = 4) -> Limit:
    runner = ModelRunner(classifier)
    ids = [s.ids for s in samples] * copies
    targets = [s.target for s in samples] * copies
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    real = sum(len(i) for i in ids)
    rows, best = [], {"forward": 0.0, "gradient": 0.0}
    for kind in ("forward", "gradient"):
        for size in BATCH_SIZES:
            chunks = [order[s : s + size] for s in range(0, len(order), size)]
            timing = repeat(lambda: _pass(runner, ids, targets, chunks, kind), reps)
            row = {"kind": kind, "batch": size, "seq_s": len(ids) / timing.median,
                   "tok_s": real / timing.median, "timing": timing}
            rows.append(row)
            best[kind] = max(best[kind], row["tok_s"])
    return Limit(rows, best)


def _pass(runner: ModelRunner, ids, targets, chunks, kind: str) -> None:
    model = runner.model
    for chunk in chunks:
        batch_ids, mask = runner.pad([ids[i] for i in chunk])
        if kind == "forward":
            with torch.no_grad():
                model(input_ids=batch_ids, attention_mask=mask)
            continue
        embeds = model.get_input_embeddings()(batch_ids).detach().requires_grad_(True)
        logits = model(inputs_embeds=embeds, attention_mask=mask).logits
        chosen = logits.gather(1, torch.tensor([targets[i] for i in chunk])[:, None].to(logits.device))
        torch.autograd.grad(chosen.sum(), embeds)


# ---------------------------------------------------------------- 2. reportgen per method


@dataclass
class MethodRun:
    timing: Timing
    evaluations: int
    tokens: dict[str, int]
    run: object


def run_reportgen(classifier, data: Dataset, method: str, params: dict, reps: int) -> MethodRun:
    timing, last = Timing(), None
    for _ in range(reps):
        engine = Engine(classifier, RunConfig(methods=[method], method_params={method: params}, metrics=[]),
                        progress=False)
        run = engine.run(data)
        timing.values.append(run.timings["explain"])
        last = MethodRun(timing, engine.runner.evaluations, dict(engine.runner.real_tokens), run)
    return last


def efficiency(method_run: MethodRun, limit: Limit) -> float:
    ideal = sum(method_run.tokens[kind] / limit.tokens_per_s[kind] for kind in method_run.tokens)
    return ideal / method_run.timing.median


# ---------------------------------------------------------------- 3. references


def reference_timing(refs: References, method: str, samples: list[Sample], reps: int) -> Timing:
    settings = EQUAL_SETTINGS[method]
    calls = {
        "integrated_gradients": lambda s: refs.integrated_gradients(s, **settings),
        "saliency": refs.saliency,
        "grad_x_input": refs.grad_x_input,
        "occlusion": refs.occlusion,
        "lime": lambda s: refs.lime(s, num_samples=settings["num_samples"]),
        "shap": lambda s: refs.shap(s, max_evals=settings["max_evals"]),
    }
    return repeat(lambda: [calls[method](s) for s in samples], reps)


# ---------------------------------------------------------------- 4. equal quality


@dataclass
class QualityRow:
    method: str
    reference: str
    reference_quality: float
    reference_seconds: float
    budget_rows: list[tuple[int, float, float]]
    chosen: int | None
    quality_name: str

    @property
    def chosen_seconds(self) -> float | None:
        return next((sec for budget, _, sec in self.budget_rows if budget == self.chosen), None)


def equal_quality(classifier, refs: References, data: Dataset, samples: list[Sample]) -> list[QualityRow]:
    n = len(samples)
    rows = []
    started = time.perf_counter()
    deltas = [refs.integrated_gradients(s, n_steps=REFERENCE_BUDGETS["integrated_gradients"],
                                      method="riemann_trapezoid") for s in samples]
    ref_seconds = (time.perf_counter() - started) / n
    rows.append(_budget_search(classifier, data, "integrated_gradients", "median |convergence delta|",
                               np.median(deltas), ref_seconds, lambda a: abs(a.extra["delta"]),
                               lambda value, ref: value <= ref))
    started = time.perf_counter()
    scores = [refs.lime(s, num_samples=REFERENCE_BUDGETS["lime"]) for s in samples]
    ref_seconds = (time.perf_counter() - started) / n
    rows.append(_budget_search(classifier, data, "lime", "median local surrogate score (R^2)",
                               np.median(scores), ref_seconds, lambda a: a.extra["surrogate_r2"],
                               lambda value, ref: value >= ref - LIME_SCORE_TOLERANCE))
    started = time.perf_counter()
    gaps = [refs.shap(s, max_evals=REFERENCE_BUDGETS["shap"]) for s in samples]
    ref_seconds = (time.perf_counter() - started) / n
    rows.append(_budget_search(classifier, data, "shap", "median |additivity error|", np.median(gaps), ref_seconds,
                               lambda a: abs(a.extra["additivity_gap"]),
                               lambda value, ref: value <= max(ref, 1e-6)))
    return rows


def _budget_search(classifier, data, method, quality_name, reference_quality, reference_seconds, measure, good):
    key, budgets = BUDGETS[method]
    budget_rows, chosen = [], None
    for budget in budgets:
        result = run_reportgen(classifier, data, method, {key: budget}, reps=1)
        values = [measure(a) for a in result.run.attributions[method].values()]
        quality = float(np.median(values))
        budget_rows.append((budget, quality, result.timing.median / len(data)))
        if chosen is None and good(quality, reference_quality):
            chosen = budget
    return QualityRow(method, REFERENCE_DEFAULTS[method], float(reference_quality), reference_seconds,
                      budget_rows, chosen, quality_name)


# ---------------------------------------------------------------- the report


def markdown(args, classifier, limit: Limit, ours: dict, theirs: dict, quality: list[QualityRow],
             n: int, wall: float) -> str:
    versions = package_versions()
    lines = [
        "# Benchmark results", "",
        f"One run of `python benchmarks/suite.py {' '.join(sys.argv[1:])}`, {time.strftime('%Y-%m-%d')}.", "",
        f"- machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"device {classifier.device}",
        f"- model: {classifier.info.get('display_name') or classifier.name} ({classifier.info['parameters']:,} "
        f"parameters)",
        f"- examples: {n} held-out reviews (seeded, class-stratified), "
        f"{np.mean([len(s.ids) for s in args.samples]):.1f} tokens on average",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- repetitions: {args.reps}; cells show median (min-max)",
        f"- whole benchmark wall time: {wall:.0f} s; peak resident memory: {peak_rss_mb():.0f} MB", "",
        "## 1. The limit: the model alone, length-sorted, dynamically padded", "",
        "| pass | batch | sequences/s | real tokens/s |", "|---|---|---|---|",
    ]
    for row in limit.rows:
        lines.append(f"| {row['kind']} | {row['batch']} | {row['seq_s']:.0f} | {row['tok_s']:.0f} |")
    lines += ["", f"Best: forward {limit.tokens_per_s['forward']:.0f} tokens/s, forward+backward "
              f"{limit.tokens_per_s['gradient']:.0f} tokens/s.", "",
              "## 2 and 3. reportgen and the references at equal settings", "",
              "Settings: " + "; ".join(f"{m} {s or 'defaults'}" for m, s in EQUAL_SETTINGS.items()) + ". "
              "References run one example at a time as their users run them: Captum LayerIntegratedGradients, "
              "Saliency, InputXGradient and FeatureAblation (one perturbed input per call, its default); shap's "
              "Partition explainer with its default batching; lime with a classifier function that predicts its "
              "strings in order in chunks of 64.", "",
              "| method | reportgen s/example | model evaluations/example | efficiency | reference s/example | "
              "reportgen / reference time |", "|---|---|---|---|---|---|"]
    total_ours = total_theirs = 0.0
    for method, result in ours.items():
        reference = theirs.get(method)
        ratio = result.timing.median / reference.median if reference else None
        lines.append(
            f"| {method} | {result.timing.spread(1 / n)} | {result.evaluations / n:.1f} | "
            f"{efficiency(result, limit):.2f} | {reference.spread(1 / n) if reference else '-'} | "
            f"{f'{ratio:.2f}' if ratio else '-'} |")
        if reference:
            total_ours += result.timing.median
            total_theirs += reference.median
    lines += ["", f"Whole suite at equal settings: reportgen {total_ours / n:.3f} s/example, references "
              f"{total_theirs / n:.3f} s/example: **{total_theirs / total_ours:.2f}x faster**.", "",
              "## 4. Equal quality rather than equal settings", "",
              f"Measured on the first {len(args.quality_samples)} examples, one repetition each.", ""]
    saved_ours = saved_theirs = 0.0
    for row in quality:
        lines += [f"**{row.method}**: reference = {row.reference}, {row.quality_name} = "
                  f"{row.reference_quality:.4g}, {row.reference_seconds:.3f} s/example.", "",
                  "| budget | reportgen quality | reportgen s/example |", "|---|---|---|"]
        lines += [f"| {b} | {q:.4g} | {s:.3f} |" for b, q, s in row.budget_rows]
        if row.chosen is not None:
            lines += ["", f"Smallest budget that reaches the reference's quality: **{row.chosen}**, "
                      f"{row.reference_seconds / row.chosen_seconds:.1f}x faster than the reference default.", ""]
            saved_ours += row.chosen_seconds
            saved_theirs += row.reference_seconds
        else:
            lines += ["", "No budget tried reaches the reference's quality.", ""]
    cheap = [m for m in ours if m not in BUDGETS and m in theirs]
    saved_ours += sum(ours[m].timing.median / n for m in cheap)
    saved_theirs += sum(theirs[m].median / n for m in cheap)
    if saved_ours:
        lines += [f"Whole suite at equal quality (the budgets above, plus {', '.join(cheap)} at equal settings): "
                  f"reportgen {saved_ours:.3f} s/example, references at their defaults {saved_theirs:.3f} "
                  f"s/example: **{saved_theirs / saved_ours:.2f}x faster**.", ""]
    return "\n".join(lines) + "\n"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder [default: the demo's fine-tuned model]")
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--quality-examples", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "RESULTS.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    classifier = _classifier(args.model)
    data, args.samples = benchmark_data(classifier, args.examples, args.seed)
    quality_data = data.subset(range(min(args.quality_examples, len(data))))
    args.quality_samples = args.samples[: len(quality_data)]
    refs = References(classifier)
    _step("limit")
    limit = model_limit(classifier, args.samples, args.reps)
    ours, theirs = {}, {}
    for method, settings in EQUAL_SETTINGS.items():
        _step(method)
        ours[method] = run_reportgen(classifier, data, method, settings, args.reps)
        theirs[method] = reference_timing(refs, method, args.samples, args.reps)
    _step("layer_integrated_gradients, attention, attention_rollout, random (no reference)")
    for method in ("layer_integrated_gradients", "attention", "attention_rollout", "random"):
        ours[method] = run_reportgen(classifier, data, method, {}, args.reps)
    _step("equal quality")
    quality = equal_quality(classifier, refs, quality_data, args.quality_samples)
    text = markdown(args, classifier, limit, ours, theirs, quality, len(data), time.perf_counter() - started)
    args.out.write_text(text)
    print(text)
    return text


def _classifier(model: str | None) -> Classifier:
    if model:
        return load_classifier(model)
    from reportgen.default import default_model_dir

    folder = default_model_dir()
    classifier = load_classifier(folder)
    classifier.info["display_name"] = "all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes (the demo model)"
    return classifier


def _step(name: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {name}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
