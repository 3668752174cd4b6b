import csv
from pathlib import Path

import pytest

from support.tiny_models import CORPUS, build_keyword_model, build_model_folder

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


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """The tiny models gain nothing from threads; on a busy 2-core machine OpenMP workers
    spinning made model-heavy tests several times slower. Restored after the session."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def classifiers(model_dirs, three_class_dir):
    """Every tiny architecture loaded, plus the three-class BERT as "bert3"."""
    from reportgen.load.model import load_classifier

    loaded = {kind: load_classifier(folder, device="cpu") for kind, folder in model_dirs.items()}
    loaded["bert3"] = load_classifier(three_class_dir, device="cpu")
    return loaded


@pytest.fixture(scope="session")
def classifier(bert_dir):
    from reportgen.load.model import load_classifier

    return load_classifier(bert_dir, device="cpu")


@pytest.fixture(scope="session")
def keyword_classifier(tmp_path_factory):
    """A tiny BERT trained so that one known word ('great' / 'awful') decides the class."""
    from reportgen.load.model import load_classifier

    return load_classifier(build_keyword_model(tmp_path_factory.mktemp("keyword") / "bert"), device="cpu")


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
