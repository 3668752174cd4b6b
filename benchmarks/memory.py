"""Peak memory (RSS) of a run as it grows: 1,000 and 10,000 examples, cheap methods and statistics.

    python benchmarks/memory.py                        # real demo model, writes benchmarks/memory.txt
    python benchmarks/memory.py --model tiny --sizes 200 2000 --out /tmp/memory.txt

Each size runs in a child process of its own (a fresh interpreter, so no size inherits another's
heap). The child loads the model and the texts, runs the engine (methods attention, saliency,
grad_x_input, random; statistics performance and calibration only), then writes the results folder
(store.save). The parent reads the child's peak resident set size from the kernel with os.wait4
(``ru_maxrss``); the child also reports its resident size before the engine starts (VmRSS), its peak
after the engine (VmHWM) and a deep size of what the RunResult holds, by part, to show what grows.

Model: the embedded default (all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes, cached by
`reportgen demo`); texts: the held-out reviews repeated under new row numbers until there are enough.
``--model tiny`` uses the 2-layer test model instead (no cache needed).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = "default"  # the embedded default, fine-tuned (or found in the cache) by the child
METHODS = ["attention", "saliency", "grad_x_input", "random"]
METRICS = ["performance", "calibration"]
NO_TRIM = {"REPORTGEN_BENCH_NO_TRIM": "1"}  # the child never hands freed memory back (Engine.trim_heap off)


# ----------------------------------------------------------------------------- the child: one run


def _proc_status_mb(key: str) -> float:
    """VmRSS (now) or VmHWM (peak so far) of this process, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def deep_size(obj, seen: set[int] | None = None) -> int:
    """Bytes held by ``obj`` and everything it refers to (lists, dicts, dataclasses, arrays), counted once."""
    import dataclasses

    import numpy as np

    seen = set() if seen is None else seen
    stack, total = [obj], 0
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, np.ndarray):
            total += item.nbytes if item.base is None else 0
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return total


def _count_floats(run) -> dict[str, int]:
    """How many Python numbers the run keeps per kind (a float costs 24 bytes plus an 8-byte list slot)."""
    counts = {"attribution token/word scores": 0, "attention map weights (ints)": 0, "probabilities": 0}
    for by_example in run.attributions.values():
        for attribution in by_example.values():
            counts["attribution token/word scores"] += len(attribution.tokens) + len(attribution.words)
            maps = attribution.extra.get("maps")
            if maps:
                counts["attention map weights (ints)"] += sum(len(row["weights"]) for row in maps
                                                              if isinstance(row["weights"], list))
    counts["probabilities"] = sum(len(ex.probabilities) for ex in run.examples)
    return counts


def _trace_batches(engine_class) -> list[tuple[int, float, float]]:
    """Record (examples done, RSS now, peak so far) after every model batch of the next run.

    Wraps Engine._run_batch on the class (this benchmark's child process only); the engine is unchanged.
    """
    trace: list[tuple[int, float, float]] = []
    original = engine_class._run_batch

    def traced(self, number, examples, run, *rest):
        original(self, number, examples, run, *rest)
        done = (trace[-1][0] if trace else 0) + len(examples)
        trace.append((done, _proc_status_mb("VmRSS"), _proc_status_mb("VmHWM")))

    engine_class._run_batch = traced
    return trace


def _quantiles(trace: list[tuple[int, float, float]]) -> list[tuple[int, float, float]]:
    """The trace after the first batch and at about 25, 50, 75 and 100% of the examples."""
    if not trace:
        return []
    total = trace[-1][0]
    picks = [trace[0]] + [next(t for t in trace if t[0] >= total * q) for q in (0.25, 0.5, 0.75, 1.0)]
    return [list(t) for t in dict.fromkeys(picks)]


def child(size: int, model: str, max_batch_tokens: int | None) -> dict:
    import resource

    import torch

    from reportgen.explain.checkpoint import Checkpoint
    from reportgen.explain.engine import Engine
    from reportgen.explain.memory import malloc_trim as glibc_trim
    from reportgen.load.data import Dataset
    from reportgen.measure import compute_metrics
    from reportgen.options import RunConfig
    from reportgen.results import store

    torch.manual_seed(0)
    if model == "tiny":
        sys.path.insert(0, str(HERE.parent / "tests"))
        from support.tiny_models import CORPUS, build_model_folder

        from reportgen.load.model import load_classifier

        folder = build_model_folder(Path(tempfile.mkdtemp()) / "tiny")
        classifier = load_classifier(folder, device="cpu")
        source_texts, source_labels = list(CORPUS), [i % 2 for i in range(len(CORPUS))]
        info = {"name": "tiny corpus"}
    else:
        from reportgen.load.demo import default_model_dir, load_corpus
        from reportgen.load.model import load_classifier

        classifier = load_classifier(default_model_dir(progress=False) if model == DEFAULT_MODEL else model,
                                     device="cpu")
        held = load_corpus().held_out
        source_texts, source_labels, info = held.texts, held.labels, dict(held.info)
    n = len(source_texts)
    dataset = Dataset(texts=[source_texts[i % n] for i in range(size)],
                      labels=[source_labels[i % n] for i in range(size)],
                      rows=list(range(size)), info=dict(info, rows=size, note=f"{n} texts repeated to {size} rows"))
    before = _proc_status_mb("VmRSS")
    trace = _trace_batches(Engine)
    started = time.perf_counter()
    config = RunConfig(methods=METHODS, metrics=METRICS, seed=0, max_batch_tokens=max_batch_tokens)
    checkpoint_folder = tempfile.TemporaryDirectory()  # the command line always writes its work as it goes
    engine = Engine(classifier, config, checkpoint=Checkpoint(checkpoint_folder.name), progress=False)
    engine.trim_heap = not os.environ.get("REPORTGEN_BENCH_NO_TRIM")
    run = engine.run(dataset)
    compute_metrics(run, engine.runner, config.metrics, config.metric_params)
    engine_seconds = time.perf_counter() - started
    checkpoint_folder.cleanup()
    after_engine_peak = _proc_status_mb("VmHWM")
    after_engine_rss = _proc_status_mb("VmRSS")
    gc.collect()
    malloc_trim = glibc_trim()
    if malloc_trim is not None:
        malloc_trim(0)  # glibc hands freed heap pages back, so RSS shows what is still in use
    trimmed_rss = malloc_trim is not None and _proc_status_mb("VmRSS")
    parts = {
        "examples (text, tokens, ids, word ids, words, probabilities)": deep_size(run.examples),
        "attributions (per-token and per-word float lists, extras)": deep_size(run.attributions),
        "metrics": deep_size(run.metrics),
        "failures, methods, config, dataset, timings": deep_size([run.failures, run.methods, run.config,
                                                                    run.dataset, run.timings]),
    }
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store.save(run, folder)
        save_seconds = time.perf_counter() - started
        results_mb = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 2**20
    return {
        "size": size,
        "max_batch_tokens": engine.config.max_batch_tokens,
        "explained": sum(ex.ok for ex in run.examples),
        "tokens": sum(len(ex.tokens) for ex in run.examples),
        "rss_before_engine_mb": before,
        "rss_after_engine_mb": after_engine_rss,
        "rss_after_trim_mb": trimmed_rss,
        "batch_trace": _quantiles(trace),
        "peak_after_engine_mb": after_engine_peak,
        "peak_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "engine_seconds": engine_seconds,
        "save_seconds": save_seconds,
        "results_mb": results_mb,
        "deep_size_mb": {k: v / 2**20 for k, v in parts.items()},
        "python_floats": _count_floats(run),
    }


# ----------------------------------------------------------------------------- the parent


def measure(size: int, model: str, max_batch_tokens: int | None = None,
            env: dict[str, str] | None = None) -> dict:
    """Run one size in a child process; add the kernel's peak RSS of that child."""
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false", **(env or {}))
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        budget = [] if max_batch_tokens is None else ["--max-batch-tokens", str(max_batch_tokens)]
        process = subprocess.Popen([sys.executable, __file__, "--child", str(size), "--model", model, *budget,
                                    "--child-out", out.name], env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"the child for {size} examples failed with exit code {process.returncode}")
        result = json.loads(Path(out.name).read_text())
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def header(model: str) -> list[str]:
    import torch

    return [
        "reportgen peak memory: one child process per size (python benchmarks/memory.py)",
        "model: " + ("the tiny 2-layer test BERT" if model == "tiny"
                     else f"embedded default, all-MiniLM-L6-v2 fine-tuned ({model})"),
        f"methods: {', '.join(METHODS)}; statistics: {', '.join(METRICS)}; work written to a results folder as it "
        "finishes (as the command line does); full attention maps kept for 10 examples (RunConfig default)",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, torch "
        f"{torch.__version__}, {torch.get_num_threads()} torch threads; CPU",
    ]


def describe(results: list[dict], title: str) -> str:
    lines = [
        "",
        title,
        f"{'examples':>9} {'tokens':>9} {'RSS before':>11} {'peak engine':>12} {'peak total':>11} {'engine s':>9}"
        f" {'save s':>7} {'results':>9}",
    ]
    for r in results:
        lines.append(f"{r['size']:>9,} {r['tokens']:>9,} {r['rss_before_engine_mb']:>8.0f} MiB"
                     f" {r['peak_after_engine_mb']:>8.0f} MiB {r['peak_rss_mb']:>7.0f} MiB"
                     f" {r['engine_seconds']:>9.1f} {r['save_seconds']:>7.1f}"
                     f" {r['results_mb']:>5.1f} MiB")
    lines.append("")
    lines.append("RSS before: after importing, loading the model and the texts. peak engine: VmHWM after Engine.run.")
    lines.append("peak total: ru_maxrss of the child from os.wait4, after store.save too.")
    if len(results) >= 2:
        small, big = results[0], results[-1]
        per_k = 1000 / (big["size"] - small["size"])
        growth = (big["peak_rss_mb"] - small["peak_rss_mb"]) * per_k
        engine_growth = (big["peak_after_engine_mb"] - small["peak_after_engine_mb"]) * per_k
        held = sum(big["deep_size_mb"].values()) - sum(small["deep_size_mb"].values())
        live = big["rss_after_trim_mb"] - small["rss_after_trim_mb"]
        lines += [
            "",
            f"growth of peak RSS: {growth:.1f} MiB per 1,000 examples (after the engine: {engine_growth:.1f} MiB; "
            f"{(big['peak_rss_mb'] - small['peak_rss_mb']):.0f} MiB from {small['size']:,} to {big['size']:,})",
            f"growth of RSS in use after the run (after gc and malloc_trim): {live * per_k:.1f} MiB per 1,000 examples",
            f"growth of what the RunResult holds (deep size): {held * per_k:.1f} MiB per 1,000 examples",
        ]
    for r in results:
        lines.append("")
        lines.append(f"what the RunResult holds at {r['size']:,} examples (deep size, Python objects):")
        for part, mb in r["deep_size_mb"].items():
            lines.append(f"  {mb:8.1f} MiB  {part}")
        floats = ", ".join(f"{k} {v:,}" for k, v in r["python_floats"].items())
        lines.append(f"  Python floats kept: {floats}")
        lines.append(f"  RSS after the engine {r['rss_after_engine_mb']:.0f} MiB; after gc and malloc_trim "
                     f"{r['rss_after_trim_mb']:.0f} MiB")
        steps = "; ".join(f"{done:,}: {rss:.0f} ({peak:.0f})" for done, rss, peak in r["batch_trace"])
        lines.append(f"  RSS (peak so far) in MiB after N examples: {steps}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="model folder, 'default' (the embedded default) or 'tiny' (the test model)")
    parser.add_argument("--out", type=Path, default=HERE / "memory.txt")
    parser.add_argument("--max-batch-tokens", type=int, default=None, help="default: reportgen's for the CPU")
    parser.add_argument("--diagnose", action="store_true",
                        help="also run without handing freed memory back to the system, to show what that saves")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        args.child_out.write_text(json.dumps(child(args.child, args.model, args.max_batch_tokens)))
        return
    if args.model not in ("tiny", DEFAULT_MODEL) and not Path(args.model).is_dir():
        raise SystemExit(f"{args.model} is not a model folder (use 'default' or 'tiny')")
    sizes = sorted(args.sizes)
    text = "\n".join(header(args.model)) + "\n"
    shipped = [measure(size, args.model, args.max_batch_tokens) for size in sizes]
    text += describe(shipped, f"1. as shipped (--max-batch-tokens {shipped[0]['max_batch_tokens']}; freed heap "
                     "memory handed back to the system after a batch, at most every 5 s: runner.HeapTrimmer)")
    print(text, end="", flush=True)
    if args.diagnose:
        more = describe([measure(size, args.model, args.max_batch_tokens, NO_TRIM) for size in sizes],
                        "2. diagnosis: the same runs without handing freed memory back (glibc keeps the freed "
                        "activations of each batch in a heap that fragments as the run goes on)")
        print(more, end="")
        text += more
    args.out.write_text(text)


if __name__ == "__main__":
    main()
