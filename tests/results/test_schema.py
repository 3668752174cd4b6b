"""The results schemas: valid JSON Schemas, named for the format version, one for every registered metric,
bounds that match what the writer writes, and every folder reportgen saves passes them."""

import json

import pytest
from jsonschema import Draft202012Validator

from reportgen.measure import metrics
from reportgen.measure.performance import MAX_CLASSES
from reportgen.results import schema, store

from support.runs import demo_like_run, hostile_run, small_run

FOLDER = schema.SCHEMAS / f"v{store.FORMAT_VERSION}"
SCHEMA_FILES = sorted(FOLDER.rglob("*.json"))


def read(name):
    return json.loads((FOLDER / name).read_text())


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=[path.relative_to(FOLDER).as_posix() for path in SCHEMA_FILES])
def test_every_schema_is_a_json_schema_named_for_its_place(path):
    document = json.loads(path.read_text())
    Draft202012Validator.check_schema(document)
    assert document["$id"] == schema.BASE_URI.format(version=store.FORMAT_VERSION) + path.relative_to(FOLDER).as_posix()


def test_the_schemas_are_those_of_the_format_the_store_writes():
    assert read("run.json")["properties"]["format_version"] == {"const": store.FORMAT_VERSION}
    assert {"run.json", "example.json", "attribution.json", "metric.json", "common.json"} <= {
        path.name for path in SCHEMA_FILES}


def test_every_registered_metric_has_a_schema_of_its_result():
    listed = read("run.json")["properties"]["metrics"]["properties"]
    for name in metrics.names():
        assert listed.get(name) == {"$ref": f"metrics/{name}.json"}, f"metric {name!r} has no schema"
        assert (FOLDER / "metrics" / f"{name}.json").is_file()


def test_the_per_class_rows_are_bounded_as_the_performance_metric_bounds_them():
    per_class = read("metrics/performance.json")["properties"]["result"]["properties"]["per_class"]
    assert per_class["maxItems"] == MAX_CLASSES + 1  # the listed classes and the row of the others


@pytest.mark.parametrize("make", [small_run, demo_like_run, hostile_run])
def test_every_run_reportgen_saves_passes_its_schemas(classifier, tmp_path, make):
    run = make(classifier)
    assert store.load(store.save(run, tmp_path / "results")).examples == run.examples
