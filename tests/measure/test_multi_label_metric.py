"""The multi-label quality metric, counted per input row, against scikit-learn's definitions and by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, precision_recall_fscore_support

from reportgen.measure import compute_metrics
from reportgen.measure.multi_label import MultiLabelQuality, expected_calibration_error
from reportgen.results import schema
from reportgen.results.records import Example, RunResult

LABELS = ["toxic", "insult", "threat"]
# (true labels, predicted labels, probabilities) per row; None: unlabeled
ROWS = [
    ([0, 1], [0, 1], [0.9, 0.8, 0.1]),
    ([0], [0, 2], [0.7, 0.2, 0.6]),
    ([], [], [0.1, 0.3, 0.2]),
    ([1, 2], [1], [0.4, 0.95, 0.45]),
    ([2], [], [0.2, 0.1, 0.35]),
    (None, [0], [0.8, 0.1, 0.1]),
]


def units_of(rows, failed_row: bool = True) -> list[Example]:
    """Each row as the engine leaves it: once per predicted label (once without a target when it has none),
    units numbered through; plus a failed row."""
    units = []
    for row, (labels, predicted, probabilities) in enumerate(rows):
        for target in predicted or [None]:
            units.append(Example(index=len(units), text=f"row {row}", source=row, labels=labels, predicted=predicted,
                                 probabilities=probabilities, target=target))
    if failed_row:
        units.append(Example(index=len(units), text="", source=len(rows), error="text is empty"))
    return units


def multi_label_run(rows=ROWS) -> RunResult:
    return RunResult(model={"labels": LABELS, "task": "multi_label"}, config={"threshold": 0.5},
                     examples=units_of(rows))


def indicator(sets) -> np.ndarray:
    matrix = np.zeros((len(sets), len(LABELS)), dtype=int)
    for i, labels in enumerate(sets):
        matrix[i, labels] = 1
    return matrix


@pytest.fixture(scope="module")
def result():
    return MultiLabelQuality().compute(multi_label_run(), None)


def test_rows_count_once_whatever_their_units(result):
    assert result["counts"] == {"rows": 7, "scored": 5, "failed": 1, "unlabeled": 1}
    assert result["overall"]["rows"] == 5


def test_per_label_and_overall_values_are_scikit_learns(result):
    scored = [row for row in ROWS if row[0] is not None]
    truth, predicted = indicator([r[0] for r in scored]), indicator([r[1] for r in scored])
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, zero_division=0)
    for j, row in enumerate(result["per_label"]):
        assert row["label"] == LABELS[j] and row["support"] == support[j]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((precision[j], recall[j], f1[j]))
        assert row["predicted"] == predicted[:, j].sum()
    overall = result["overall"]
    assert overall["micro_f1"] == pytest.approx(f1_score(truth, predicted, average="micro", zero_division=0))
    assert overall["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro", zero_division=0))
    assert overall["subset_accuracy"] == pytest.approx(accuracy_score(truth, predicted)) == 0.4
    assert overall["subset_accuracy_se"] == pytest.approx(np.sqrt(0.4 * 0.6 / 5))
    assert overall["hamming_loss"] == pytest.approx(hamming_loss(truth, predicted)) == pytest.approx(3 / 15)
    assert overall["label_cardinality"] == pytest.approx(6 / 5) and overall["predicted_cardinality"] == 1.0


def test_per_label_calibration_by_hand(result):
    threat = result["per_label"][2]  # probabilities 0.1, 0.6, 0.2, 0.45, 0.35 against truth 0, 0, 0, 1, 1
    # ten bins: 0.1 -> [0.1, 0.2); 0.2 -> [0.2, 0.3); 0.35 -> [0.3, 0.4); 0.45 -> [0.4, 0.5); 0.6 -> [0.6, 0.7)
    assert threat["ece"] == pytest.approx((0.1 + 0.6 + 0.2 + 0.55 + 0.65) / 5)
    assert threat["brier"] == pytest.approx((0.01 + 0.36 + 0.04 + 0.3025 + 0.4225) / 5)
    assert threat["mean_probability"] == pytest.approx(0.34) and threat["positive_rate"] == pytest.approx(0.4)
    two_bins = expected_calibration_error(np.array([0.2, 0.4, 0.9, 1.0]), np.array([0, 1, 1, 1]), 2)
    assert two_bins == pytest.approx(0.5 * abs(0.3 - 0.5) + 0.5 * abs(0.95 - 1.0))  # 1.0 falls in the last bin


def test_it_is_computed_for_multi_label_runs_only():
    run = multi_label_run()
    compute_metrics(run, None, ["multi_label", "performance", "calibration"])
    assert set(run.metrics) == {"multi_label"}
    single = RunResult(model={"labels": LABELS}, examples=[Example(index=0, text="a", label=0, prediction=0,
                                                                  probabilities=[1.0, 0, 0], target=0)])
    compute_metrics(single, None, ["multi_label"])
    assert "multi_label" not in single.metrics


def schema_errors(result) -> list:
    folder = schema.SCHEMAS / "v2"
    registry = Registry().with_resources(
        (schema.BASE_URI.format(version=2) + path.relative_to(folder).as_posix(),
         Resource.from_contents(json.loads(path.read_text()))) for path in folder.rglob("*.json"))
    document = json.loads((folder / "metrics" / "multi_label.json").read_text())
    entry = {"description": "d", "params": {"bins": 10}, "result": json.loads(json.dumps(result)), "seconds": 0.0}
    return list(Draft202012Validator(document, registry=registry).iter_errors(entry))


def test_the_result_passes_its_schema(result):
    errors = schema_errors(result)
    assert not errors, errors[0].message


def test_the_schema_refuses_a_hostile_result(result):
    broken = json.loads(json.dumps(result))
    broken["per_label"][0]["precision"] = 1.5
    broken["counts"]["rows"] = -1
    del broken["overall"]["hamming_loss"]
    assert len(schema_errors(broken)) == 3


def test_without_scored_rows_nothing_is_measured_and_nothing_tabled():
    unscored = [(None, [0], [0.8, 0.1, 0.1]), (None, [], [0.1, 0.2, 0.3])]
    result = MultiLabelQuality().compute(multi_label_run(unscored), None)
    assert result["counts"] == {"rows": 3, "scored": 0, "failed": 1, "unlabeled": 2}
    assert all(row[key] is None for row in result["per_label"]
               for key in ("precision", "recall", "f1", "ece", "brier", "mean_probability", "positive_rate"))
    assert set(result["overall"].values()) == {0, None} and result["overall"]["rows"] == 0
    assert not schema_errors(result)
    panel = MultiLabelQuality.present(result)
    assert panel.table is None and panel.chart is None and set(panel.definitions) == set(result["definitions"])


def test_a_run_without_a_recorded_threshold_gets_the_default():
    run = multi_label_run()
    run.config = {}
    assert MultiLabelQuality().compute(run, None)["threshold"] == 0.5


@pytest.mark.parametrize("change", [{"labels": [0, 3]}, {"predicted": [5]}, {"probabilities": [0.9, 0.8]}])
def test_a_row_that_does_not_fit_the_labels_is_refused_in_one_line(change):
    run = multi_label_run()
    for unit in run.examples:
        if unit.row == 0:
            for key, value in change.items():
                setattr(unit, key, value)
    compute_metrics(run, None, ["multi_label"])
    entry = run.metrics["multi_label"]
    assert entry["result"] is None and "\n" not in entry["error"]
    assert entry["error"].startswith("ReportgenError: row 0 does not fit the model's 3 labels")


def test_the_panel_keeps_label_names_as_data():
    hostile = '"><script>alert(1)</script>'
    run = multi_label_run()
    run.model["labels"] = [hostile, "b", "c"]
    panel = MultiLabelQuality.present(MultiLabelQuality().compute(run, None))
    assert panel.table.rows[0]["label"] == hostile
    assert hostile in {value["label"] for value in panel.chart["data"]["values"]}
    assert hostile not in json.dumps({k: v for k, v in panel.chart.items() if k != "data"})
