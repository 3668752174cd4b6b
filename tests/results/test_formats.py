"""Results formats: format 3 names an example ``example`` in every file; folders of format 2 (``index`` in
examples.jsonl) still load, each against its own schemas; any other format is refused in one line naming the
format found and those this reportgen reads."""

from __future__ import annotations

import json

import pytest

from reportgen.errors import ReportgenError
from reportgen.results import manifest, store

from support.runs import small_run


def lines_of(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_file_of_format_3_names_an_example_example(classifier, tmp_path):
    run = small_run(classifier)
    folder = store.save(run, tmp_path / "results")
    assert json.loads((folder / "run.json").read_text())["format_version"] == store.FORMAT_VERSION == 3
    examples = lines_of(folder / "examples.jsonl")
    assert [row["example"] for row in examples] == [ex.index for ex in run.examples]
    assert not any("index" in row for row in examples)
    assert all(row["example"] in {ex.index for ex in run.examples} for row in lines_of(
        folder / "attributions" / "saliency.jsonl"))
    assert [f["example"] for f in json.loads((folder / "run.json").read_text())["failures"]] == [2]


def test_a_folder_of_format_2_loads_equal_to_the_run(format_2):
    run, folder = format_2
    assert "index" in lines_of(folder / "examples.jsonl")[0]
    assert store.load(folder) == run


def test_a_folder_of_format_2_is_validated_against_the_schemas_of_format_2(format_2):
    run, folder = format_2
    rows = lines_of(folder / "examples.jsonl")
    rows[0]["example"] = rows[0].pop("index")  # a format 3 line in a format 2 folder
    (folder / "examples.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    manifest.reseal(folder)
    with pytest.raises(ReportgenError, match=r"examples\.jsonl, line 1: the line lacks \"index\""):
        store.load(folder)


@pytest.mark.parametrize("version", [1, 99, "3", 3.0, True, None])
def test_another_format_is_refused_naming_it_and_the_formats_read(classifier, tmp_path, version):
    folder = store.save(small_run(classifier), tmp_path / "results")
    meta = json.loads((folder / "run.json").read_text())
    meta["format_version"] = version
    (folder / "run.json").write_text(json.dumps(meta))
    manifest.reseal(folder)
    with pytest.raises(ReportgenError) as refused:
        store.load(folder)
    message = str(refused.value)
    assert message == f"{folder} holds results format {version!r}; this reportgen reads formats 2 and 3"
    assert "\n" not in message
