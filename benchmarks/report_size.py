"""Report budgets: file size (1,000 examples: at most 10 MB; 10,000: at most 25 MB), time to the first chart
(at most 0.5 s), the paged explorer's response and the tab's memory; and the source report printed to A4 (at
most 25 pages, every chart drawn).

    python benchmarks/report_size.py                     # runs the demo afresh, prints and records the figures
    python benchmarks/report_size.py --results DIR       # starts from a saved results folder instead

By default the source run is made here, with the current code: the demo (the embedded default model,
cached after its first fine-tuning, on its default sample of held-out reviews, every method and
statistic), saved to and read back from a temporary results folder, so the figures never come
from results written by an older version. Synthetic runs of 1,000 and 10,000 examples are built from it by
repeating its examples under new indices, so token counts, methods and score distributions are those of the
real run. A copy is not an exact repeat, which gzip would pack into almost nothing: its letters are
permuted (one seeded permutation of a-z per copy, in its text, tokens and words), every score is multiplied
by a seeded log-normal factor (sigma 0.3) and its probabilities are jittered the same way on the log scale
(keeping the predicted class). Full attention maps stay on the source's own examples that have them (at most
``config["attention_maps"]``), not on their copies, as in a real run.

Each report is rendered, its size printed, and it is opened in Debian's Chromium (headless, through
Playwright) a few times: the time to the first chart is the ``performance.now()`` that report.js records
when the first chart is drawn (milliseconds since navigation start), and for a paged explorer the time its
first page is shown. Then, in one visit: the explorer's response (the next page; only the misclassified
examples; every example by dataset row, whose page needs blocks from all over the file), timed in the page
from the call to the page shown; and the tab's memory once the first page's open examples are drawn (the JS
heap, from the DevTools protocol's Performance.getMetrics, and the resident memory of the browser's renderer
processes). The source run's own report is printed to PDF as Chromium prints it (A4, after the page's
beforeprint handler has drawn every chart) and its pages counted.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import platform
import shutil
import random
import statistics
import string
import sys
import time
from pathlib import Path

from reportgen.report.render import write_report
from reportgen.results import store
from reportgen.results.records import Attribution, RunResult

HERE = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
SIZE_BUDGET_MB = {1000: 10.0, 10000: 25.0}  # by examples; a size between takes the next budget up
FIRST_CHART_BUDGET_MS = 500.0
PRINT_BUDGET_PAGES = 25
ALL_DRAWN = "() => Array.from(document.querySelectorAll('.chart')).every(c => c.hasAttribute('data-drawn'))"


def replicate(run: RunResult, n: int) -> RunResult:
    """A run of ``n`` examples made of ``run``'s examples and attributions under new indices: the source's own
    first, then varied copies (see the module's docstring)."""
    source = [ex for ex in run.examples]
    big = copy.copy(run)
    big.examples, big.attributions, big.failures = [], {m: {} for m in run.attributions}, []
    big.dataset = dict(run.dataset, explained=n, note=f"synthetic: {len(source)} examples varied to {n}")
    for new_index in range(n):
        original = source[new_index % len(source)]
        vary = Variation(new_index) if new_index >= len(source) else None
        ex = vary.example(original) if vary else copy.copy(original)
        ex.index = new_index
        big.examples.append(ex)
        for method, by_example in run.attributions.items():
            attribution = by_example.get(original.index)
            if attribution is None:
                continue
            extra = attribution.extra
            if vary:  # the source's own examples keep their maps; a copy has none
                extra = {k: vary.scores(v) if k == "layers" else v for k, v in extra.items() if k != "maps"}
            tokens, words = (attribution.tokens, attribution.words) if vary is None else (
                vary.scores(attribution.tokens), vary.scores(attribution.words))
            big.attributions[method][new_index] = Attribution(method, new_index, tokens, words, extra)
    return big


class Variation:
    """How one copy differs from its source example: a permutation of a-z and seeded noise on its numbers."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)
        letters = list(string.ascii_lowercase)
        self.random.shuffle(letters)
        self.letters = str.maketrans(string.ascii_lowercase, "".join(letters))

    def text(self, value):
        return value.translate(self.letters) if isinstance(value, str) else value

    def scores(self, values):
        if isinstance(values, list):
            return [self.scores(v) for v in values]
        if isinstance(values, float) and math.isfinite(values):
            return values * math.exp(self.random.gauss(0.0, 0.3))
        return values

    def example(self, ex):
        copied = copy.copy(ex)
        copied.text, copied.text_pair = self.text(ex.text), self.text(ex.text_pair)
        copied.tokens = [self.text(t) for t in ex.tokens]
        copied.words = [self.text(w) for w in ex.words]
        if ex.probabilities and ex.prediction is not None:
            logits = [math.log(max(p, 1e-12)) + self.random.gauss(0.0, 0.3) for p in ex.probabilities]
            total = sum(math.exp(v) for v in logits)
            jittered = [math.exp(v) / total for v in logits]
            if max(range(len(jittered)), key=jittered.__getitem__) == ex.prediction:
                copied.probabilities = jittered
        return copied


def first_chart_ms(path: Path, repeats: int) -> list[dict[str, float]]:
    """Per visit: ms from navigation start to DOMContentLoaded, to the first chart drawn and (a paged explorer)
    to its first page shown."""
    from playwright.sync_api import sync_playwright

    visits = []
    with sync_playwright() as handle:
        browser = handle.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for _ in range(repeats):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(path.resolve().as_uri(), wait_until="domcontentloaded")
                wait_until(page, "document.documentElement.hasAttribute('data-first-chart-ms')", 120)
                wait_until(page, f"({PAGED}) === null || document.documentElement.hasAttribute('data-first-page-ms')",
                           120)
                visits.append(page.evaluate("""() => ({
                    first_chart: parseFloat(document.documentElement.getAttribute('data-first-chart-ms')),
                    first_page: parseFloat(document.documentElement.getAttribute('data-first-page-ms')),
                    dom_content_loaded: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
                })"""))
                page.close()
        finally:
            browser.close()
    return visits


PAGED = "document.getElementById('examples-list').getAttribute('data-pages')"
# The explorer's response, timed in the page from the call until the page is shown.
RESPONSES = {
    "next page": "async () => { const t = performance.now(); await window.reportgen.showPage(1); "
                 "return performance.now() - t; }",
    "only the misclassified": "async () => { document.querySelector('[data-filter=correct]').value = '0'; "
                              "const t = performance.now(); await window.reportgen.applyFilters(); "
                              "return performance.now() - t; }",
    "every example by dataset row": "async () => { const form = document.getElementById('example-filters'); "
                                    "form.reset(); const t = performance.now(); "
                                    "window.reportgen.sortExamples('index'); await window.reportgen.applyFilters(); "
                                    "return performance.now() - t; }",
}
OPEN_DRAWN = ("() => Array.from(document.querySelectorAll('article.example > details[open] .chart'))"
              ".every(c => c.hasAttribute('data-drawn'))")


def explorer_and_memory(path: Path) -> dict[str, float]:
    """One visit: the tab's memory once the first page's open examples are drawn (JS heap, renderer RSS in MB),
    then each of RESPONSES in ms."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as handle:
        browser = handle.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(path.resolve().as_uri())
            wait_until(page, OPEN_DRAWN, 300)
            cdp = page.context.new_cdp_session(page)
            cdp.send("HeapProfiler.collectGarbage")
            cdp.send("Performance.enable")
            metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            figures = {"js heap": metrics["JSHeapUsedSize"] / 1e6, "renderer rss": renderer_rss_mb(),
                       "dom nodes": metrics["Nodes"]}
            if page.evaluate(PAGED) is not None:
                for name, call in RESPONSES.items():
                    figures[name] = page.evaluate(call)
        finally:
            browser.close()
    return figures


def renderer_rss_mb() -> float:
    """The resident memory of every Chromium renderer process on the machine (this benchmark runs one tab)."""
    total = 0
    for folder in Path("/proc").iterdir():
        try:
            command = (folder / "cmdline").read_bytes()
            if b"--type=renderer" not in command or b"chrom" not in command:
                continue
            status = (folder / "status").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total / 1e3


def printed(path: Path) -> tuple[int, int, int]:
    """The A4 pages of ``path`` printed by Chromium, its charts and how many of them are drawn."""
    import re

    from playwright.sync_api import sync_playwright

    with sync_playwright() as handle:
        browser = handle.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(path.resolve().as_uri())
            page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
            wait_until(page, ALL_DRAWN, 300)
            charts = page.evaluate("() => [document.querySelectorAll('.chart').length, "
                                   "document.querySelectorAll('.chart[data-drawn=true]').length]")
            pdf = page.pdf(format="A4", print_background=True)
        finally:
            browser.close()
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf)), charts[0], charts[1]


def wait_until(page, predicate: str, seconds: float) -> None:
    """Poll from here: Playwright's wait_for_function polls in the page with eval, which the report's CSP refuses."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {seconds:.0f} s: {predicate}")
        time.sleep(0.05)


def source_run(results: Path | None, folder: Path) -> tuple[RunResult, str, Path]:
    """The run to repeat, how it was made and its results folder: a fresh demo run saved to ``folder``,
    or the saved ``results``."""
    if results is not None:
        return store.load(results), f"saved results {results}", results
    from reportgen import api

    started = time.perf_counter()
    run = api.demo(progress=False)
    store.save(run, folder)
    return store.load(folder), f"fresh demo run with the current code ({time.perf_counter() - started:.0f} s)", folder


def size_budget(examples: int) -> float:
    return next((mb for n, mb in sorted(SIZE_BUDGET_MB.items()) if examples <= n), max(SIZE_BUDGET_MB.values()))


def synthetic_report(run: RunResult, examples: int, out: Path, repeats: int) -> tuple[list[str], bool]:
    """The lines of one synthetic report's figures, and whether it kept its budgets."""
    big = replicate(run, examples)
    started = time.perf_counter()
    path = write_report(big, out)
    render_s = time.perf_counter() - started
    size_mb, budget = path.stat().st_size / 1e6, size_budget(examples)
    visits = first_chart_ms(path, repeats)
    first = statistics.median(v["first_chart"] for v in visits)
    loaded = statistics.median(v["dom_content_loaded"] for v in visits)
    pages = [v["first_page"] for v in visits if v["first_page"] == v["first_page"]]  # NaN: not paged
    each = ", ".join(f"{v['first_chart']:.0f}" for v in visits)
    kept = sum(1 for a in big.attributions.get("attention", {}).values() if a.extra.get("maps"))
    figures = explorer_and_memory(path)
    lines = [
        f"{examples} examples (synthetic, full attention maps kept for {kept}), rendered in {render_s:.1f} s:",
        f"  report size: {size_mb:.2f} MB (budget {budget:.0f} MB) -> {'ok' if size_mb <= budget else 'OVER'}",
        f"  first chart drawn: {first:.0f} ms after navigation start, median of {len(visits)} visits "
        f"(each: {each}) (budget {FIRST_CHART_BUDGET_MS:.0f} ms) -> "
        f"{'ok' if first <= FIRST_CHART_BUDGET_MS else 'OVER'}",
        f"  DOMContentLoaded: {loaded:.0f} ms (median)",
    ]
    if pages:
        lines.append(f"  explorer's first page shown: {statistics.median(pages):.0f} ms (median)")
        lines.append("  explorer response (ms, from the call to the page shown): " + ", ".join(
            f"{name} {figures[name]:.0f}" for name in RESPONSES))
    lines.append(f"  tab memory once the first page's open examples are drawn: JS heap {figures['js heap']:.0f} MB, "
                 f"renderer processes' RSS {figures['renderer rss']:.0f} MB, {figures['dom nodes']:.0f} DOM nodes")
    return lines, size_mb <= budget and first <= FIRST_CHART_BUDGET_MS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=None,
                        help="start from this saved results folder instead of a fresh demo run")
    parser.add_argument("--examples", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=5, help="browser visits (the median is reported)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/reportgen-benchmark/report.html"))
    parser.add_argument("--record", type=Path, default=HERE / "report_size.txt", help="where to write the figures")
    args = parser.parse_args(argv)

    run, origin, folder = source_run(args.results, args.out.parent / "source-results")
    pages, charts, drawn = printed(write_report(run, args.out.with_name("source.html")))
    stored = folder / "attributions" / "attention.jsonl"
    source_kept = sum(1 for a in run.attributions.get("attention", {}).values() if a.extra.get("maps"))
    lines = [
        f"reportgen report budget benchmark ({time.strftime('%Y-%m-%d')})",
        f"source run: {origin}: {len(run.examples)} examples of "
        f"{run.dataset.get('name') or run.dataset.get('path')}, {len(run.methods)} methods, "
        f"model {run.model.get('architecture')} ({run.model.get('layers')} layers x {run.model.get('heads')} heads), "
        f"reportgen {run.versions.get('reportgen', '?')}",
        f"source results: attention.jsonl {stored.stat().st_size / 1e6:.2f} MB with full maps for {source_kept} "
        "examples" if stored.is_file() else "source results: no attention.jsonl",
        f"machine: {os.cpu_count()} CPU cores, {platform.platform()}, headless Debian chromium via playwright",
        f"source report printed (A4, Chromium): {pages} pages, {drawn} of {charts} charts drawn (budget "
        f"{PRINT_BUDGET_PAGES} pages) -> {'ok' if pages <= PRINT_BUDGET_PAGES and drawn == charts else 'OVER'}",
    ]
    within = pages <= PRINT_BUDGET_PAGES and drawn == charts
    for examples in args.examples:
        figures, kept = synthetic_report(run, examples, args.out.with_name(f"report-{examples}.html"), args.repeats)
        lines += figures
        within = within and kept
    text = "\n".join(lines) + "\n"
    print(text, end="")
    args.record.write_text(text, encoding="utf-8")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
