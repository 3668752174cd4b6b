"""Opening a report in Debian's Chromium through Playwright, recording everything that goes wrong;
and the runs the report tests share: a demo-like run of the tiny model and its hostile twin."""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class PageVisit:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_report(playwright, path: Path, visit: PageVisit, width: int = 1280, height: int = 900):
    """Launch chromium, open ``path`` and return (browser, page); the caller closes the browser."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.on("console", lambda msg: visit.errors.append(msg.text) if msg.type == "error"
            else visit.warnings.append(msg.text) if msg.type == "warning" else None)
    page.on("pageerror", lambda err: visit.errors.append(str(err)))
    page.on("dialog", lambda dialog: (visit.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: visit.requests.append(request.url))
    page.goto(path.resolve().as_uri())
    return browser, page


def remote_requests(visit: PageVisit, page_path: Path) -> list[str]:
    """Every request other than loading the report file itself."""
    return [url for url in visit.requests if url != page_path.resolve().as_uri()]


ALL_DRAWN = """() => Array.from(document.querySelectorAll('.chart')).every(c => c.hasAttribute('data-drawn'))"""
CANVASES_NOT_BLANK = """() => Array.from(document.querySelectorAll('.chart canvas')).map(c => {
    if (!c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0 && (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250)) return true;
    }
    return false; })"""
# Wider than the window: the page itself, or a column of a two-column layout (a table running under the next one).
OVERFLOW = """() => {
    const out = [];
    const page = document.documentElement;
    if (page.scrollWidth > window.innerWidth) out.push('page: ' + page.scrollWidth + ' > ' + window.innerWidth);
    document.querySelectorAll('.columns > div').forEach((column, i) => {
        if (column.scrollWidth > column.clientWidth + 1) {
            const title = column.querySelector('h3');
            out.push('column ' + i + ' (' + (title ? title.textContent : '') + '): ' + column.scrollWidth + ' > '
                     + column.clientWidth);
        }
    });
    return out; }"""


def draw_everything(page) -> None:
    """Draw every chart of the page and check that none failed."""
    page.evaluate("() => window.reportgen.drawAll()")
    page.wait_for_function(ALL_DRAWN, timeout=60000)
    failed = page.evaluate("() => Array.from(document.querySelectorAll('.chart[data-drawn=error]'))"
                           ".map(c => c.id + ': ' + c.textContent)")
    assert failed == []


def check_clean(visit: PageVisit, path: Path) -> None:
    """No JavaScript error or warning, no dialog, no request beyond the file itself."""
    # Chromium's hint about the test's own pixel reads is the only warning allowed.
    warnings = [w for w in visit.warnings if not w.startswith("Canvas2D: Multiple readback operations")]
    assert visit.errors == [], visit.errors
    assert warnings == [], warnings
    assert visit.dialogs == [], visit.dialogs
    assert remote_requests(visit, path) == [], remote_requests(visit, path)


# ----------------------------------------------------------------------------- shared runs

# Every registered method except shap (its first call alone costs seconds; its scores are drawn
# like any other method's), with fewer samples and steps than the defaults, and every metric.
QUICK = {"lime": {"num_samples": 40}, "integrated_gradients": {"n_steps": 4},
         "layer_integrated_gradients": {"n_steps": 4}}
ATTENTION_MAPS = 3

_RUNS: dict[int, object] = {}


def demo_like_run(classifier):
    """All methods but shap and all statistics on the tiny BERT: 8 texts, one empty (a failure),
    two groups, full attention maps for the first 3 examples. Built once per session; a copy."""
    if id(classifier) not in _RUNS:
        from reportgen.data import Dataset
        from reportgen.engine import Engine, RunConfig
        from reportgen.explainers import explainers
        from tiny_models import CORPUS

        texts = CORPUS + ["", "the film was fun"]
        dataset = Dataset(texts=texts, labels=[i % 2 for i in range(len(texts))], rows=list(range(len(texts))),
                          groups=["a" if i % 3 else "b" for i in range(len(texts))],
                          info={"path": "inline", "name": "tiny corpus", "rows": len(texts)})
        methods = [name for name in explainers.names() if name != "shap"]
        params = {name: {k: v for k, v in p.items() if k in explainers.get(name).defaults}
                  for name, p in QUICK.items() if name in methods}
        config = RunConfig(methods=methods, seed=0, method_params=params, attention_maps=ATTENTION_MAPS)
        _RUNS[id(classifier)] = Engine(classifier, config, progress=False).run(dataset)
    return copy.deepcopy(_RUNS[id(classifier)])


HOSTILE_STRINGS = [
    "</script><script>alert(1)</script>",
    "<!--<script>",
    "<img src=x onerror=alert(2)>",
    '" onmouseover="alert(3)',
    "{{ 7*7 }}",
    "{% raw %}",
    "${alert(4)}",
    "\u2028line\u2029para",
    "back\\slash \\u003c \\\"quoted\\\"",
    "'single' \"double\"",
    "\u202eevil override",
    "emoji \U0001f600\U0001f4a5",
    "x" * 300,
    "datum.x + ']); alert(5); //",
    "javascript:alert(6)",
    "&amp; &lt;b&gt;",
]


def hostile_text(i: int) -> str:
    return " | ".join(HOSTILE_STRINGS[i % len(HOSTILE_STRINGS):] + HOSTILE_STRINGS[: i % len(HOSTILE_STRINGS)])


def hostile_run(classifier):
    """The demo-like run with every dataset string (texts, tokens, words, class names, groups)
    replaced by hostile ones; word statistics are recomputed so they hold hostile words too."""
    from reportgen.metrics import compute_metrics

    run = demo_like_run(classifier)
    n = len(HOSTILE_STRINGS)
    for i, ex in enumerate(run.examples):
        ex.text = hostile_text(i)
        ex.tokens = [HOSTILE_STRINGS[(i + j) % n] for j in range(len(ex.tokens))]
        ex.words = [HOSTILE_STRINGS[(i + j + 3) % n] for j in range(len(ex.words))]
        ex.group = HOSTILE_STRINGS[i % 3]
    run.model["labels"] = ["<b>neg</b></script>", "{{ pos }}\u202e"]
    run.model["display_name"] = "<script>alert('model')</script>"
    run.dataset["name"] = "<!--<script> data"
    compute_metrics(run, None, ["performance", "calibration", "top_words", "error_words"],
                    {"top_words": {"min_count": 1}, "error_words": {"min_count": 1}})
    return run
