import base64
import hashlib
import html as html_lib
import json
import re
from html.parser import HTMLParser

import pytest

from reportgen.measure.faithfulness import leaders
from reportgen.ops.stats import wilson
from reportgen.report.figures import headline
from reportgen.report.format import BIDI_CONTROLS, shown
from reportgen.report.narrative import faithfulness_statement
from reportgen.report.render import render_html

from support.runs import ATTENTION_MAPS, HOSTILE_STRINGS, demo_like_run, hostile_run, hostile_text, small_run

HOSTILE = '</script><script>alert(1)</script><!--<script> {{ 7*7 }} "\'&<img src=x onerror=alert(2)>'
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "script", "body", "header", "h1", "h2", "h3", "h4", "p",
                "nav", "a", "main", "section", "div", "span", "b", "bdi", "table", "caption", "tr", "th", "td", "ul",
                "li", "dl", "dt", "dd", "details", "summary", "code", "pre", "article", "form", "label", "select",
                "option", "input", "button", "output", "footer", "br"}


class PageParts(HTMLParser):
    """Collects tags, attributes, script bodies and the text of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.scripts, self.text, self._script = set(), [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)
        if tag == "script":
            self._script = {"attrs": dict(attrs), "body": ""}

    def handle_data(self, data):
        if self._script is not None:
            self._script["body"] += data
        else:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append(self._script)
            self._script = None


def parts(html):
    parser = PageParts()
    parser.feed(html)
    return parser


def json_blocks(html):
    return {s["attrs"]["id"]: json.loads(s["body"]) for s in parts(html).scripts
            if s["attrs"].get("type") == "application/json"}


@pytest.fixture(scope="module")
def demo_html(classifier):
    return render_html(demo_like_run(classifier))


@pytest.fixture(scope="module")
def hostile(classifier):
    run = hostile_run(classifier)
    return run, render_html(run)


def test_no_remote_reference_and_bundle_inlined_once(classifier, demo_html):
    for html in (render_html(small_run(classifier)), demo_html):
        page = parts(html)
        for tag, name, value in page.attributes:
            if name in ("src", "href", "action", "srcset", "data", "poster", "formaction"):
                assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
        assert "@import" not in html and "url(" not in html.split("<style>")[1].split("</style>")[0]
        assert html.count("window.vegaEmbed=") == 1
        executable = [s for s in page.scripts if "type" not in s["attrs"]]
        assert len(executable) == 2
        assert not re.search(r"https?://[^\s\"'<]*", "".join(s["body"] for s in page.scripts
                                                             if s["attrs"].get("type") == "application/json"))


def test_csp_allows_exactly_the_inlined_scripts(demo_html):
    csp = html_lib.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', demo_html).group(1))
    assert "default-src 'none'" in csp and "unsafe-eval" not in csp and "connect-src" not in csp
    for script in (s for s in parts(demo_html).scripts if "type" not in s["attrs"]):
        digest = base64.b64encode(hashlib.sha256(script["body"].encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_all_seven_sections_in_order_with_navigation(demo_html):
    anchors = re.findall(r'<section id="([^"]+)">', demo_html)
    assert anchors == ["summary", "performance", "quality", "global", "atlas", "examples", "methodology"]
    for anchor in anchors:
        assert f'href="#{anchor}"' in demo_html


def test_sections_show_the_statistics(classifier, demo_html):
    run = demo_like_run(classifier)
    text = " ".join(parts(demo_html).text)
    for needle in ("Confusion matrix", "Per class", "Calibration", "Per group", "Faithfulness", "AOPC curves",
                   "Agreement between methods", "Cost", "Top words per class", "misclassified examples",
                   "Attention rollout", "Most focused head", "Which methods are most faithful here",
                   "Licences", "BSD-3-Clause", "Package versions"):
        assert needle in text, needle
    for name, info in run.methods.items():
        assert info.description in text
    for name, entry in run.metrics.items():
        assert entry["description"] in text
    assert f"at most {ATTENTION_MAPS} examples" in text
    assert "normalis" in text.lower() and "largest absolute" in text


def test_explorer_examples_carry_filter_attributes_and_bounded_attention(classifier, demo_html):
    run = demo_like_run(classifier)
    articles = re.findall(r'<article class="example" id="example-(\d+)" data-label="([^"]*)" data-prediction="([^"]*)" '
                          r'data-correct="([^"]*)" data-confidence="([^"]*)" data-attention="([01])"', demo_html)
    assert len(articles) == len(run.examples)
    by_index = {ex.index: ex for ex in run.examples}
    for index, label, prediction, correct, confidence, attention in articles:
        ex = by_index[int(index)]
        assert label == ("" if ex.label is None else str(ex.label))
        assert prediction == ("" if ex.prediction is None else str(ex.prediction))
        assert correct == ("" if ex.correct is None else str(int(ex.correct)))
        if ex.probabilities:
            assert abs(float(confidence) - max(ex.probabilities)) < 1e-4
    assert sum(a[5] == "1" for a in articles) == ATTENTION_MAPS
    assert demo_html.count('data-spec="tpl-attention"') == ATTENTION_MAPS
    assert demo_html.count('id="tpl-tokens"') == 1  # a template is held once, whatever the number of examples
    failed = next(ex for ex in run.examples if not ex.ok)
    assert f'id="ex{failed.index}-tokens"' not in demo_html and "Not explained: text is empty" in demo_html


def test_render_is_deterministic(classifier, demo_html):
    assert render_html(demo_like_run(classifier)) == demo_html


def test_a_run_without_statistics_still_renders_every_section(classifier):
    html = render_html(small_run(classifier))
    assert len(re.findall(r"<section id=", html)) == 7
    assert "The faithfulness statistic was not computed in this run." in html
    assert 'data-spec="tpl-tokens"' in html


def test_a_failed_statistic_is_reported(classifier):
    run = demo_like_run(classifier)
    run.metrics["faithfulness"] = {"description": "x", "params": {}, "result": None, "error": "ValueError: boom"}
    html = render_html(run)
    assert "The faithfulness statistic failed: ValueError: boom" in html


def test_hostile_text_stays_data(classifier):
    run = small_run(classifier)
    run.examples[0].text = HOSTILE
    run.examples[0].tokens[1] = HOSTILE
    html = render_html(run)
    assert "<script>alert" not in html and "<img src=x" not in html and "<!--<script>" not in html
    page = parts(html)
    assert not any(name.startswith("on") for _, name, _ in page.attributes)
    data = json_blocks(html)[f"ex{run.examples[0].index}-data"]
    assert data["tok"][0]["t"][1] == HOSTILE
    assert HOSTILE in "".join(page.text)


def test_hostile_dataset_everywhere_stays_data(hostile):
    run, html = hostile
    page = parts(html)
    assert page.tags <= ALLOWED_TAGS, page.tags - ALLOWED_TAGS
    assert not any(name.startswith("on") for _, name, _ in page.attributes)
    assert len([s for s in page.scripts if "type" not in s["attrs"]]) == 2
    for raw in ("<script>alert", "<img src=x", "<!--<script>", "</script><script>", '" onmouseover="'):
        assert raw not in html
    blocks = json_blocks(html)
    text = "".join(page.text)
    for i, ex in enumerate(run.examples):
        assert shown(hostile_text(i)) in text  # shown as text, bidi controls as visible markers
        if ex.ok:
            row = blocks[f"ex{ex.index}-data"]["tok"][0]
            assert row["t"] == [shown(t) for t in ex.tokens]
            assert row["W"] == [shown(w) for w in ex.words]
    for label in run.labels:
        assert shown(label) in text
    assert "⟨U+202E⟩evil override" in text and not BIDI_CONTROLS.search(html)
    words = {w["word"] for w in run.metrics["top_words"]["result"]["words"]}
    assert words & {s.strip().lower() for s in HOSTILE_STRINGS}
    assert "\u202eevil override" in HOSTILE_STRINGS and ex.tokens  # the override is in the data
    assert any("\u202e" in t for ex in run.examples for t in ex.tokens)
    assert "{{ 7*7 }}" in text and "{% raw %}" in text  # template syntax is not evaluated
    assert 'data-kind="failures"' in html and run.failures and shown(run.failures[0].reason) in text


def test_specs_are_valid_json_even_with_non_finite_scores(classifier):
    run = small_run(classifier)
    run.attributions["saliency"][0].tokens[1] = float("nan")
    run.attributions["saliency"][0].tokens[2] = float("inf")
    html = render_html(run)
    for block in (s for s in parts(html).scripts if s["attrs"].get("type") == "application/json"):
        json.loads(block["body"], parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))


# ----------------------------------------------------------------------------- the faithfulness statement

def faithfulness_result(values, control="random", n=50, se=0.01):
    summary = []
    for method, (comp, suff) in values.items():
        ref = values[control]
        summary.append({"method": method, "examples": n, "comprehensiveness": comp, "comprehensiveness_se": se,
                        "sufficiency": suff, "sufficiency_se": se, "is_control": method == control,
                        "comprehensiveness_lift": comp - ref[0], "sufficiency_lift": ref[1] - suff})
    return {"summary": summary, "control": control, "per_example": [], "fractions": [0.1, 0.5]}


def test_statement_names_the_leaders_ties_and_methods_below_random():
    result = faithfulness_result({"integrated_gradients": (0.36, 0.12), "occlusion": (0.35, 0.13),
                                  "saliency": (0.20, 0.22), "grad_x_input": (0.09, 0.31), "random": (0.13, 0.27)})
    text = " ".join(faithfulness_statement(result))
    assert "integrated_gradients and occlusion" in text and "tied" in text
    assert "grad_x_input scores below the random control" in text
    assert "larger than two standard errors" in text and "worse than chance" in text
    assert "not plausible" not in text and "plausible to a person" in text
    assert leaders(result, "comprehensiveness") == ["integrated_gradients", "occlusion"]


def test_statement_is_honest_when_nothing_moves_the_prediction():
    result = faithfulness_result({"a": (0.001, 0.0), "b": (0.0009, 0.0), "random": (0.001, 0.0)}, se=0.0001)
    text = " ".join(faithfulness_statement(result))
    assert "cannot tell the methods apart" in text and "below the random control" not in text


def test_statement_uses_paired_differences_when_per_example_rows_exist():
    result = faithfulness_result({"a": (0.30, 0.1), "b": (0.29, 0.1), "random": (0.1, 0.3)}, se=0.05)
    # Large unpaired standard errors would call a and b tied; per example, a beats b by 0.01 every time.
    result["per_example"] = [{"example": e, "method": m, "comprehensiveness": c + e * 0.01, "sufficiency": 0.1}
                             for e in range(20) for m, c in (("a", 0.30), ("b", 0.29), ("random", 0.1))]
    assert leaders(result, "comprehensiveness") == ["a"]


# ----------------------------------------------------------------------------- the summary's figures

def test_wilson_interval_matches_known_values():
    low, high = wilson(36, 50)
    assert low == pytest.approx(0.5833, abs=1e-4) and high == pytest.approx(0.8253, abs=1e-4)
    assert wilson(0, 10)[0] == 0 and wilson(10, 10)[1] == 1
    assert wilson(0, 0) is None


def test_summary_says_how_the_sample_relates_to_the_rows_and_which_accuracy_is_on_which_set(classifier):
    run = demo_like_run(classifier)
    run.dataset.update(split="held-out", split_rows=973)
    run.model["training"] = {"held_out_accuracy": 0.7934224049331963, "held_out_examples": 973,
                             "settings": {"epochs": 1, "learning_rate": 0.0001}, "train_examples": 3893}
    overall = run.metrics["performance"]["result"]["overall"]
    explained = sum(1 for ex in run.examples if ex.ok)
    figures = {f["label"]: f for f in headline(run)}
    sample = figures["held-out rows explained"]
    assert sample["value"] == f"{explained} of 973" and sample["detail"] == "seeded, class-stratified sample"
    low, high = wilson(overall["correct"], overall["examples"])
    accuracy = figures[f"accuracy on the {overall['examples']} explained examples"]
    assert accuracy["value"] == f"{overall['accuracy']:.3f}"
    assert accuracy["detail"] == f"Wilson 95% CI {low:.3f}–{high:.3f}"
    assert figures["accuracy on all 973 held-out rows, measured after fine-tuning"]["value"] == "0.793"
    html = render_html(run)
    text = " ".join(parts(html).text)
    assert f"{explained} of 973 held-out rows explained (seeded, class-stratified sample)" in text
    assert "measured on all 973 held-out rows right after fine-tuning" in text
    # Figures rounded and labelled, lists and settings readable.
    assert "0.7934224049331963" not in html and "held_out_accuracy" not in text
    assert "fine-tuning: held-out accuracy" in text and "0.793 on all 973 held-out rows" in text
    assert "epochs=1, learning_rate=0.0001" in text and "training rows" in text and "3,893" in text
    assert '["' not in text and "attention, attention_rollout" in text


def test_an_unsampled_run_says_every_row_was_read(classifier):
    run = small_run(classifier)
    figure = headline(run)[0]
    assert figure == {"label": "rows explained", "value": f"3 of {len(run.examples)}", "detail": "every row read"}


def test_the_page_is_split_into_partials():
    from reportgen.report.assets import asset_dir

    folder = asset_dir("templates")
    for name in ("head", "nav", "footer", "assets"):
        assert (folder / "partials" / f"{name}.html.j2").is_file(), name
    base = (folder / "base.html.j2").read_text(encoding="utf-8")
    assert '{% include "partials/head.html.j2" %}' in base and "<meta" not in base


def test_bidi_controls_are_shown_as_markers():
    assert shown("a\u202eb\u2066c\u200fd") == "a⟨U+202E⟩b⟨U+2066⟩c⟨U+200F⟩d"
    assert shown("plain עברית text") == "plain עברית text"  # right-to-left letters stay as they are


def test_methodology_names_the_parameters_changed_from_the_defaults(demo_html):
    text = " ".join(" ".join(parts(demo_html).text).split())
    # the demo-like run gives lime fewer samples than its default and leaves occlusion alone
    assert "changed from the method's defaults in this run: num_samples 40 (default 500)" in text
    assert text.count("changed from the method's defaults") == 3  # lime, integrated and layer gradients


def test_the_verdict_and_every_alert_link_lead_to_their_evidence(classifier, demo_html):
    from reportgen.report.alerts import alerts

    run = demo_like_run(classifier)
    found = alerts(run)
    assert found  # the demo-like run lowers budgets and has a failure, so it raises alerts
    ids = {value for _, name, value in parts(demo_html).attributes if name == "id"}
    links = re.findall(r'<li class="alert (?:warning|note)" data-kind="([a-z_]+)">.*?<a href="#([^"]+)">', demo_html)
    assert [kind for kind, _ in links] == [alert.kind for alert in found]
    assert all(target in ids for _, target in links), [t for _, t in links if t not in ids]
    verdict = demo_html.index('id="verdict"')
    assert verdict < demo_html.index('id="alerts"') < demo_html.index('class="figures"')
    assert ">What</dt>" in demo_html and ">How good</dt>" in demo_html


def test_the_table_tags_and_chart_colours_of_a_report_read_the_recorded_verdicts(classifier, demo_html):
    """The verdicts the measure stage recorded are what the summary chart colours and the quality table tags."""
    from reportgen.report.narrative import versus_control

    run = demo_like_run(classifier)
    faithfulness = run.metrics["faithfulness"]["result"]
    verdicts = {r["method"]: versus_control(r, faithfulness) for r in faithfulness["summary"] if not r["is_control"]}
    assert set(verdicts.values()) <= {"better", "tied", "worse"} and len(verdicts) > 3
    chart = {v["method"]: v["verdict"] for v in json_blocks(demo_html)["chart-summary-lift-spec"]["data"]["values"]}
    words = {"better": "better than random", "tied": "tied with random", "worse": "worse than random"}
    assert chart == {method: words[verdict] for method, verdict in verdicts.items()}
    start = demo_html.index('<table class="faithfulness">')
    table = demo_html[start:demo_html.index("</table>", start)]
    for method, verdict in verdicts.items():
        row = re.search(rf"<tr[^>]*>\s*<td><code>{method}</code>(.*?)</td>", table).group(1)
        assert ("tied with random" in row) == (verdict == "tied") and ("worse than random" in row) == (verdict == "worse")


def test_prose_table_tags_and_chart_colours_agree_on_which_methods_beat_random():
    """One rule, read three ways from one faithfulness result: the quality section's sentences, its table's tags
    and the summary chart's colours name the same methods better than, tied with and worse than random."""
    from reportgen.ops.stats import compared
    from reportgen.report.charts.summary import lift_bars
    from reportgen.report.sections.quality import quality
    from reportgen.results.records import RunResult

    lifts = {"occlusion": (0.30, 0.02), "saliency": (0.03, 0.02), "attention": (0.01, 0.03), "lime": (-0.08, 0.02)}
    result = faithfulness_result({**{m: (0.1 + lift, 0.2) for m, (lift, _) in lifts.items()}, "random": (0.1, 0.2)})
    for row in result["summary"]:
        if not row["is_control"]:
            lift, se = lifts[row["method"]]
            row.update(comprehensiveness_lift_se=se, versus_control=compared(lift, se), comprehensiveness_win_rate=0.5)
    expected = {"occlusion": "better", "saliency": "tied", "attention": "tied", "lime": "worse"}
    assert {r["method"]: r["versus_control"] for r in result["summary"] if not r["is_control"]} == expected
    words = {"better": "better than random", "tied": "tied with random", "worse": "worse than random"}
    chart = {v["method"]: v["verdict"] for v in lift_bars("c", result).spec["data"]["values"]}
    assert chart == {m: words[v] for m, v in expected.items()}
    result.update(definition="", curve=[])
    table = {r["method"]: r for r in quality(RunResult(metrics={"faithfulness": {"result": result}}))["table"]}
    assert {m for m, r in table.items() if r["tied"]} == {"saliency", "attention"}
    assert {m for m, r in table.items() if r["below"]} == {"lime"}
    sentences = " ".join(faithfulness_statement(result))
    assert "saliency and attention are not clearly better than the random control" in sentences
    assert "lime scores below the random control" in sentences and "occlusion scores below" not in sentences
