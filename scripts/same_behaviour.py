"""Runs the demo pipeline on two commits and shows that they produce the same outputs.

    python scripts/same_behaviour.py BEFORE [AFTER] [--limit N] [--work DIR]

Each commit is exported with ``git archive`` (AFTER defaults to the working tree) and runs
``reportgen demo`` from its own source with a fixed timestamp (SOURCE_DATE_EPOCH=0) and the
same model cache, so both explain the same fine-tuned model. Then, per side:

* ``examples.jsonl`` and every ``attributions/*.jsonl`` (the scores) are compared byte for byte;
* ``run.json`` is compared as JSON once every timing is set to 0 (the ``timings`` and
  ``run_timings`` tables and every field whose name holds "seconds");
* that timing-free copy of the results is rendered by the side's own code and the two
  ``report.html`` files are compared byte for byte, and so are the two ``model_card.md``;
* the AFTER code also renders BEFORE's timing-free results, which must give BEFORE's page.

Exit code 0 when everything is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEPT_TIMINGS = {"model_batch_sizes"}  # batch sizes are decided by the data, not by the clock


def main() -> int:
    args = _arguments()
    work = Path(args.work or tempfile.mkdtemp(prefix="same-behaviour-"))
    before = _export(args.before, work / "before")
    after = _export(args.after, work / "after")
    for side in (before, after):
        _demo(side, args.limit)
        _untimed_copy(side / "out" / "results", side / "out" / "untimed")
        _render(side, side / "out" / "untimed", side / "out" / "untimed.html")
    _render(after, before / "out" / "untimed", work / "after-renders-before.html")
    checks = _checks(before / "out", after / "out", work)
    width = max(len(name) for name, _ in checks)
    for name, problem in checks:
        print(f"{name:<{width}}  {'identical' if problem is None else 'DIFFERS: ' + problem}")
    same = all(problem is None for _, problem in checks)
    print(f"\n{'same behaviour' if same else 'behaviour changed'}: {args.before} -> {args.after or 'working tree'} "
          f"({len(checks)} comparisons, demo --limit {args.limit}; outputs in {work})")
    return 0 if same else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="the commit before the change")
    parser.add_argument("after", nargs="?", default=None, help="the commit after it [default: the working tree]")
    parser.add_argument("--limit", type=int, default=50, help="examples the demo explains [default: 50, the demo's]")
    parser.add_argument("--work", default=None, help="folder for both sides' sources and outputs")
    return parser.parse_args()


def _export(ref: str | None, folder: Path) -> Path:
    """The source of ``ref`` (or of the working tree, tracked and untracked files) in ``folder``."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if ref is None:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                                check=True, capture_output=True).stdout.decode().split("\0")
        for name in filter(None, listed):
            source = ROOT / name
            if source.is_file():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, folder / name)
        return folder
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _reportgen(side: Path, *args: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(side), SOURCE_DATE_EPOCH="0", TOKENIZERS_PARALLELISM="false")
    subprocess.run([sys.executable, "-m", "reportgen", *args], cwd=side, env=env, check=True)


def _demo(side: Path, limit: int) -> None:
    out = side / "out"
    _reportgen(side, "demo", "--quiet", "--limit", str(limit), "--out", str(out / "report.html"),
               "--results", str(out / "results"))


def _render(side: Path, results: Path, page: Path) -> None:
    _reportgen(side, "render", str(results), "--out", str(page))


def _untimed_copy(results: Path, copy: Path) -> None:
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(results, copy, ignore=shutil.ignore_patterns("partial"))
    meta = json.loads((copy / "run.json").read_text(encoding="utf-8"))
    (copy / "run.json").write_text(json.dumps(_untimed(meta), ensure_ascii=False, indent=1), encoding="utf-8")
    _seal_again(copy)


def _seal_again(folder: Path) -> None:
    """Make a manifest (results format 2 on) list run.json as it now is, so the copy renders."""
    path = folder / "manifest.json"
    if not path.is_file():
        return
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        data = (folder / entry["file"]).read_bytes()
        entry["bytes"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def _untimed(value: Any, timing: bool = False) -> Any:
    """``value`` with every number that measures time set to 0."""
    if isinstance(value, dict):
        return {key: _untimed(item, _is_timing(key, timing)) for key, item in value.items()}
    if isinstance(value, list):
        return [_untimed(item, timing) for item in value]
    if timing and isinstance(value, (int, float)) and not isinstance(value, bool):
        return 0
    return value


def _is_timing(key: str, inside_timing: bool) -> bool:
    if key in KEPT_TIMINGS:
        return False
    return inside_timing or "seconds" in key or key in ("timings", "run_timings")


def _checks(before: Path, after: Path, work: Path) -> list[tuple[str, str | None]]:
    checks = [("results/examples.jsonl", _same_bytes(before / "results/examples.jsonl",
                                                     after / "results/examples.jsonl"))]
    names = sorted({p.name for side in (before, after) for p in (side / "results/attributions").glob("*.jsonl")})
    for name in names:
        checks.append((f"results/attributions/{name}", _same_bytes(before / "results/attributions" / name,
                                                                 after / "results/attributions" / name)))
    checks.append(("results/run.json without timings", _same_json(before / "untimed/run.json",
                                                                  after / "untimed/run.json")))
    checks.append(("report.html of the untimed results", _same_bytes(before / "untimed.html", after / "untimed.html")))
    checks.append(("model_card.md", _same_bytes(before / "model_card.md", after / "model_card.md")))
    checks.append(("new code renders the old results", _same_bytes(before / "untimed.html",
                                                                   work / "after-renders-before.html")))
    return checks


def _same_bytes(a: Path, b: Path) -> str | None:
    if not a.is_file() or not b.is_file():
        return f"{a if not a.is_file() else b} is missing"
    left, right = a.read_bytes(), b.read_bytes()
    if left == right:
        return None
    at = next((i for i, (x, y) in enumerate(zip(left, right)) if x != y), min(len(left), len(right)))
    return (f"{len(left):,} vs {len(right):,} bytes, first difference at byte {at:,}: "
            f"{left[max(at - 40, 0):at + 40]!r} vs {right[max(at - 40, 0):at + 40]!r}")


def _same_json(a: Path, b: Path) -> str | None:
    left, right = (json.loads(p.read_text(encoding="utf-8")) for p in (a, b))
    path = _first_difference(left, right, "run.json")
    return None if path is None else f"first difference at {path}"


def _first_difference(a: Any, b: Any, where: str) -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{where}: keys {sorted(set(a) ^ set(b)) or 'in another order'}"
        return next(filter(None, (_first_difference(a[k], b[k], f"{where}.{k}") for k in a)), None)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} items"
        return next(filter(None, (_first_difference(x, y, f"{where}[{i}]") for i, (x, y) in enumerate(zip(a, b)))),
                    None)
    return None if a == b and type(a) is type(b) else f"{where}: {a!r:.80} vs {b!r:.80}"


if __name__ == "__main__":
    sys.exit(main())
