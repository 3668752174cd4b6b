"""`reportgen card --merge`: the audit section written into a hand-written model card between reportgen's
marks, every other byte of the card kept, and the metadata merged as the Hub parses it."""

from __future__ import annotations

import pytest

from reportgen.errors import ReportgenError
from reportgen.report.card_merge import merge_card
from reportgen.report.model_card import SECTION_BEGIN, SECTION_END
from reportgen.results import store

from support.cli import assert_one_line_error, invoke
from support.runs import demo_like_run, hostile_run

HAND_WRITTEN = """---
license: mit
language:
- en
tags:
- sentiment
datasets:
- rotten_tomatoes
model-index:
- name: my-model
  results:
  - task:
      type: text-classification
    dataset:
      name: SST-2
      type: sst2
    metrics:
    - type: accuracy
      value: 0.91
      name: Accuracy on the SST-2 test split
---

# my-model

A sentiment model.  Two spaces, *emphasis*, trailing spaces   
and a table:

| a | b |
|---|---|
| 1 | 2 |

## Limitations

Not for medical text.
"""


def body_of(card: str) -> str:
    return card.split("\n---\n", 1)[1]


def test_the_merge_keeps_every_other_byte_and_appends_the_audit(classifier, tmp_path):
    card = tmp_path / "README.md"
    card.write_text(HAND_WRITTEN, encoding="utf-8")
    merge_card(demo_like_run(classifier), card)
    merged = card.read_text(encoding="utf-8")
    body = body_of(merged)
    original = body_of(HAND_WRITTEN)
    assert body.startswith(original + "\n" + SECTION_BEGIN + "\n## Explainability audit (reportgen)\n")
    assert body.endswith(SECTION_END + "\n") and body.count(SECTION_BEGIN) == 1
    assert "![Reliability diagram" in body and (tmp_path / "figures" / "calibration.png").is_file()


def test_a_rerun_replaces_only_the_section_between_the_marks(classifier, tmp_path):
    card = tmp_path / "README.md"
    card.write_text(HAND_WRITTEN, encoding="utf-8")
    run = demo_like_run(classifier)
    merge_card(run, card)
    first = card.read_text(encoding="utf-8")
    edited = first.replace(SECTION_END + "\n", SECTION_END + "\n\n## Citation\n\nAdded after the audit.\n")
    edited = edited.replace("## Limitations", "## Known limitations")
    card.write_text(edited, encoding="utf-8")
    run.metrics["performance"]["result"]["overall"]["accuracy"] = 0.123
    merge_card(run, card)
    again = card.read_text(encoding="utf-8")
    before, _, rest = body_of(again).partition(SECTION_BEGIN)
    after = rest.partition(SECTION_END + "\n")[2]
    assert before == body_of(edited).partition(SECTION_BEGIN)[0] and "## Known limitations" in before
    assert after == "\n## Citation\n\nAdded after the audit.\n"
    assert again.count(SECTION_BEGIN) == 1 and "0.123" in again


def test_the_metadata_is_merged_as_the_hub_reads_it(classifier, tmp_path):
    from huggingface_hub import ModelCard

    card = tmp_path / "README.md"
    card.write_text(HAND_WRITTEN, encoding="utf-8")
    run = demo_like_run(classifier)
    merge_card(run, card)
    merge_card(run, card)  # a rerun replaces reportgen's results instead of adding them again
    data = ModelCard(card.read_text(encoding="utf-8")).data
    assert data.license == "mit" and data.language == ["en"] and data.model_name == "my-model"
    assert data.tags == ["sentiment", "explainability", "interpretability", "reportgen", "sequence_classification"]
    assert data.datasets == ["rotten_tomatoes"] and data.library_name == "transformers"
    theirs = [r for r in data.eval_results if r.dataset_name == "SST-2"]
    ours = [r for r in data.eval_results if r.source_name == "reportgen"]
    assert [(r.metric_type, r.metric_value) for r in theirs] == [("accuracy", 0.91)]
    performance = run.metrics["performance"]["result"]["overall"]
    assert {r.metric_type: r.metric_value for r in ours} == {
        "accuracy": performance["accuracy"], "f1": performance["macro_f1"],
        "ece": run.metrics["calibration"]["result"]["ece"]}
    assert len(data.eval_results) == 4


def test_a_card_with_windows_newlines_keeps_them(classifier, tmp_path):
    card = tmp_path / "README.md"
    original = "# Title\r\n\r\nText.\r\n"
    card.write_bytes(original.encode())
    merge_card(demo_like_run(classifier), card)
    merged = card.read_bytes().decode()
    assert merged.split("---\r\n", 2)[2].startswith(original + "\r\n" + SECTION_BEGIN + "\r\n")
    assert "\n" not in merged.replace("\r\n", "")


def test_a_new_card_and_a_hostile_run(classifier, tmp_path):
    from huggingface_hub import ModelCard

    run = hostile_run(classifier)
    card = merge_card(run, tmp_path / "new" / "README.md")
    text = card.read_text(encoding="utf-8")
    assert ModelCard(text).data.model_name == run.model["display_name"]
    assert text.count(SECTION_BEGIN) == 1 and "<script>" not in text.split(SECTION_BEGIN)[1]


@pytest.mark.parametrize("body, problem", [
    (f"{SECTION_BEGIN}\n{SECTION_BEGIN}\n{SECTION_END}\n", "2 begin and 1 end marks"),
    (f"{SECTION_END}\n{SECTION_BEGIN}\n", "1 begin and 1 end marks"),
    (f"{SECTION_BEGIN}\nno end\n", "1 begin and 0 end marks"),
])
def test_marks_out_of_order_are_refused_and_the_card_kept(classifier, tmp_path, body, problem):
    card = tmp_path / "README.md"
    card.write_text(body, encoding="utf-8")
    with pytest.raises(ReportgenError, match=problem):
        merge_card(demo_like_run(classifier), card)
    assert card.read_text(encoding="utf-8") == body


def test_the_card_command_merges_and_errors_in_one_line(classifier, tmp_path):
    results = store.save(demo_like_run(classifier), tmp_path / "results")
    card = tmp_path / "repo" / "README.md"
    card.parent.mkdir()
    card.write_text(HAND_WRITTEN, encoding="utf-8")
    done = invoke("card", results, "--merge", card, "--report-link", "https://example.org/a report.html")
    assert done.exit_code == 0, done.output
    merged = card.read_text(encoding="utf-8")
    assert "[report.html](https://example.org/a%20report.html)" in merged and "[results/](../results/)" in merged
    standalone = invoke("card", results, "--out", tmp_path / "card" / "model_card.md")
    assert standalone.exit_code == 0 and (tmp_path / "card" / "figures" / "top-words.svg").is_file()
    assert_one_line_error(invoke("card", results, "--out", tmp_path / "x.md", "--merge", card), "not both")
    card.write_text("---\nlicense: [mit\n---\n# x\n", encoding="utf-8")
    assert_one_line_error(invoke("card", results, "--merge", card), "its front matter is not YAML")
    assert card.read_text(encoding="utf-8") == "---\nlicense: [mit\n---\n# x\n"
