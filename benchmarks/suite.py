"""Speed, side by side in one run: the model's limit, reportgen per method, the reference libraries.

    python benchmarks/suite.py                       # the demo model, 40 held-out reviews, 3 repetitions
    python benchmarks/suite.py --model DIR --examples 4 --reps 1 --quality-examples 2 --out /tmp/r.md

Writes a Markdown report (default benchmarks/RESULTS.md). Efficiency of a method is the time the
model alone would need for the real (unpadded) tokens the method evaluated, at the limit's
tokens/s for each kind of call (forward only, forward returning attention weights, or
forward+backward), divided by the method's wall time.
The limit is the model on the benchmark's own examples in length-sorted batches of the best
fixed size: the padding those examples force on any batching is in the limit too.
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
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from references import HELDOUT_SEED_OFFSET, References, Sample, heldout_surrogate_score  # noqa: E402

from reportgen.explain.batching import ModelRunner  # noqa: E402
from reportgen.explain.engine import Engine  # noqa: E402
from reportgen.load.data import Dataset, stratified_sample  # noqa: E402
from reportgen.load.model import Classifier, autocast, load_classifier  # noqa: E402
from reportgen.options import RunConfig  # noqa: E402
from reportgen.results.provenance import package_versions  # noqa: E402

BATCH_SIZES = (1, 8, 16, 32, 64, 128)
PASSES = ("forward", "attention", "gradient")  # the kinds of model call ModelRunner counts tokens for
# Settings shared by reportgen and the references in the side-by-side comparison.
EQUAL_SETTINGS = {
    "integrated_gradients": {"n_steps": 50, "method": "gausslegendre"},
    "saliency": {},
    "grad_x_input": {},
    "occlusion": {},
    "lime": {"num_samples": 500},
    "shap": {"max_evals": 500},
    "layer_integrated_gradients": {"n_steps": 16, "method": "gausslegendre"},
}
BUDGETS = {
    "integrated_gradients": ("n_steps", (4, 8, 12, 16, 24, 32, 50)),
    "layer_integrated_gradients": ("n_steps", (4, 6, 8, 12, 16, 24)),
    "lime": ("num_samples", (200, 500, 1000, 2000, 3000, 5000)),
    "shap": ("max_evals", (32, 64, 96, 128, 256, 500)),
}
REFERENCE_BUDGETS = {"integrated_gradients": 50, "layer_integrated_gradients": 50, "lime": 5000, "shap": 500}
REFERENCE_DEFAULTS = {
    "integrated_gradients": "Captum LayerIntegratedGradients on the word embeddings, 50 Riemann (trapezoid) steps",
    "layer_integrated_gradients": "Captum LayerIntegratedGradients on each of the same layers, 50 Riemann "
                                  "(trapezoid) steps",
    "lime": "lime's LimeTextExplainer with its defaults, 5,000 samples",
    "shap": "shap's Partition explainer with a Text masker, max_evals 500",
}
LIME_SCORE_TOLERANCE = 0.01  # about the sampling error of a weighted R^2 on 500 fresh samples
SHAP_CONVERGED = 4000
BF16_MIN_SPEARMAN = 0.95  # the stated tolerance of --precision bfloat16 (README)
BF16_MAX_PROBABILITY_GAP = 0.02
DENSE_COPIES = 4
IG = "integrated_gradients"


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
    from reportgen.load.demo import load_corpus

    held = load_corpus().held_out
    data = held.subset(stratified_sample(held.labels, n, seed))
    encoded = classifier.encode(data.texts)
    probs = ModelRunner(classifier).predict_ids([e.input_ids for e in encoded])
    samples = [Sample(text, e.input_ids, int(p.argmax())) for text, e, p in zip(data.texts, encoded, probs)]
    return data, samples


# ---------------------------------------------------------------- 1. the limit


@dataclass
class Probe:
    """Times the model alone on fixed batches of the samples (length-sorted), ``passes`` passes per timing."""

    runner: ModelRunner
    ids: list[list[int]]
    targets: list[int]
    passes: int

    def rate(self, kind: str, size: int, reps: int) -> dict:
        order = sorted(range(len(self.ids)), key=lambda i: len(self.ids[i]))
        chunks = [order[s : s + size] for s in range(0, len(order), size)]
        timing = repeat(lambda: [_pass(self.runner, self.ids, self.targets, chunks, kind)
                                 for _ in range(self.passes)], reps)
        real = sum(len(i) for i in self.ids) * self.passes
        padded = sum(max(len(self.ids[i]) for i in chunk) * len(chunk) for chunk in chunks) * self.passes
        return {"kind": kind, "batch": size, "seq_s": len(self.ids) * self.passes / timing.median,
                "tok_s": real / timing.median, "padding": 1 - real / padded, "timing": timing}


@dataclass
class Limit:
    rows: list[dict]
    probe: Probe

    def best(self, kind: str) -> dict:
        return max((row for row in self.rows if row["kind"] == kind), key=lambda row: row["tok_s"])

    @property
    def tokens_per_s(self) -> dict[str, float]:
        return {kind: self.best(kind)["tok_s"] for kind in PASSES}

    def again(self) -> dict[str, float]:
        """Tokens/s of every kind at its best batch size, timed once more now."""
        return {kind: self.probe.rate(kind, self.best(kind)["batch"], 1)["tok_s"] for kind in PASSES}


def model_limit(classifier: Classifier, samples: list[Sample], reps: int, copies: int = 1,
                passes: int = 4, precision: str = "float32") -> Limit:
    """The model alone on the samples in every fixed batch size of ``BATCH_SIZES``.

    With ``copies`` > 1 every sample is repeated, which packs the lengths more densely than the
    samples themselves allow: batches then carry less padding than any run on these samples can.
    """
    probe = Probe(ModelRunner(classifier, precision=precision), [s.ids for s in samples] * copies,
                  [s.target for s in samples] * copies, passes)
    sizes = sorted({min(size, len(probe.ids)) for size in BATCH_SIZES})
    return Limit([probe.rate(kind, size, reps) for kind in PASSES for size in sizes], probe)


def _pass(runner: ModelRunner, ids, targets, chunks, kind: str) -> None:
    model = runner.model
    for chunk in chunks:
        batch_ids, mask = runner.pad([ids[i] for i in chunk])
        if kind != "gradient":
            with torch.no_grad(), autocast(runner.device, runner.precision):
                model(input_ids=batch_ids, attention_mask=mask, output_attentions=kind == "attention")
            continue
        embeds = model.get_input_embeddings()(batch_ids).detach().requires_grad_(True)
        with autocast(runner.device, runner.precision):
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
    beside: list[dict[str, float]] = field(default_factory=list)  # the limit timed again before each repetition


def run_reportgen(classifier, data: Dataset, method: str, params: dict, reps: int,
                  precision: str = "float32", limit: Limit | None = None) -> MethodRun:
    """``reps`` runs of one method; with ``limit``, the limit is timed again before each run."""
    timing, beside, last = Timing(), [], None
    for _ in range(reps):
        if limit is not None:
            beside.append(limit.again())
        config = RunConfig(methods=[method], method_params={method: params}, metrics=[], precision=precision)
        engine = Engine(classifier, config, progress=False)
        run = engine.run(data)
        timing.values.append(run.timings["explain"])
        last = MethodRun(timing, engine.runner.evaluations, dict(engine.runner.real_tokens), run, beside)
    return last


def limit_rates(method_run: MethodRun, limit: Limit) -> dict[str, float]:
    """Tokens/s per kind the method is measured against: the limit timed beside it, when it was."""
    if not method_run.beside:
        return limit.tokens_per_s
    return {kind: statistics.median(b[kind] for b in method_run.beside) for kind in PASSES}


def efficiency(method_run: MethodRun, limit: Limit) -> float:
    """Model-alone time for the method's tokens, over the method's time."""
    rates = limit_rates(method_run, limit)
    ideal = sum(count / rates[kind] for kind, count in method_run.tokens.items() if count)
    return ideal / method_run.timing.median


def used_rates(method_run: MethodRun, limit: Limit) -> str:
    """The limit's tokens/s for the kinds of call the method made, as table text."""
    rates = limit_rates(method_run, limit)
    return "; ".join(f"{kind} {rates[kind]:.0f}" for kind in PASSES if method_run.tokens.get(kind))


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
        "layer_integrated_gradients": lambda s: refs.layer_integrated_gradients(s, **settings),
    }
    return repeat(lambda: [calls[method](s) for s in samples], reps)


# ---------------------------------------------------------------- 4. equal quality


@dataclass
class Criterion:
    """A quality measure (the median over examples) and the value the reference reaches."""

    name: str
    reference: float
    higher_is_better: bool = False
    tolerance: float = 0.0

    def met(self, value: float) -> bool:
        if self.higher_is_better:
            return value >= self.reference - self.tolerance
        return value <= self.reference + self.tolerance


@dataclass
class QualityRow:
    """One method's budget search; the first criterion decides, the others are shown beside it."""

    method: str
    reference: str
    reference_seconds: float
    criteria: list[Criterion]
    budget_rows: list[tuple[int, list[float], float]]
    chosen: int | None

    @property
    def chosen_seconds(self) -> float | None:
        return next((sec for budget, _, sec in self.budget_rows if budget == self.chosen), None)


def timed(fn: Callable[[Sample], object], samples: list[Sample]) -> tuple[list, float]:
    """Each sample's result and the mean seconds per sample."""
    started = time.perf_counter()
    results = [fn(s) for s in samples]
    return results, (time.perf_counter() - started) / max(len(samples), 1)


def equal_quality(classifier, refs: References, data: Dataset, samples: list[Sample]) -> list[QualityRow]:
    return [quality_of_ig(classifier, refs, data, samples), quality_of_layer_ig(classifier, refs, data, samples),
            quality_of_lime(classifier, refs, data, samples), quality_of_shap(classifier, refs, data, samples)]


def quality_of_ig(classifier, refs, data, samples) -> QualityRow:
    steps = REFERENCE_BUDGETS["integrated_gradients"]
    deltas, seconds = timed(lambda s: refs.integrated_gradients(s, n_steps=steps, method="riemann_trapezoid"),
                            samples)
    criterion = Criterion("median |convergence delta|", float(np.median(deltas)))
    return _budget_search(classifier, data, "integrated_gradients", seconds, [criterion],
                          lambda run: [[abs(a.extra["delta"]) for a in run.attributions["integrated_gradients"].values()]])


def quality_of_layer_ig(classifier, refs, data, samples) -> QualityRow:
    steps = REFERENCE_BUDGETS["layer_integrated_gradients"]
    deltas, seconds = timed(lambda s: refs.layer_integrated_gradients(s, n_steps=steps), samples)
    criterion = Criterion("median of the largest |convergence delta| over layers", float(np.median(deltas)))

    def measure(run):
        return [[max(abs(d) for d in a.extra["deltas"]) for a in run.attributions["layer_integrated_gradients"].values()]]

    return _budget_search(classifier, data, "layer_integrated_gradients", seconds, [criterion], measure)


def quality_of_lime(classifier, refs, data, samples) -> QualityRow:
    results, seconds = timed(lambda s: refs.lime(s, num_samples=REFERENCE_BUDGETS["lime"]), samples)
    heldout = [refs.lime_heldout(s, r) for s, r in zip(samples, results)]
    criteria = [
        Criterion("median surrogate R^2 on fresh samples", float(np.median(heldout)), True, LIME_SCORE_TOLERANCE),
        Criterion("median surrogate R^2 on its own samples (lime's score)",
                  float(np.median([r.score for r in results])), True, LIME_SCORE_TOLERANCE),
    ]

    def measure(run):
        return [lime_heldout_scores(classifier, run), [a.extra["surrogate_r2"] for a in run.attributions["lime"].values()]]

    return _budget_search(classifier, data, "lime", seconds, criteria, measure)


def lime_heldout_scores(classifier, run) -> list[float]:
    """reportgen's LIME surrogates scored on fresh samples drawn with reportgen's settings."""
    from lime.lime_text import IndexedString

    from reportgen.explainers import explainers
    from reportgen.explain.perturbed import visible_text
    from reportgen.explain.pooling import example_seed

    lime = explainers.get("lime")(**run.methods["lime"].params)
    predict = ModelRunner(classifier).predict_texts
    scores = []
    for ex in run.examples:
        attribution = run.attributions["lime"].get(ex.index)
        if attribution is None:
            continue
        words = list(ex.words)
        indexed = IndexedString(visible_text(classifier, ex), split_expression=lambda t: words, bow=False,
                                mask_string=lime.params["mask_string"])
        fresh = lime.lime_explainer(words, example_seed(run.config["seed"], ex.index) + HELDOUT_SEED_OFFSET)
        surrogate = (attribution.extra["intercept"], dict(enumerate(attribution.words)))
        scores.append(heldout_surrogate_score(fresh, indexed, predict, ex.target, surrogate))
    return scores


def quality_of_shap(classifier, refs, data, samples) -> QualityRow:
    results, seconds = timed(lambda s: refs.shap(s, max_evals=REFERENCE_BUDGETS["shap"]), samples)
    converged = [refs.shap(s, max_evals=SHAP_CONVERGED)[1] for s in samples]
    criteria = [
        Criterion(f"median relative L1 distance to the scores at max_evals {SHAP_CONVERGED}",
                  float(np.median([relative_l1(values, best) for (_, values), best in zip(results, converged)]))),
        Criterion("median |additivity error|", float(np.median([gap for gap, _ in results])), tolerance=1e-6),
    ]
    best = run_reportgen(classifier, data, "shap", {"max_evals": SHAP_CONVERGED}, reps=1).run.attributions["shap"]

    def measure(run):
        scores = run.attributions["shap"]
        return [[relative_l1(a.words, best[i].words) for i, a in scores.items()],
                [abs(a.extra["additivity_gap"]) for a in scores.values()]]

    return _budget_search(classifier, data, "shap", seconds, criteria, measure)


def relative_l1(values, reference) -> float:
    values, reference = np.asarray(values, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    scale = np.abs(reference).sum()
    return float(np.abs(values - reference).sum() / scale) if scale > 0 else 0.0


def _budget_search(classifier, data, method, reference_seconds, criteria, measure) -> QualityRow:
    key, budgets = BUDGETS[method]
    budget_rows, chosen = [], None
    for budget in budgets:
        result = run_reportgen(classifier, data, method, {key: budget}, reps=1)
        values = [float(np.median(column)) for column in measure(result.run)]
        budget_rows.append((budget, values, result.timing.median / len(data)))
        if chosen is None and criteria[0].met(values[0]):
            chosen = budget
    return QualityRow(method, REFERENCE_DEFAULTS[method], reference_seconds, criteria, budget_rows, chosen)


# ---------------------------------------------------------------- 5. bfloat16


@dataclass
class Fidelity:
    """How far one method's bfloat16 word scores lie from its float32 ones, over the examples."""

    spearman: list[float]
    relative_l1: list[float]

    @classmethod
    def of(cls, half, full, method: str) -> "Fidelity":
        pairs = [(np.asarray(half.attributions[method][i].words), np.asarray(a.words))
                 for i, a in full.attributions[method].items()]
        ranked = [(h, f) for h, f in pairs if len(f) > 2 and np.ptp(h) > 0 and np.ptp(f) > 0]
        return cls([float(spearmanr(h, f).statistic) for h, f in ranked], [relative_l1(h, f) for h, f in pairs])

    @property
    def within_tolerance(self) -> bool:
        return bool(self.spearman) and float(np.median(self.spearman)) >= BF16_MIN_SPEARMAN


@dataclass
class HalfPrecision:
    """Every method again under bfloat16 autocast, at the settings of sections 2 and 3."""

    limit: Limit
    runs: dict[str, MethodRun]


def bfloat16_runs(classifier, data: Dataset, samples: list[Sample], methods: list[str], reps: int) -> HalfPrecision:
    limit = model_limit(classifier, samples, reps, precision="bfloat16")
    runs = {m: run_reportgen(classifier, data, m, EQUAL_SETTINGS.get(m, {}), reps, "bfloat16", limit)
            for m in methods}
    return HalfPrecision(limit, runs)


def prediction_change(full, half) -> tuple[float, float]:
    """The share of examples with the same predicted class in two runs, and the largest probability gap."""
    full_probs, half_probs = (np.array([ex.probabilities for ex in run.examples]) for run in (full, half))
    return float(np.mean(full_probs.argmax(1) == half_probs.argmax(1))), float(np.abs(full_probs - half_probs).max())


def bfloat16_section(half: HalfPrecision | None, ours: dict, theirs: dict, n: int, skipped: str) -> list[str]:
    lines = ["## 5. bfloat16 autocast (`--precision bfloat16`)", ""]
    if half is None:
        return lines + [f"Not measured: {skipped}.", ""]
    first = next(iter(ours))
    agree, gap = prediction_change(ours[first].run, half.runs[first].run)
    lines += [
        f"The same examples and settings as sections 2 and 3, the model under bfloat16 autocast. Limit in bfloat16: "
        f"{best_rates(half.limit)} (float32: see section 1). Predictions: the same class "
        f"on {agree:.0%} of examples, class probabilities at most {gap:.4f} apart.", "",
        f"Tolerance: the same prediction on every example, probabilities within {BF16_MAX_PROBABILITY_GAP}, and for "
        f"every method a median Spearman correlation of at least {BF16_MIN_SPEARMAN} between an example's bfloat16 "
        "and float32 word scores (relative L1 = sum |bfloat16 - float32| / sum |float32|).", "",
        "| method | bfloat16 s/example | speed-up over float32 | efficiency (bfloat16 limit) | median Spearman "
        "(min) | median relative L1 | within tolerance |", "|---|---|---|---|---|---|---|"]
    for method, result in half.runs.items():
        fidelity = Fidelity.of(result.run, ours[method].run, method)
        rho = (f"{np.median(fidelity.spearman):.3f} ({min(fidelity.spearman):.3f})" if fidelity.spearman else "-")
        ok = fidelity.within_tolerance and agree == 1.0 and gap <= BF16_MAX_PROBABILITY_GAP
        speedup = ours[method].timing.median / result.timing.median
        lines.append(f"| {method} | {result.timing.spread(1 / n)} | {speedup:.2f}x | "
                     f"{efficiency(result, half.limit):.2f} | {rho} | {np.median(fidelity.relative_l1):.4f} | "
                     f"{'yes' if ok else '**no**'} |")
    lines.append("")
    if IG in half.runs:
        deltas = [float(np.median([abs(a.extra["delta"]) for a in r.run.attributions[IG].values()]))
                  for r in (ours[IG], half.runs[IG])]
        lines += [f"Integrated gradients' median |convergence delta|: float32 {deltas[0]:.4g}, bfloat16 "
                  f"{deltas[1]:.4g} (bfloat16 logits carry about 3 significant digits).", ""]
    compared = [m for m in half.runs if m in theirs]
    total_half = sum(half.runs[m].timing.median for m in compared)
    total_full = sum(ours[m].timing.median for m in compared)
    total_theirs = sum(theirs[m].median for m in compared)
    lines += [f"Whole suite at equal settings in bfloat16: reportgen {total_half / n:.3f} s/example, "
              f"{total_full / total_half:.2f}x faster than reportgen in float32 and **{total_theirs / total_half:.2f}x "
              "faster** than the references (in float32).", ""]
    return lines


# ---------------------------------------------------------------- the report


def markdown(args, classifier, limits: tuple[Limit, Limit], ours: dict, theirs: dict,
             quality: list[QualityRow], n: int, wall: float, more: list[str]) -> str:
    limit, dense = limits
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
    ]
    lines += limit_section(limit, dense, n)
    lines += ["## 2 and 3. reportgen and the references at equal settings", "",
              "Settings: " + "; ".join(f"{m} {s or 'defaults'}" for m, s in EQUAL_SETTINGS.items()) + ". "
              "References run one example at a time as their users run them: Captum LayerIntegratedGradients "
              "(on the word embeddings for integrated_gradients, on each layer in turn for "
              "layer_integrated_gradients), Saliency, InputXGradient and FeatureAblation (one perturbed input per call, its default); shap's "
              "Partition explainer with its default batching; lime with a classifier function that predicts its "
              "strings in order in chunks of 64.", "",
              "| method | reportgen s/example | model evaluations/example | limit beside it, tokens/s | efficiency | "
              "reference s/example | reportgen / reference time |", "|---|---|---|---|---|---|---|"]
    total_ours = total_theirs = 0.0
    for method, result in ours.items():
        reference = theirs.get(method)
        ratio = result.timing.median / reference.median if reference else None
        lines.append(
            f"| {method} | {result.timing.spread(1 / n)} | {result.evaluations / n:.1f} | "
            f"{used_rates(result, limit)} | {efficiency(result, limit):.2f} | "
            f"{reference.spread(1 / n) if reference else '-'} | "
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
        lines += quality_table(row)
        if row.chosen is not None:
            saved_ours += row.chosen_seconds
            saved_theirs += row.reference_seconds
    cheap = [m for m in ours if m not in BUDGETS and m in theirs]
    saved_ours += sum(ours[m].timing.median / n for m in cheap)
    saved_theirs += sum(theirs[m].median / n for m in cheap)
    if saved_ours:
        lines += [f"Whole suite at equal quality (the budgets above, plus {', '.join(cheap)} at equal settings): "
                  f"reportgen {saved_ours:.3f} s/example, references at their defaults {saved_theirs:.3f} "
                  f"s/example: **{saved_theirs / saved_ours:.2f}x faster**.", ""]
    return "\n".join(lines + more) + "\n"


def best_rates(limit: Limit) -> str:
    rates = limit.tokens_per_s
    return (f"forward {rates['forward']:.0f} tokens/s, forward returning attention weights {rates['attention']:.0f} "
            f"tokens/s, forward+backward {rates['gradient']:.0f} tokens/s")


def limit_section(limit: Limit, dense: Limit, n: int) -> list[str]:
    lines = ["## 1. The limit: the model alone, length-sorted, dynamically padded", "",
             f"The {n} examples themselves, sorted by length and cut into batches of a fixed size; padding is the "
             "share of padded positions. Three kinds of call: forward, forward returning every layer's attention "
             "weights (what the attention methods ask of the model) and forward+backward (the gradient of the target "
             "logit with respect to the word embeddings). Efficiency below is measured against the best row of each "
             "kind, for the tokens each method evaluated in calls of that kind; the best rows are timed again right "
             "before each repetition of a method, and the method is measured against the median of those timings, so "
             "that drifts of the machine's speed during the benchmark (several per cent over minutes on a shared "
             "virtual machine) cancel out.", "",
             "| pass | batch | sequences/s | real tokens/s | padding |", "|---|---|---|---|---|"]
    lines += [f"| {row['kind']} | {row['batch']} | {row['seq_s']:.0f} | {row['tok_s']:.0f} | {row['padding']:.1%} |"
              for row in limit.rows]
    lines += ["", f"Best: {best_rates(limit)}.", ""]
    forward, gradient = dense.best("forward"), dense.best("gradient")
    lines += [f"For comparison, the same model on every example repeated {DENSE_COPIES} times (lengths "
              f"{DENSE_COPIES}x denser than these examples allow, so batches hold less padding than any run on them "
              f"can): forward {forward['tok_s']:.0f} tokens/s ({forward['padding']:.1%} padding), forward+backward "
              f"{gradient['tok_s']:.0f} tokens/s ({gradient['padding']:.1%} padding).", ""]
    return lines


def quality_table(row: QualityRow) -> list[str]:
    lines = [f"**{row.method}**: reference = {row.reference}, {row.reference_seconds:.3f} s/example; "
             + "; ".join(f"{c.name} = {c.reference:.4g}" for c in row.criteria) + ".", "",
             "| budget | " + " | ".join(c.name for c in row.criteria) + " | reportgen s/example |",
             "|---|" + "---|" * (len(row.criteria) + 1)]
    lines += [f"| {budget} | " + " | ".join(f"{v:.4g}" for v in values) + f" | {seconds:.3f} |"
              for budget, values, seconds in row.budget_rows]
    first = row.criteria[0]
    rule = ("at least" if first.higher_is_better else "at most") + f" the reference's {first.reference:.4g}"
    rule += f" (tolerance {first.tolerance:g})" if first.tolerance else ""
    if row.chosen is None:
        return lines + ["", f"No budget tried reaches {rule} on {first.name}.", ""]
    return lines + ["", f"Smallest budget with {first.name} {rule}: **{row.chosen}**, "
                    f"{row.reference_seconds / row.chosen_seconds:.1f}x faster than the reference default.", ""]


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
    parser.add_argument("--bfloat16", choices=("auto", "on", "off"), default="auto",
                        help="measure --precision bfloat16 too [auto: where the hardware multiplies bfloat16 natively]")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    classifier = _classifier(args.model)
    data, args.samples = benchmark_data(classifier, args.examples, args.seed)
    quality_data = data.subset(range(min(args.quality_examples, len(data))))
    args.quality_samples = args.samples[: len(quality_data)]
    refs = References(classifier)
    _step("limit")
    limits = (model_limit(classifier, args.samples, args.reps),
              model_limit(classifier, args.samples, args.reps, copies=DENSE_COPIES, passes=1))
    ours, theirs = {}, {}
    for method, settings in EQUAL_SETTINGS.items():
        _step(method)
        ours[method] = run_reportgen(classifier, data, method, settings, args.reps, limit=limits[0])
        theirs[method] = reference_timing(refs, method, args.samples, args.reps)
    _step("attention, attention_rollout, random (no reference)")
    for method in ("attention", "attention_rollout", "random"):
        ours[method] = run_reportgen(classifier, data, method, {}, args.reps, limit=limits[0])
    _step("equal quality")
    quality = equal_quality(classifier, refs, quality_data, args.quality_samples)
    half, skipped = None, _bfloat16_skipped(args.bfloat16, classifier)
    if not skipped:
        _step("bfloat16")
        half = bfloat16_runs(classifier, data, args.samples, list(ours), args.reps)
    more = bfloat16_section(half, ours, theirs, len(data), skipped)
    text = markdown(args, classifier, limits, ours, theirs, quality, len(data), time.perf_counter() - started, more)
    args.out.write_text(text)
    print(text)
    return text


def _classifier(model: str | None) -> Classifier:
    if model:
        return load_classifier(model)
    from reportgen.load.demo import default_model_dir

    folder = default_model_dir()
    classifier = load_classifier(folder)
    classifier.info["display_name"] = "all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes (the demo model)"
    return classifier


def _bfloat16_skipped(choice: str, classifier: Classifier) -> str:
    """Why the bfloat16 section is not measured, or '' when it is."""
    from reportgen.load.demo import Hardware

    if choice == "off":
        return "--bfloat16 off"
    hardware = Hardware.detect()
    native = hardware.precision == "bfloat16" and hardware.device == classifier.device.type
    if choice == "auto" and not native:
        return (f"this {classifier.device.type} emulates bfloat16, which is slower than float32 "
                "(--bfloat16 on measures it)")
    return ""


def _step(name: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {name}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
