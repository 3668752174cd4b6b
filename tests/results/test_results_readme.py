"""A results folder documents itself: a README naming each file, and the JSON Schemas loading validates
against, beside the files; every file of a saved run validates against the schema copied into the folder,
read with jsonschema alone (as another tool would)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from reportgen.results import store, tables
from reportgen.results.manifest import LISTED_NAME

from support.runs import demo_like_run


def validator_for(folder: Path, name: str) -> Draft202012Validator:
    """A validator of the folder's own schema ``name``, its references resolved inside schema/."""
    resources = []
    for path in (folder / "schema").rglob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    return Draft202012Validator(json.loads((folder / "schema" / name).read_text(encoding="utf-8")), registry=registry)


def test_every_file_of_a_saved_run_validates_against_the_schema_beside_it(classifier, tmp_path):
    run = demo_like_run(classifier)
    folder = store.save(run, tmp_path / "results")
    meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    validator_for(folder, "run.json").validate(meta)
    for name, entry in meta["metrics"].items():
        validator_for(folder, f"metrics/{name}.json").validate(entry)
    example = validator_for(folder, "example.json")
    for line in (folder / "examples.jsonl").read_text(encoding="utf-8").splitlines():
        example.validate(json.loads(line))
    attribution = validator_for(folder, "attribution.json")
    checked = 0
    for path in (folder / "attributions").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            attribution.validate(json.loads(line))
            checked += 1
    assert checked == sum(len(table) for table in run.attributions.values())
    assert any("contrast" in json.loads(line)["extra"]
               for line in (folder / "attributions" / "saliency.jsonl").read_text(encoding="utf-8").splitlines())
    for name in tables.NAMES:
        rows = pq.read_table(folder / "tables" / f"{name}.parquet").to_pylist()
        table = validator_for(folder, f"tables/{name}.json")
        for row in rows:
            table.validate(row)
        assert rows, name


def test_the_readme_names_every_file_and_the_manifest_lists_it(classifier, tmp_path):
    run = demo_like_run(classifier)
    folder = store.save(run, tmp_path / "results")
    readme = (folder / "README.md").read_text(encoding="utf-8")
    table_files = {*(f"tables/{name}.parquet" for name in tables.NAMES),
                   *(f"schema/tables/{name}.json" for name in tables.NAMES)}
    for name in ("run.json", "examples.jsonl", "manifest.json", *(f"attributions/{m}.jsonl" for m in run.attributions),
                 *table_files):
        assert f"`{name}`" in readme
    listed = {entry["file"] for entry in json.loads((folder / "manifest.json").read_text())["files"]}
    assert "README.md" in listed and "schema/run.json" in listed and "schema/metrics/top_words.json" in listed
    assert table_files <= listed
    assert 'pd.read_parquet("tables/attributions.parquet")' in readme and 'merge(examples, on="example")' in readme
    assert "index" not in readme  # one join key, named example everywhere
    assert all(LISTED_NAME.fullmatch(name) for name in listed)
    assert store.load(folder).examples == run.examples  # loading reads past them
