import csv
from pathlib import Path

import pytest

from tiny_models import CORPUS, build_model_folder

MODEL_KINDS = ("bert", "distilbert", "roberta")


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory) -> dict[str, Path]:
    """One tiny saved classifier folder per architecture (two classes)."""
    root = tmp_path_factory.mktemp("models")
    return {kind: build_model_folder(root / kind, kind) for kind in MODEL_KINDS}


@pytest.fixture(scope="session")
def bert_dir(model_dirs) -> Path:
    return model_dirs["bert"]


@pytest.fixture(scope="session")
def three_class_dir(tmp_path_factory) -> Path:
    return build_model_folder(tmp_path_factory.mktemp("models3") / "bert3", "bert", num_labels=3)


@pytest.fixture(scope="session")
def classifier(bert_dir):
    from reportgen.modeling import load_classifier

    return load_classifier(bert_dir, device="cpu")


@pytest.fixture
def csv_file(tmp_path) -> Path:
    """A small labeled CSV whose labels are the tiny models' label names."""
    path = tmp_path / "data.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "group"])
        for i, text in enumerate(CORPUS * 2):
            writer.writerow([text, "positive" if i % 2 else "negative", "a" if i % 3 else "b"])
    return path
