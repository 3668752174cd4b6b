"""Report budgets for 1,000 examples: file size (at most 10 MB) and time to the first chart (at most 0.5 s); and
the source report printed to A4 (at most 25 pages, every chart drawn).

    python benchmarks/report_size.py                     # runs the demo afresh, prints and records the figures
    python benchmarks/report_size.py --results DIR       # starts from a saved results folder instead

By default the source run is made here, with the current code: the demo (the embedded default model,
cached after its first fine-tuning, on its default sample of held-out reviews, every method and
statistic), saved to and read back from a temporary results folder, so the figures never come
from results written by an older version. A synthetic 1,000-example run is built from it by
repeating its examples and their attributions under new indices (so texts, token counts, methods
and score distributions are those of the real run); full attention maps stay on the source's own
examples that have them (at most ``config["attention_maps"]``), not on their copies, as in a real
run. The report is rendered, its size
printed, and it is opened in Debian's Chromium (headless, through Playwright) a few times: the time
to the first chart is the ``performance.now()`` that report.js records when the first chart is drawn
(milliseconds since navigation start). The source run's own report is printed to PDF as Chromium prints it
(A4, after the page's beforeprint handler has drawn every chart) and its pages counted.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from reportgen.report.render import write_report
from reportgen.results import store
from reportgen.results.records import Attribution, RunResult

HERE = Path(__file__).resolve().parent
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
SIZE_BUDGET_MB = 10.0
FIRST_CHART_BUDGET_MS = 500.0
PRINT_BUDGET_PAGES = 25
ALL_DRAWN = "() => Array.from(document.querySelectorAll('.chart')).every(c => c.hasAttribute('data-drawn'))"


def replicate(run: RunResult, n: int) -> RunResult:
    """A run of ``n`` examples made by repeating ``run``'s examples and attributions with new indices."""
    source = [ex for ex in run.examples]
    big = copy.copy(run)
    big.examples, big.attributions, big.failures = [], {m: {} for m in run.attributions}, []
    big.dataset = dict(run.dataset, explained=n, note=f"synthetic: {len(source)} examples repeated to {n}")
    for new_index in range(n):
        ex = copy.copy(source[new_index % len(source)])
        old_index, ex.index = ex.index, new_index
        big.examples.append(ex)
        for method, by_example in run.attributions.items():
            attribution = by_example.get(old_index)
            if attribution is None:
                continue
            extra = attribution.extra
            if "maps" in extra and new_index >= len(source):  # the source's own examples keep theirs, no copy
                extra = {k: v for k, v in extra.items() if k != "maps"}
            big.attributions[method][new_index] = Attribution(method, new_index, attribution.tokens,
                                                              attribution.words, extra)
    return big


def first_chart_ms(path: Path, repeats: int) -> list[dict[str, float]]:
    """Per visit: ms from navigation start to DOMContentLoaded and to the first chart drawn."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    visits = []
    with sync_playwright() as handle:
        browser = handle.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            for _ in range(repeats):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(path.resolve().as_uri(), wait_until="domcontentloaded")
                wait_until(page, "document.documentElement.hasAttribute('data-first-chart-ms')", 60)
                visits.append(page.evaluate("""() => ({
                    first_chart: parseFloat(document.documentElement.getAttribute('data-first-chart-ms')),
                    dom_content_loaded: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
                })"""))
                page.close()
        finally:
            browser.close()
    return visits


def printed(path: Path) -> tuple[int, int, int]:
    """The A4 pages of ``path`` printed by Chromium, its charts and how many of them are drawn."""
    import re
    import shutil

    from playwright.sync_api import sync_playwright

    with sync_playwright() as handle:
        browser = handle.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                         args=CHROMIUM_FLAGS)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=None,
                        help="start from this saved results folder instead of a fresh demo run")
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5, help="browser visits (the median is reported)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/reportgen-benchmark/report.html"))
    parser.add_argument("--record", type=Path, default=HERE / "report_size.txt", help="where to write the figures")
    args = parser.parse_args(argv)

    run, origin, folder = source_run(args.results, args.out.parent / "source-results")
    pages, charts, drawn = printed(write_report(run, args.out.with_name("source.html")))
    big = replicate(run, args.examples)
    started = time.perf_counter()
    path = write_report(big, args.out)
    render_s = time.perf_counter() - started
    size_mb = path.stat().st_size / 1e6
    visits = first_chart_ms(path, args.repeats)
    first = statistics.median(v["first_chart"] for v in visits)
    loaded = statistics.median(v["dom_content_loaded"] for v in visits)
    each = ", ".join(f"{v['first_chart']:.0f}" for v in visits)
    kept = sum(1 for a in big.attributions.get("attention", {}).values() if a.extra.get("maps"))
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
        f"synthetic run: {len(big.examples)} examples (repeated), full attention maps kept for {kept}",
        f"machine: {os.cpu_count()} CPU cores, {platform.platform()}, headless Debian chromium via playwright",
        f"render time: {render_s:.1f} s",
        f"report size: {size_mb:.2f} MB (budget {SIZE_BUDGET_MB:.0f} MB) -> "
        f"{'ok' if size_mb <= SIZE_BUDGET_MB else 'OVER'}",
        f"first chart drawn: {first:.0f} ms after navigation start, median of {len(visits)} visits "
        f"(each: {each}) (budget {FIRST_CHART_BUDGET_MS:.0f} ms) -> "
        f"{'ok' if first <= FIRST_CHART_BUDGET_MS else 'OVER'}",
        f"DOMContentLoaded: {loaded:.0f} ms (median)",
        f"source report printed (A4, Chromium): {pages} pages, {drawn} of {charts} charts drawn (budget "
        f"{PRINT_BUDGET_PAGES} pages) -> {'ok' if pages <= PRINT_BUDGET_PAGES and drawn == charts else 'OVER'}",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    args.record.write_text(text, encoding="utf-8")
    within = size_mb <= SIZE_BUDGET_MB and first <= FIRST_CHART_BUDGET_MS and pages <= PRINT_BUDGET_PAGES
    return 0 if within and drawn == charts else 1


if __name__ == "__main__":
    sys.exit(main())
