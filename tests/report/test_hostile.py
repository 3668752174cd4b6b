"""Property-based tests: random and hostile texts and tables through loading, the engine and the report.

Hypothesis writes CSV, TSV, JSONL and Parquet files and saved datasets folders holding control
characters, bidi overrides, emoji, U+2028, quotes, backslashes, template syntax and HTML/JS
break-outs ('</script>', '<!--<script>', ...), then checks that

* loading keeps every row and every text exactly (nothing dropped, nothing silently changed);
* the engine accounts for every row: each is explained or a recorded failure, unlabeled rows are
  explained for the predicted class (or fail with --target label), and the summary's balance adds up;
* the rendered page holds every string only as escaped text or inside JSON blocks written by |tojson:
  no tag, attribute, comment or script comes from the data.

Each test counts the hostile strings it tried and prints the count (see it with ``pytest -s``).
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections import Counter
from pathlib import Path

import datasets
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st
from markupsafe import escape

from reportgen.load.data import load_dataset
from reportgen.options import RunConfig
from reportgen.report import pages
from reportgen.report.figures import row_accounting
from reportgen.report.format import BIDI_CONTROLS, shown
from reportgen.report.render import render_html
from reportgen.results import store

from support.markup import ATTRIBUTES, TAGS, parse
from support.runs import measured
from support.tiny_models import WORDS

LABELS = ["negative", "positive"]
METHODS = ["attention", "saliency", "random"]
METRIC_PARAMS = {"top_words": {"min_count": 1}, "error_words": {"min_count": 1}}

TRIED: Counter = Counter()  # hostile strings fed, per test
SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FRAGMENTS = [
    "</script>", "</SCRIPT >", "<!--<script>", "<script>alert(1)</script>", "<img src=x onerror=alert(2)>",
    "<rgxevil rgxattr=1>", '" rgxattr="3', "' rgxattr='4", "-->", "<![CDATA[", "]]>", "<?xml?>", "<!DOCTYPE x>",
    "{{ 7*7 }}", "{% raw %}", "{#", "${alert(5)}", "`", '"', "'", "\\", "\\u003c", "\\\"", "&amp;", "&lt;b&gt;",
    "&#60;", "\u2028", "\u2029", "\u202e", "\u202d", "\u200f", "\u2066", "\ufeff", "\u200b", "\x00", "\x1b[31m",
    "\x07", "\x7f", "\x85", "\r", "\n", "\r\n", "\t", "\U0001f600", "\U0001f4a5\u200d\U0001f525", "\u0301",
    "\ufdd0", "\U0010fffd", "\uffff", "javascript:alert(6)", "datum.x + ']); alert(7); //", "NaN", "null",
]

# Unicode without surrogates (Hypothesis' default), control characters included.
ANY_CHAR = st.characters(blacklist_categories=("Cs",))
PIECE = st.one_of(st.sampled_from(FRAGMENTS), st.text(ANY_CHAR, max_size=12), st.sampled_from(WORDS),
                  st.just(" "))
HOSTILE_TEXT = st.one_of(
    st.lists(PIECE, max_size=10).map("".join),
    st.lists(st.sampled_from(WORDS + FRAGMENTS), min_size=60, max_size=120).map(" ".join),  # past 64 tokens
    st.sampled_from(["", " ", "\t\n", "\u2028", "\x00"]),
)
# label cells: names in any case, ids as text or numbers, and the ways a label goes missing
LABEL = st.sampled_from(["negative", "POSITIVE", " positive ", "0", "1", 0, 1, 1.0, None, "", "NaN", "null"])
EXPECTED_LABEL = {"negative": 0, "positive": 1, "POSITIVE": 1, " positive ": 1, "0": 0, "1": 1, 0: 0, 1: 1}  # 1.0 finds the key 1
ROW = st.tuples(HOSTILE_TEXT, LABEL, st.text(ANY_CHAR, max_size=6) | st.sampled_from(FRAGMENTS))
TABLE = st.lists(ROW, min_size=1, max_size=7)
FORMATS = ["csv", "tsv", "jsonl", "parquet", "hf"]  # each property runs on every format, with its own seed


def write_table(folder: Path, fmt: str, rows, ensure_ascii: bool = False) -> Path:
    """The rows with text, label and group columns as a CSV or TSV file (csv module, minimal quoting),
    a JSONL or Parquet file, or a saved datasets folder ("hf")."""
    path = folder / f"data.{fmt}"
    if fmt in ("csv", "tsv"):
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter="," if fmt == "csv" else "\t")
            writer.writerow(["text", "label", "group"])
            writer.writerows([text, "" if label is None else label, group] for text, label, group in rows)
    elif fmt == "jsonl":
        lines = (json.dumps({"text": t, "label": label, "group": g}, ensure_ascii=ensure_ascii) for t, label, g in rows)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        write_arrow_table(path, fmt, rows)
    return path


def write_arrow_table(path: Path, fmt: str, rows) -> None:
    """Parquet and datasets columns hold one type: labels become text (or stay missing)."""
    columns = {
        "text": [text for text, _, _ in rows],
        "label": [None if label is None else str(label) for _, label, _ in rows],
        "group": [group for _, _, group in rows],
    }
    if fmt == "parquet":
        pd.DataFrame(columns).to_parquet(path)
    else:
        datasets.Dataset.from_dict(columns).save_to_disk(str(path))


def count(test: str, rows) -> None:
    for text, _, group in rows:
        TRIED[test] += 2  # the text and the group cell
        event("text with markup characters" if any(c in text for c in "<>&\"'") else "text without markup")
        if any(f in text for f in FRAGMENTS if len(f) > 1):
            event("text with a hostile fragment")


def report_count(test: str, minimum: int) -> None:
    print(f"\n{test}: {TRIED[test]} hostile strings tried")
    assert TRIED[test] >= minimum


@pytest.fixture(scope="module", autouse=True)
def total_tried():
    yield
    print(f"\nhostile strings tried in {__name__}: {sum(TRIED.values())} {dict(TRIED)}")


# ----------------------------------------------------------------------------- loading


@pytest.mark.parametrize("fmt", FORMATS)
def test_loading_keeps_every_row_and_every_text_exactly(fmt):
    @settings(max_examples=40, **SETTINGS)
    @seed(FORMATS.index(fmt))
    @given(rows=TABLE, ensure_ascii=st.booleans())
    def check(rows, ensure_ascii):
        count(f"loading {fmt}", rows)
        with tempfile.TemporaryDirectory() as folder:
            data = load_dataset(write_table(Path(folder), fmt, rows, ensure_ascii), LABELS, group_column="group")
        assert len(data) == len(rows) and data.rows == list(range(len(rows)))
        assert data.texts == [text for text, _, _ in rows]
        assert data.labels == [EXPECTED_LABEL.get(label) for _, label, _ in rows]
        assert data.problems == {}
        assert data.info["missing_labels"] == sum(label not in EXPECTED_LABEL for _, label, _ in rows)
        assert data.info["duplicate_texts"] == len(rows) - len({text for text, _, _ in rows})

    check()
    report_count(f"loading {fmt}", 40)


# ----------------------------------------------------------------------------- engine and report


PACKED = re.compile(r'<script type="application/gzip" id="examples-chunk-\d+">([^<]*)</script>')


def unpacked_page(html: str) -> str:
    """The page with a paged explorer's blocks (base64 only) replaced by the markup they carry."""
    def unpack(match):
        assert re.fullmatch(r"[A-Za-z0-9+/=]*", match.group(1))
        return pages.unpacked(match.group(1))
    return PACKED.sub(unpack, html)


def assert_page_is_safe(html: str, run) -> None:
    html = unpacked_page(html)
    page = parse(html)
    assert set(page.tags) <= TAGS, set(page.tags) - TAGS
    assert {name for _, name in page.attributes} <= ATTRIBUTES, {n for _, n in page.attributes} - ATTRIBUTES
    assert page.markup == ["decl DOCTYPE html"], page.markup  # no comment, CDATA or <?...?> from data
    code = [body for attrs, body in page.scripts if attrs.get("type") != "application/json"]
    assert len(code) == 2 and all(not attrs for attrs, _ in page.scripts if attrs.get("type") != "application/json")
    blocks = {attrs["id"]: body for attrs, body in page.scripts if attrs.get("type") == "application/json"}
    for body in blocks.values():
        assert not set(body) & set("<>&'"), body[:200]  # |tojson escaped them all
        json.loads(body)
    text = "".join(page.text)
    assert not BIDI_CONTROLS.search(text)  # no control character can reorder what follows it
    for ex in run.examples:
        displayed = shown(ex.text)  # the text with bidi controls as visible markers such as ⟨U+202E⟩
        assert str(escape(displayed)) in html  # autoescaped in the markup
        assert displayed in text  # and shown otherwise unchanged
        if ex.ok and f"ex{ex.index}-data" in blocks:
            row = json.loads(blocks[f"ex{ex.index}-data"])["tok"][0]
            assert row["t"] == ex.tokens and row["W"] == ex.words  # round-trips through the JSON block


def assert_every_row_accounted(run, rows, target: str, html: str) -> None:
    assert [ex.index for ex in run.examples] == list(range(len(rows)))
    failed = {f.example: f.reason for f in run.failures if f.method is None}
    assert failed == {ex.index: ex.error for ex in run.examples if ex.error is not None}
    for ex, (text, label, _) in zip(run.examples, rows):
        assert ex.text == text and ex.label == EXPECTED_LABEL.get(label)
        if not text.strip():
            assert ex.error == "text is empty"
        elif ex.error is None:
            assert ex.prediction is not None and len(ex.probabilities) == 2
            assert ex.target == (ex.prediction if target == "pred" else ex.label)
            for method in METHODS:  # scored by every method, or a recorded method failure
                assert ex.index in run.attributions.get(method, {}) or any(
                    f.example == ex.index and f.method == method for f in run.failures)
        elif ex.label is None and target == "label":
            assert ex.error in ("no label to explain", "text has no tokens after tokenisation")
        else:
            assert ex.error == "text has no tokens after tokenisation"
    counts = row_accounting(run)["counts"]
    assert counts["read"] == len(rows) and counts["not_sampled"] == 0 and counts["other"] == 0
    assert counts["explained"] + counts["failed"] == len(rows)
    assert counts["unlabeled"] == sum(ex.ok and ex.label is None for ex in run.examples)
    assert counts["truncated"] == run.dataset["truncated"] == sum(ex.truncated for ex in run.examples)
    performance = run.metrics["performance"]["result"]["counts"]
    assert performance["unlabeled"] == counts["unlabeled"] and performance["failed"] == counts["failed"]
    balance = f"{len(rows)} rows read = 0 not sampled + {counts['explained']} explained + {counts['failed']} failed."
    assert balance in html


@pytest.mark.parametrize("fmt", FORMATS)
def test_engine_and_report_account_for_every_row_and_escape_every_string(classifier, fmt):
    @settings(max_examples=10, **SETTINGS)
    @seed(FORMATS.index(fmt))
    @given(rows=TABLE, target=st.sampled_from(["pred", "label"]))
    def check(rows, target):
        count(f"engine and report {fmt}", rows)
        with tempfile.TemporaryDirectory() as folder:
            data = load_dataset(write_table(Path(folder), fmt, rows), LABELS, group_column="group")
            config = RunConfig(methods=METHODS, target=target, seed=0, attention_maps=2, metric_params=METRIC_PARAMS)
            run = measured(classifier, data, config)
            saved = store.load(store.save(run, Path(folder) / "results"))
        html = render_html(saved)
        assert_every_row_accounted(saved, rows, target, html)
        assert_page_is_safe(html, saved)

    check()
    report_count(f"engine and report {fmt}", 10)


def test_allow_lists_cover_a_benign_report(classifier):
    """The tag and attribute allow-lists above describe the real page (so the checks are not vacuous)."""
    rows = [("the movie was good", "positive", "a"), ("", "negative", "b"), ("bad plot", None, "a")]
    with tempfile.TemporaryDirectory() as folder:
        data = load_dataset(write_table(Path(folder), "csv", rows), LABELS, group_column="group")
    run = measured(classifier, data, RunConfig(methods=METHODS, seed=0))
    html = render_html(run)
    page = parse(html)
    assert {"script", "article", "details", "table", "bdi"} <= set(page.tags) <= TAGS
    assert_every_row_accounted(run, rows, "pred", html)
    assert_page_is_safe(html, run)


def test_a_paged_explorer_escapes_every_string_inside_its_blocks(classifier, monkeypatch):
    """Every fragment in one run whose explorer is paged: the packed articles pass the same checks."""
    monkeypatch.setattr(pages, "PAGED_FROM", 1)
    monkeypatch.setattr(pages, "CHUNK", 3)
    rows = [(fragment + " good film", "positive" if i % 2 else None, fragment) for i, fragment in enumerate(FRAGMENTS)]
    TRIED["paged fragments"] += 2 * len(FRAGMENTS)
    with tempfile.TemporaryDirectory() as folder:
        data = load_dataset(write_table(Path(folder), "jsonl", rows), LABELS, group_column="group")
    run = measured(classifier, data, RunConfig(methods=METHODS, seed=0, attention_maps=2, metric_params=METRIC_PARAMS))
    html = render_html(run)
    assert PACKED.search(html) and not re.search(r"<article", PACKED.sub("", html))
    assert_every_row_accounted(run, rows, "pred", html)
    assert_page_is_safe(html, run)


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_each_fragment_alone_as_text_label_cell_and_group(classifier, fragment):
    """Every hand-picked fragment once as a whole text and as a group, beside an ordinary row."""
    rows = [(fragment, None, fragment), ("good film " + fragment, "positive", "g")]
    TRIED["fragments"] += 3
    with tempfile.TemporaryDirectory() as folder:
        data = load_dataset(write_table(Path(folder), "jsonl", rows), LABELS, group_column="group")
    run = measured(classifier, data, RunConfig(methods=METHODS, seed=0, metrics=["performance", "calibration"]))
    html = render_html(run)
    assert_every_row_accounted(run, rows, "pred", html)
    assert_page_is_safe(html, run)
