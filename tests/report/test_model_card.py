import re

from reportgen.ops.stats import wilson
from reportgen.report.model_card import (CARD_MARK, SECTION_BEGIN, SECTION_END, _cell, model_card_markdown,
                                         write_model_card)

from support.runs import demo_like_run, hostile_run, small_run


def table_rows(markdown: str) -> list[list[str]]:
    """Markdown table rows split on unescaped pipes."""
    return [re.split(r"(?<!\\)\|", line)[1:-1] for line in markdown.splitlines() if line.startswith("|")]


def test_model_card_has_headline_figures_and_the_faithfulness_table(classifier, tmp_path):
    run = demo_like_run(classifier)
    card = write_model_card(run, tmp_path / "model_card.md").read_text(encoding="utf-8")
    body = card.split("\n---\n", 1)[1]  # after the front matter
    mark, title, _, begin, heading = body.splitlines()[:5]
    assert card.startswith("---\n") and mark.encode() == CARD_MARK and title == f"# {run.model['folder']}"
    assert begin == SECTION_BEGIN and card.endswith(SECTION_END + "\n")
    assert heading == "## Explainability audit (reportgen)" and "### About this audit\n\nreportgen ran " in card
    performance = run.metrics["performance"]["result"]["overall"]
    n = performance["examples"]
    low, high = wilson(performance["correct"], n)
    assert (f"| accuracy on the {n} explained examples | {performance['accuracy']:.3f} (Wilson 95% CI "
            f"{low:.3f}–{high:.3f}) |") in card
    assert f"| macro-F1 on the {n} explained examples | {performance['macro_f1']:.3f} |" in card
    assert f"| expected calibration error on the {n} explained examples |" in card and "| failures | 1 |" in card
    assert f"| rows explained | {n} of {len(run.examples)} (every row read) |" in card
    assert "### Faithfulness of the attribution methods" in card
    summary = run.metrics["faithfulness"]["result"]["summary"]
    for row in summary:
        name = f"{_cell(row['method'])} (control)" if row["is_control"] else _cell(row["method"])
        line = next(line for line in card.splitlines() if line.startswith(f"| {name} |"))
        assert f"{row['comprehensiveness']:.3f} ± {row['comprehensiveness_se']:.3f}" in line
    assert "plausible to a person" in card  # the generated statement travels with the table


def test_model_card_tables_hold_with_hostile_names(classifier):
    card = model_card_markdown(hostile_run(classifier)).split(CARD_MARK.decode(), 1)[1]
    assert "<script>" not in card  # and no comment but reportgen's own: its mark and the section's two
    assert card.count("<!--") == 2 and card.count(SECTION_BEGIN) == card.count(SECTION_END) == 1
    figures = card.split("| figure | value |")[1].split("\n\n")[0]
    assert {len(row) for row in table_rows("| figure | value |" + figures)} == {2}
    faithfulness = card.split("| method | examples |")[1].split("\n\n")[0]
    assert {len(row) for row in table_rows("| method | examples |" + faithfulness)} == {6}
    assert "&lt;script&gt;alert('model')&lt;/script&gt;" in card


def test_model_card_without_statistics(classifier):
    card = model_card_markdown(small_run(classifier))
    assert "| rows explained | 3 of 4 (every row read) |" in card and "Faithfulness" not in card


def test_model_card_states_the_sample_and_names_model_and_data_once(classifier):
    run = demo_like_run(classifier)
    run.model["display_name"] = "all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes"
    run.dataset.update(name="Rotten Tomatoes snippets", split="held-out", split_rows=973)
    run.model["training"] = {"held_out_accuracy": 0.7934224049331963, "held_out_examples": 973}
    card = model_card_markdown(run)
    assert "on Rotten Tomatoes on Rotten Tomatoes" not in card
    assert "Model: all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes. Data: Rotten Tomatoes snippets." in card
    explained = sum(1 for ex in run.examples if ex.ok)
    assert f"| held-out rows explained | {explained} of 973 (seeded, class-stratified sample) |" in card
    assert "| accuracy on all 973 held-out rows, measured after fine-tuning | 0.793 (Wilson 95% CI" in card
    assert "right after fine-tuning, a larger set" in card


def test_cells_escape_markdown_syntax():
    assert _cell("[click](http://x) *bold* _it_ `code` \\ | ~~gone~~") == (
        "\\[click\\](http://x) \\*bold\\* \\_it\\_ \\`code\\` \\\\ \\| \\~\\~gone\\~\\~")
    assert _cell("a\\|b") == "a\\\\\\|b"  # a backslash before a pipe cannot unescape it
    assert _cell("<b>&</b>\nnext") == "&lt;b&gt;&amp;&lt;/b&gt; next"
    assert _cell("layer_integrated_gradients _x_ a__b") == "layer_integrated_gradients \\_x\\_ a\\_\\_b"


def test_model_card_makes_no_link_or_emphasis_from_dataset_names(classifier):
    run = demo_like_run(classifier)
    run.model["display_name"] = "[evil](https://example.com) *model*"
    run.dataset["name"] = "`data`_set_"
    card = model_card_markdown(run)
    markdown = card.split(CARD_MARK.decode(), 1)[1]  # the front matter is YAML, read by the Hub, never rendered
    assert not re.search(r"(?<!\\)[\[\]`*]", markdown.split("### Faithfulness")[0])
    assert "\\[evil\\](https://example.com) \\*model\\*" in card


def test_the_front_matter_is_what_the_hub_parses_with_the_results_values(classifier):
    from huggingface_hub import ModelCard

    run = demo_like_run(classifier)
    parsed = ModelCard(model_card_markdown(run)).data
    performance = run.metrics["performance"]["result"]["overall"]
    values = {(r.metric_type, r.metric_name): r.metric_value for r in parsed.eval_results}
    n = performance["examples"]
    assert values == {("accuracy", f"Accuracy on {n} explained examples"): performance["accuracy"],
                      ("f1", f"Macro-F1 on {n} explained examples"): performance["macro_f1"],
                      ("ece", f"Expected calibration error on {n} explained examples"):
                          run.metrics["calibration"]["result"]["ece"]}
    assert {r.task_type for r in parsed.eval_results} == {"text-classification"}
    assert parsed.library_name == "transformers" and "explainability" in parsed.tags


def test_hostile_names_cannot_break_the_front_matter(classifier):
    from huggingface_hub import ModelCard

    run = hostile_run(classifier)
    run.model["display_name"] = "x\n---\nlicense: evil\n'\"{{ 7*7 }}: - [a"
    run.dataset["name"] = "]: &anchor *alias\n---"
    card = model_card_markdown(run)
    parsed = ModelCard(card).data
    assert parsed.model_name == run.model["display_name"] and getattr(parsed, "license", None) is None
    assert {r.dataset_name for r in parsed.eval_results} == {run.dataset["name"]}
    assert card.count("\n---\n") == 1  # the front matter ends once, where reportgen ends it


def test_the_card_lists_the_reports_alerts_with_links_to_their_evidence(classifier):
    from reportgen.report.alerts import alerts

    run = demo_like_run(classifier)
    found = alerts(run)
    assert found  # the demo-like run's budgets are lowered, at least
    listed = [line for line in model_card_markdown(run).split("### Alerts\n\n")[1].split("\n\n")[0].splitlines()]
    assert listed == [f"- **{a.level}**: {_cell(a.text)} ([{_cell(a.evidence_label)}](report.html#{a.evidence}))"
                      for a in found]


def test_a_run_without_alerts_says_so(classifier, monkeypatch):
    import reportgen.report.model_card as model_card

    monkeypatch.setattr(model_card, "alerts", lambda run: [])
    card = model_card_markdown(small_run(classifier))
    assert "### Alerts\n\nNone: no check of the report's alerts fired on this run.\n" in card and "- **" not in card
