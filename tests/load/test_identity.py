"""A model and a data file identified so a reader can find them again: folder name and weights' sha256, hub id
and revision, the data file's sha256; shown, shortened, in the report."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

from reportgen.load.data import load_dataset
from reportgen.load.identity import combined_sha256, model_identity
from reportgen.load.model import load_classifier
from reportgen.report.format import short_path
from reportgen.report.sections.summary import summary
from reportgen.report.verdict import what
from reportgen.results.records import RunResult


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_local_model_is_named_by_its_folder_and_the_sha256_of_its_weights(bert_dir):
    info = load_classifier(bert_dir, device="cpu").info
    assert info["folder"] == bert_dir.name and "hub_id" not in info
    assert info["weights_sha256"] == sha256(bert_dir / "model.safetensors")


def test_sharded_weights_hash_every_shard_by_name(tmp_path):
    first, second = tmp_path / "model-00001-of-00002.safetensors", tmp_path / "model-00002-of-00002.safetensors"
    first.write_bytes(b"one")
    second.write_bytes(b"two")
    lines = f"{first.name} {sha256(first)}\n{second.name} {sha256(second)}\n"
    assert combined_sha256([second, first]) == hashlib.sha256(lines.encode()).hexdigest()
    before = combined_sha256([first, second])
    second.write_bytes(b"TWO")
    assert combined_sha256([first, second]) != before


def test_a_hub_model_is_named_by_its_id_and_the_revision_it_resolved_to():
    model = SimpleNamespace(config=SimpleNamespace(_commit_hash="0123456789abcdef0123456789abcdef01234567"))
    assert model_identity("owner/name", model) == {"hub_id": "owner/name",
                                                   "revision": "0123456789abcdef0123456789abcdef01234567"}
    assert model_identity("owner/name", SimpleNamespace(config=SimpleNamespace())) == {"hub_id": "owner/name",
                                                                                      "revision": None}


def test_the_data_file_carries_its_sha256(csv_file):
    assert load_dataset(csv_file, ["negative", "positive"]).info["sha256"] == sha256(csv_file)


def test_the_report_names_both_and_shortens_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = RunResult(model={"name": "/root/.cache/reportgen/default-model/006b6", "folder": "006b6",
                           "weights_sha256": "ab" * 32, "architecture": "BertForSequenceClassification"},
                    dataset={"path": str(tmp_path / "data" / "reviews.csv"), "sha256": "cd" * 32})
    rows = dict(summary(run)["model_rows"])
    assert rows["location"] == "…/default-model/006b6" and rows["weights sha256"] == "ab" * 32
    assert dict(summary(run)["data_rows"])["file"] == "data/reviews.csv"
    line = what(run)
    assert "folder 006b6, weights sha256 abababababab…" in line and "(sha256 cdcdcdcdcdcd…)" in line
    hub = RunResult(model={"name": "owner/model", "hub_id": "owner/model", "revision": "f" * 40})
    assert "hub id owner/model at revision ffffffffffff…" in what(hub)
    assert short_path("relative/name") == "relative/name"
