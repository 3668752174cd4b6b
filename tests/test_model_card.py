import re

from browser import demo_like_run, hostile_run
from reportgen.model_card import model_card_markdown, write_model_card
from test_records import small_run


def table_rows(markdown: str) -> list[list[str]]:
    """Markdown table rows split on unescaped pipes."""
    return [re.split(r"(?<!\\)\|", line)[1:-1] for line in markdown.splitlines() if line.startswith("|")]


def test_model_card_has_headline_figures_and_the_faithfulness_table(classifier, tmp_path):
    run = demo_like_run(classifier)
    card = write_model_card(run, tmp_path / "model_card.md").read_text(encoding="utf-8")
    assert card.startswith("## Explainability audit (reportgen)")
    performance = run.metrics["performance"]["result"]["overall"]
    assert f"| accuracy | {performance['accuracy']:.3f} |" in card
    assert f"| macro-F1 | {performance['macro_f1']:.3f} |" in card
    assert "| expected calibration error |" in card and "| failures | 1 |" in card
    assert "### Faithfulness of the attribution methods" in card
    summary = run.metrics["faithfulness"]["result"]["summary"]
    for row in summary:
        name = f"{row['method']} (control)" if row["is_control"] else row["method"]
        line = next(line for line in card.splitlines() if line.startswith(f"| {name} |"))
        assert f"{row['comprehensiveness']:.3f} ± {row['comprehensiveness_se']:.3f}" in line
    assert "plausible to a person" in card  # the generated statement travels with the table


def test_model_card_tables_hold_with_hostile_names(classifier):
    card = model_card_markdown(hostile_run(classifier))
    assert "<script>" not in card and "<!--" not in card
    figures = card.split("| figure | value |")[1].split("\n\n")[0]
    assert {len(row) for row in table_rows("| figure | value |" + figures)} == {2}
    faithfulness = card.split("| method | examples |")[1].split("\n\n")[0]
    assert {len(row) for row in table_rows("| method | examples |" + faithfulness)} == {6}
    assert "&lt;script&gt;alert('model')&lt;/script&gt;" in card


def test_model_card_without_statistics(classifier):
    card = model_card_markdown(small_run(classifier))
    assert "| examples explained | 3 / 4 |" in card and "Faithfulness" not in card
