"""reportgen against the anchors of attribution for generation, run the way their users run them (issue 16):
inseq (``inseq.load_model(...).attribute(...)``) and Captum's LLMAttribution / LLMGradientAttribution, one
example at a time, on the same causal language model and the same teacher-forced references.

    bash benchmarks/inseq_env.sh                            # once: a venv with inseq beside this checkout
    ../inseq-env/bin/python benchmarks/generation_anchors.py     # writes benchmarks/generation_anchors.txt

The model: a randomly initialised GPT-2 (4 layers, width 256, 4 heads) over the byte-level tokenizer of
tests/support, saved and loaded as any model folder; the data: the 4 sources and references of
tests/support/generation_models.py, 4 times (16 rows, 68 output tokens). Every tool explains each reference
token's score given the prompt and the reference before it:

- reportgen: ``explain`` over the whole file with one method (and only the cheap cost statistic), timed from
  the call to its return: encoding, answering (teacher forcing) and explaining, every unit of every row in
  shared model batches.
- inseq 0.7.1: per row, ``attribute(prompt, prompt + reference)`` with ``attributed_fn="probability"`` and
  ``logprob=True`` (the log-probability reportgen explains), timed per call.
- Captum 0.9: per row, ``LLMGradientAttribution`` (layer integrated gradients and layer gradient x activation
  on the input embeddings) and ``LLMAttribution`` (FeatureAblation), the reference's ids as the target.

Equal settings: integrated gradients with 16 steps (Gauss-Legendre, Captum's default), the padding token as the
baseline where a tool takes one (inseq's own: its unknown-token embedding); occlusion replaces one prompt
token at a time. Agreement: per output token, Spearman's rank correlation between reportgen's scores of the
prompt's tokens and the anchor's, averaged over the output tokens; saliency compares reportgen's gradient norm
with inseq's (its L2 aggregation is the same norm, so the two should be equal); occlusion compares absolute
values (inseq keeps only those) and Captum's drop in log-probability with reportgen's drop in probability.
One warm-up call per tool first, then the median of 3 timed passes over all rows: seconds per row (s/row) and
the ratio anchor / reportgen; one process, nothing else running. Timings on the shared machine drift 10-20% between runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
REPEAT = 4
STEPS = 16
TIMES = 3  # timed passes per tool and method; the median is reported
METHODS = ("saliency", "grad_x_input", "integrated_gradients", "occlusion")
INSEQ = {"saliency": "saliency", "grad_x_input": "input_x_gradient", "integrated_gradients": "integrated_gradients",
         "occlusion": "occlusion"}


def build_model(folder: Path) -> Path:
    """A random GPT-2 of 4 layers, width 256, over the test tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from support.decoder_models import decoder_tokenizer

    tokenizer = decoder_tokenizer(bos=False, pad=False)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=256, n_layer=4, n_head=4, n_positions=64,
                        eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
    config.architectures = ["GPT2LMHeadModel"]
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def rows() -> list[tuple[str, str]]:
    from support.generation_models import REFERENCES, SOURCES

    return list(zip(SOURCES, REFERENCES)) * REPEAT


def reportgen_scores(folder: Path, data: Path, method: str) -> tuple[float, list[np.ndarray]]:
    """reportgen's seconds for the whole file and, per row, its output x prompt matrix."""
    from reportgen.api import explain
    from reportgen.load.model import load_classifier

    model = load_classifier(folder, device="cpu")
    params = {"integrated_gradients": {"n_steps": STEPS}}
    options = dict(methods=[method], metrics=["cost"], progress=False, source_column="source",
                   target_column="reference", method_params={k: v for k, v in params.items() if k == method})
    explain(model, data, limit=2, **options)  # warm-up
    times = []
    for _ in range(TIMES):
        started = time.perf_counter()
        run = explain(model, data, **options)
        times.append(time.perf_counter() - started)
    seconds = float(np.median(times))
    units: dict[int, list[Any]] = {}
    for ex in run.examples:
        units.setdefault(ex.row, []).append(ex)
    matrices = [np.array([run.attributions[method][u.index].tokens[: u.generated["start"]] for u in per_row])
                for _, per_row in sorted(units.items())]
    return seconds, matrices


def timed_per_row(call: Callable[[str, str], np.ndarray], pairs: list[tuple[str, str]]) -> tuple[float, list]:
    """Seconds for every row, one call each after one warm-up call (the median of TIMES passes), and each row's
    output x prompt matrix."""
    call(*pairs[0])
    times = []
    for _ in range(TIMES):
        started = time.perf_counter()
        matrices = [call(source, reference) for source, reference in pairs]
        times.append(time.perf_counter() - started)
    return float(np.median(times)), matrices


def inseq_call(folder: Path, method: str) -> Callable[[str, str], np.ndarray]:
    import inseq
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    hf = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager").eval()
    model = inseq.load_model(hf, INSEQ[method], tokenizer=tokenizer)
    extra = {"n_steps": STEPS} if method == "integrated_gradients" else {}

    def call(source: str, reference: str) -> np.ndarray:
        out = model.attribute(source, source + " " + reference, attributed_fn="probability", logprob=True,
                              show_progress=False, **extra)
        sequence = out.sequence_attributions[0]
        scores = sequence.target_attributions
        if scores.ndim == 3:  # gradient methods: one score per embedding dimension
            scores = scores.norm(dim=-1) if method == "saliency" else scores.sum(dim=-1)
        start = sequence.attr_pos_start
        return torch.nan_to_num(scores[:start]).T.double().numpy()  # [output tokens, prompt tokens]

    return call


def captum_call(folder: Path, method: str) -> Callable[[str, str], np.ndarray] | None:
    import torch
    from captum.attr import (FeatureAblation, LayerGradientXActivation, LayerIntegratedGradients, LLMAttribution,
                             LLMGradientAttribution, TextTokenInput)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    hf = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager").eval()
    embeddings = hf.get_input_embeddings()
    pad = tokenizer.eos_token_id  # reportgen's baseline: GPT-2 pads with its end-of-sequence token
    made = {"grad_x_input": lambda: LLMGradientAttribution(LayerGradientXActivation(hf, embeddings), tokenizer),
            "integrated_gradients": lambda: LLMGradientAttribution(LayerIntegratedGradients(hf, embeddings), tokenizer),
            "occlusion": lambda: LLMAttribution(FeatureAblation(hf), tokenizer)}
    if method not in made:
        return None
    attribution = made[method]()
    extra = {"n_steps": STEPS} if method == "integrated_gradients" else {}

    def call(source: str, reference: str) -> np.ndarray:
        target = torch.tensor(tokenizer(" " + reference, add_special_tokens=False)["input_ids"])
        prompt = TextTokenInput(source, tokenizer, baselines=pad, skip_tokens=[])
        result = attribution.attribute(prompt, target=target, **extra)
        return result.token_attr.detach().double().numpy()

    return call


def direct_occlusion(folder: Path, pairs: list[tuple[str, str]]) -> list[np.ndarray]:
    """Per row, the drop in each reference token's log-probability when one prompt token is replaced by the
    end-of-sequence token, computed one model call at a time: the reference both occlusions are held to."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    hf = AutoModelForCausalLM.from_pretrained(folder).eval()

    def log_probs(prompt: list[int], output: list[int]) -> np.ndarray:
        with torch.no_grad():
            logits = hf(input_ids=torch.tensor([prompt + output])).logits[0, len(prompt) - 1 : -1]
        return logits.log_softmax(-1)[torch.arange(len(output)), output].double().numpy()

    matrices = []
    for source, reference in pairs:
        prompt = tokenizer(source)["input_ids"]
        output = tokenizer(" " + reference, add_special_tokens=False)["input_ids"]
        kept = log_probs(prompt, output)
        drops = [kept - log_probs(prompt[:i] + [tokenizer.eos_token_id] + prompt[i + 1 :], output)
                 for i in range(len(prompt))]
        matrices.append(np.array(drops).T)
    return matrices


def agreement(ours: list[np.ndarray], theirs: list[np.ndarray], absolute: bool) -> tuple[float, float]:
    """Mean Spearman correlation of the rows of matching matrices, and the largest difference relative to the
    largest score (nan where the shapes differ)."""
    from scipy.stats import spearmanr

    correlations, gaps = [], []
    for mine, other in zip(ours, theirs):
        if mine.shape != other.shape:
            return float("nan"), float("nan")
        if absolute:
            mine, other = np.abs(mine), np.abs(other)
        for a, b in zip(mine, other):
            if len(a) > 2 and np.ptp(a) > 0 and np.ptp(b) > 0:
                correlations.append(spearmanr(a, b).statistic)
        gaps.append(np.abs(mine - other).max() / max(np.abs(mine).max(), 1e-12))
    return float(np.mean(correlations)), float(np.max(gaps))


def table(folder: Path, data: Path) -> list[str]:
    pairs = rows()
    lines = ["| method | reportgen s/row | inseq s/row | inseq / reportgen | Spearman with inseq | Captum s/row "
             "| Captum / reportgen | Spearman with Captum |", "|---|---|---|---|---|---|---|---|"]
    details = {}
    for method in METHODS:
        seconds, ours = reportgen_scores(folder, data, method)
        own = seconds / len(pairs)
        inseq_seconds, inseq_scores = timed_per_row(inseq_call(folder, method), pairs)
        with_inseq = agreement(ours, inseq_scores, absolute=method == "occlusion")
        cells = [f"{own:.4f}", f"{inseq_seconds / len(pairs):.4f}", f"{inseq_seconds / seconds:.1f}x",
                 f"{with_inseq[0]:.3f}"]
        captum = captum_call(folder, method)
        if captum is None:
            cells += ["-", "-", "-"]
        else:
            captum_seconds, captum_scores = timed_per_row(captum, pairs)
            with_captum = agreement(ours, captum_scores, absolute=False)
            cells += [f"{captum_seconds / len(pairs):.4f}", f"{captum_seconds / seconds:.1f}x", f"{with_captum[0]:.3f}"]
            details[f"{method} largest gap to Captum"] = with_captum[1]
        details[f"{method} largest gap to inseq"] = with_inseq[1]
    # reportgen's occlusion is a drop in probability, the anchors' a drop in log-probability: only ranks compare
    for tool in ("Captum", "inseq"):
        details.pop(f"occlusion largest gap to {tool}", None)
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += ["", "largest difference relative to reportgen's largest score (occlusion left out: reportgen scores the "
              "drop in probability, Captum the drop in log-probability, so only their ranks compare):"]
    lines += [f"- {name}: {gap:.2e}" for name, gap in details.items()]
    direct = direct_occlusion(folder, pairs)
    _, ours = reportgen_scores(folder, data, "occlusion")
    _, captum = timed_per_row(captum_call(folder, "occlusion"), pairs)
    first = lambda matrices: [m[:1] for m in matrices]  # noqa: E731 - each row's first output token
    lines += ["", "occlusion against a direct loop (the drop in log-probability, one model call per replaced token):",
              f"- Spearman, reportgen with the loop: {agreement(ours, direct, False)[0]:.3f}",
              f"- Spearman, Captum LLMAttribution with the loop: {agreement(captum, direct, False)[0]:.3f}; on each "
              f"row's first output token only: {agreement(first(captum), first(direct), False)[0]:.3f}"]
    return lines


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "generation_anchors.txt")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "tests"))
    import importlib.metadata as metadata

    import torch

    versions = {name: metadata.version(name) for name in ("inseq", "captum", "transformers")}
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        folder = build_model(work / "gpt2")
        data = work / "references.jsonl"
        data.write_text("".join(json.dumps({"source": s, "reference": r}) + "\n" for s, r in rows()), "utf-8")
        lines = [f"# benchmarks/generation_anchors.py on {platform.machine()}, {torch.get_num_threads()} torch "
                 f"threads, torch {torch.__version__}, " + ", ".join(f"{k} {v}" for k, v in versions.items()), "",
                 f"GPT-2 (4 layers, width 256), {len(rows())} rows teacher-forced, integrated gradients {STEPS} steps", ""]
        lines += table(folder, data)
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return text


if __name__ == "__main__":
    main()
