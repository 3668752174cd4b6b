"""Peak memory and wall time of two extreme runs through the command line (issue 14, findings 6 and 7).

    python benchmarks/extremes.py                      # both runs, writes benchmarks/extremes.txt
    python benchmarks/extremes.py --examples 50 --labels 2000 --cell-mb 5 --out /tmp/extremes.txt

(a) many labels: the tiny test BERT (tests/support/tiny_models.py) with 10,000 classes, on 200 rows whose labels
    span many classes (8 classes five times each, the other rows on classes drawn at random);
(b) one long cell: the two-class tiny BERT on 200 rows of a few words and one row whose text is 50 MB.

Each run is `python -m reportgen run` (methods attention, saliency, random; every statistic; the report, the
model card and the results folder written) in a child process of its own. The parent reads the child's peak
resident set size (ru_maxrss) from os.wait4 and times the child from start to exit; it then records the sizes
of the report and of the results folder and the stage timings the run saved. Building the models and the data
files is not counted.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
METHODS = "attention,saliency,random"


def many_label_data(path: Path, examples: int, labels: int, seed: int = 0) -> Path:
    """``examples`` rows of 5 to 15 words; 40 of them on 8 classes, the rest on classes drawn at random."""
    from support.tiny_models import WORDS

    rng = random.Random(seed)
    frequent = [rng.randrange(labels) for _ in range(8)]
    ids = [frequent[i % 8] for i in range(min(40, examples))]
    ids += [rng.randrange(labels) for _ in range(examples - len(ids))]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label in ids:
            writer.writerow([" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 15))), f"class_{label}"])
    return path


def long_cell_data(path: Path, examples: int, cell_mb: float, seed: int = 0) -> Path:
    """``examples`` rows of a few words and, in the middle, one row whose text is ``cell_mb`` MiB of words."""
    from support.tiny_models import WORDS

    rng = random.Random(seed)
    sentence = " ".join(WORDS) + " "
    long_text = (sentence * (int(cell_mb * 2**20) // len(sentence) + 1))[: int(cell_mb * 2**20)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for i in range(examples):
            if i == examples // 2:
                writer.writerow([long_text, "positive"])
            writer.writerow([" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 15))),
                             rng.choice(["negative", "positive"])])
    return path


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20 if folder.is_dir() else 0.0


def measure(model: Path, data: Path, work: Path) -> dict:
    """One `reportgen run` in a child process: exit code, peak RSS, wall time, output sizes, stage timings."""
    out = work / "report.html"
    command = [sys.executable, "-m", "reportgen", "run", "--model", str(model), "--data", str(data),
               "--methods", METHODS, "--out", str(out), "--quiet"]
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
    log = work / "output.txt"
    started = time.perf_counter()
    with log.open("w") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=HERE.parent)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    run_file = work / "results" / "run.json"
    saved = json.loads(run_file.read_text()) if run_file.is_file() else {}
    lines = log.read_text(errors="replace").strip().splitlines()
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
        "wall_s": wall,
        "report_mb": out.stat().st_size / 2**20 if out.is_file() else 0.0,
        "results_mb": folder_mb(work / "results"),
        "timings": {k: v for k, v in saved.get("timings", {}).items() if isinstance(v, (int, float))},
        "slowest_metrics": sorted(((name, entry.get("seconds", 0.0)) for name, entry in
                                   saved.get("metrics", {}).items()), key=lambda pair: -pair[1])[:3],
        "last_line": lines[-1] if lines else "",
    }


def describe(name: str, setup: str, r: dict) -> list[str]:
    timings = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in r["timings"].items()) or "none saved"
    metrics = ", ".join(f"{metric} {seconds:.1f} s" for metric, seconds in r["slowest_metrics"]) or "-"
    return [
        "",
        f"{name}: {setup}",
        f"  exit code {r['exit']}; peak RSS {r['peak_rss_mb']:,.0f} MiB; wall {r['wall_s']:.1f} s",
        f"  report {r['report_mb']:.1f} MiB; results folder {r['results_mb']:.1f} MiB",
        f"  stage timings saved by the run: {timings}",
        f"  slowest statistics: {metrics}",
        f"  last line of its output: {r['last_line']}",
    ]


def header() -> list[str]:
    import torch

    return [
        "reportgen on extreme inputs: one `reportgen run` per case in a child process (python benchmarks/extremes.py)",
        f"methods: {METHODS}; every statistic; report, model card and results folder written",
        "peak RSS: ru_maxrss of the child from os.wait4; wall: from the child's start to its exit",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}; CPU",
    ]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="rows of each dataset (default 200)")
    parser.add_argument("--labels", type=int, default=10_000, help="classes of the many-label model")
    parser.add_argument("--cell-mb", type=float, default=50.0, help="MiB of text in the long cell")
    parser.add_argument("--out", type=Path, default=HERE / "extremes.txt")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "tests"))
    from support.tiny_models import build_model_folder

    lines = header()
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        many = build_model_folder(root / "many-labels", num_labels=args.labels)
        work = root / "a"
        work.mkdir()
        result = measure(many, many_label_data(root / "many-labels.csv", args.examples, args.labels), work)
        lines += describe("(a) many labels", f"tiny BERT with {args.labels:,} classes, {args.examples} rows", result)
        print("\n".join(lines), flush=True)
        two = build_model_folder(root / "two-labels")
        work = root / "b"
        work.mkdir()
        result = measure(two, long_cell_data(root / "long-cell.csv", args.examples, args.cell_mb), work)
        more = describe("(b) one long cell", f"two-class tiny BERT, {args.examples} rows of a few words and one "
                        f"row of {args.cell_mb:g} MiB of text", result)
        print("\n".join(more), flush=True)
        lines += more
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    return text


if __name__ == "__main__":
    main()
