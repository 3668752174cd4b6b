"""reportgen compare: two runs on the same rows, with McNemar counts, bootstrap intervals, flips, attribution
shift, top-word changes and faithfulness deltas known by construction; rows that differ are refused."""

from __future__ import annotations

import copy
import json
import math

import pytest
from markupsafe import escape

from reportgen.errors import ReportgenError
from reportgen.ops.paired import bootstrap_interval, mcnemar
from reportgen.report.comparison import comparison, matched
from reportgen.report.comparison_card import COMPARE_MARK, write_comparison
from reportgen.report.format import shown
from reportgen.results import store
from reportgen.results.records import Attribution, Example, MethodInfo, RunResult

from support.cli import assert_one_line_error, invoke
from support.markup import ATTRIBUTES, TAGS, parse
from support.runs import demo_like_run, hostile_run

N = 20


def crafted(predictions: list[int], words: dict[int, list[float]] | None = None, precision="float32") -> RunResult:
    """N examples alternating labels 0/1, predicted as given (probability 0.8 for the prediction); method m1's word
    scores per example (default 1, 2, 3, 4)."""
    run = RunResult(model={"labels": ["neg", "pos"], "name": "crafted"}, dataset={"name": "crafted data"},
                    config={"precision": precision}, created="2026-12-04T00:00:00+00:00")
    run.methods = {"m1": MethodInfo("m1")}
    for i, prediction in enumerate(predictions):
        probabilities = [0.8, 0.2] if prediction == 0 else [0.2, 0.8]
        run.examples.append(Example(index=i, text=f"text {i}", label=i % 2, prediction=prediction,
                                    probabilities=probabilities, target=prediction, words=list("abcd")))
        scores = (words or {}).get(i, [1.0, 2.0, 3.0, 4.0])
        run.add(Attribution("m1", i, scores, scores))
    return run


def truth() -> list[int]:
    return [i % 2 for i in range(N)]


def test_mcnemar_counts_and_p_value_are_the_exact_binomial_test():
    from scipy.stats import binomtest

    a = truth()
    b = list(a)
    for i in (0, 1, 2):  # B wrong where A is right: 3
        b[i] = 1 - b[i]
    a[5] = 1 - a[5]  # A wrong where B is right: 1
    c = comparison(crafted(a), crafted(b))
    accuracy = c["models"][0]
    assert (accuracy["only_a"], accuracy["only_b"]) == (3, 1)
    assert accuracy["a"] == pytest.approx(19 / 20) and accuracy["b"] == pytest.approx(17 / 20)
    assert accuracy["p"] == pytest.approx(binomtest(1, 4, 0.5).pvalue) == pytest.approx(2 * 5 / 16)
    assert mcnemar(0, 0) == 1.0 and mcnemar(10, 0) == pytest.approx(2 / 2 ** 10)
    assert c["flips"]["counts"] == {"broken": 3, "fixed": 1, "changed": 0}
    assert [row["row"] for row in c["flips"]["rows"]] == [0, 1, 2, 5]  # broken first, then fixed


def test_the_bootstrap_interval_is_seeded_and_holds_the_difference():
    a, b = truth(), truth()
    for i in range(6):
        b[i] = 1 - b[i]
    c = comparison(crafted(a), crafted(b), seed=3)
    f1 = c["models"][1]
    low, high = f1["interval"]
    assert low <= f1["delta"] <= high and high < 0  # six rows broken: B is clearly worse
    assert comparison(crafted(a), crafted(b), seed=3)["models"][1]["interval"] == (low, high)
    same = comparison(crafted(a), crafted(a))
    assert same["models"][1]["interval"] == (0.0, 0.0) and same["flips"]["total"] == 0
    assert bootstrap_interval(lambda rows: None, 5, 0) is None and bootstrap_interval(lambda rows: 1.0, 1, 0) is None


def test_the_attribution_shift_is_spearman_per_row():
    reversed_scores = {0: [4.0, 3.0, 2.0, 1.0], 1: [1.0, 2.0, 4.0, 3.0]}  # rho -1 and 0.8
    c = comparison(crafted(truth()), crafted(truth(), reversed_scores))
    (row,) = c["shift"]
    expected = [-1.0, 0.8] + [1.0] * (N - 2)
    assert row["spearman"] == pytest.approx(sum(expected) / N) and row["rows"] == N
    centre = sum(expected) / N
    sd = math.sqrt(sum((x - centre) ** 2 for x in expected) / (N - 1))
    assert row["spearman_se"] == pytest.approx(sd / math.sqrt(N))


def test_top_words_that_entered_or_left_and_faithfulness_deltas():
    a, b = crafted(truth()), crafted(truth())

    def words(run, listed):
        run.metrics["top_words"] = {"result": {"words": [
            {"method": "m1", "class": "pos", "class_id": 1, "rank": r, "word": w} for r, w in enumerate(listed, 1)]}}

    words(a, ["good", "great", "fine"])
    words(b, ["great", "superb", "good"])
    for run, shift in ((a, 0.0), (b, 0.1)):
        per_example = [{"method": "m1", "example": i, "comprehensiveness": 0.3 + shift + 0.01 * (i % 3),
                        "sufficiency": 0.2} for i in range(N)]
        run.metrics["faithfulness"] = {"result": {"summary": [{"method": "m1"}], "per_example": per_example}}
    c = comparison(a, b)
    assert c["top_words"] == [{"method": "m1", "class": "pos", "entered": ["superb"], "left": ["fine"], "kept": 2}]
    (row,) = c["faithfulness"]
    assert row["comprehensiveness_delta"] == pytest.approx(0.1) and row["comprehensiveness_se"] == pytest.approx(0)
    assert row["comprehensiveness_reading"] == "better" and row["sufficiency_reading"] == "tied"
    assert row["shown"]["comprehensiveness_reading"] == "B better"


def test_rows_that_differ_are_refused_naming_how_many():
    a, b = crafted(truth()), crafted(truth())
    b.examples[3].text = "another text"
    del b.examples[7]
    with pytest.raises(ReportgenError, match="2 of the first run's 20 rows are not in the second with the same id, "
                                             "text and label, and 0 of the second's 19 are not in the first"):
        matched(a, b)
    b = crafted(truth())
    b.model["labels"] = ["negative", "positive"]
    with pytest.raises(ReportgenError, match="the two models' classes differ"):
        matched(a, b)


def test_two_tiny_models_compared_from_their_folders(classifier, classifiers, tmp_path):
    first = demo_like_run(classifier)
    second = demo_like_run(classifiers["roberta"])
    a = store.save(first, tmp_path / "a")
    b = store.save(second, tmp_path / "b")
    done = invoke("compare", a, b, "--out", tmp_path / "out" / "compare.html")
    assert done.exit_code == 0, done.output
    markdown = (tmp_path / "out" / "compare.md").read_text(encoding="utf-8")
    assert markdown.startswith(COMPARE_MARK.decode() + "\n## Comparison (reportgen): ")
    pairs = [(x, y) for x, y in zip(first.examples, second.examples) if x.ok and y.ok]
    only_a = sum(x.correct and not y.correct for x, y in pairs)
    only_b = sum(y.correct and not x.correct for x, y in pairs)
    assert f"(A only right: {only_a}, B only right: {only_b})" in markdown
    html = (tmp_path / "out" / "compare.html").read_text(encoding="utf-8")
    assert html.count('<tr><td class="num"><code>#') == sum(x.prediction != y.prediction for x, y in pairs)
    changed = copy.deepcopy(first)
    changed.examples[0].text += " changed"
    c = store.save(changed, tmp_path / "c")
    assert_one_line_error(invoke("compare", a, c, "--out", tmp_path / "x.html"),
                          "the two runs explain different rows: 1 of the first run's 8 rows")
    (tmp_path / "mine.md").write_text("my notes")
    assert_one_line_error(invoke("compare", a, b, "--out", tmp_path / "y.html", "--markdown", tmp_path / "mine.md"),
                          "mine.md")
    assert (tmp_path / "mine.md").read_text() == "my notes"


def test_a_hostile_comparison_page_is_safe(classifier, tmp_path):
    a = hostile_run(classifier)
    b = copy.deepcopy(a)
    for ex in b.examples:
        if ex.ok:
            ex.prediction = 1 - ex.prediction  # every row flips: every hostile text is on the page
    out = write_comparison(a, b, tmp_path / "compare.html")
    html = out["comparison"].read_text(encoding="utf-8")
    page = parse(html)
    assert set(page.tags) <= TAGS and {name for _, name in page.attributes} <= ATTRIBUTES
    assert page.markup == ["decl DOCTYPE html"]
    code = [body for attrs, body in page.scripts if attrs.get("type") != "application/json"]
    assert len(code) == 2
    for attrs, body in page.scripts:
        if attrs.get("type") == "application/json":
            assert not set(body) & set("<>&'") and json.loads(body)
    text = "".join(page.text)
    assert all(shown(ex.text) in text and str(escape(shown(ex.text))) in html for ex in a.examples if ex.ok)
    markdown = out["markdown"].read_text(encoding="utf-8")
    assert "<script>" not in markdown and "&lt;script&gt;alert('model')&lt;/script&gt;" in markdown


@pytest.mark.browser
def test_the_comparison_page_draws_offline_without_errors(playwright, classifier, tmp_path):
    from support.browser import CANVASES_NOT_BLANK, draw_everything, opened_report

    a = hostile_run(classifier)
    b = copy.deepcopy(a)
    b.examples[0].prediction = 1 - b.examples[0].prediction
    page_path = write_comparison(a, b, tmp_path / "compare.html")["comparison"]
    with opened_report(playwright, page_path) as page:
        draw_everything(page)
        assert page.evaluate(CANVASES_NOT_BLANK) == [True]
        assert page.locator("table.compare-flips tr").count() == 2
