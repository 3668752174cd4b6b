"""Loading a model: no code runs and no network is reached unless asked for, and a damaged
model folder or an unusable device stops with one line and exit code 2."""

import json
import pickle
import re
import shutil
import socket
import sys
from pathlib import Path

import pytest
import torch

from reportgen.errors import ReportgenError
from reportgen.load.model import load_classifier

from support.cli import assert_one_line_error, invoke
from support.cli import run_args as cli_run_args


def run_args(model, data, tmp_path, *extra):
    return cli_run_args(model, data, tmp_path / "out" / "report.html", "attention", *extra)



@pytest.fixture
def model_copy(bert_dir, tmp_path) -> Path:
    return shutil.copytree(bert_dir, tmp_path / "model")


# ----------------------------------------------------------------------------- damaged folders


@pytest.mark.parametrize("name, damaged, pattern", [
    ("model.safetensors", lambda raw: bytes(range(100)), r"cannot load model '.*': .*header too large"),
    ("model.safetensors", lambda raw: raw[: len(raw) // 2], r"cannot load model '.*': .*metadata"),
    ("config.json", lambda raw: b"{not json", r"cannot read .*config\.json: Expecting"),
    ("config.json", lambda raw: b'{"model_type": "no-such-kind"}', r"cannot load the config of model .*does not recognize"),
    ("tokenizer.json", lambda raw: b"{not json", r"cannot load the tokenizer of model"),
])
def test_damaged_model_folder_is_one_line(model_copy, csv_file, tmp_path, name, damaged, pattern):
    path = model_copy / name
    path.write_bytes(damaged(path.read_bytes()))
    assert_one_line_error(invoke(*run_args(model_copy, csv_file, tmp_path)), pattern)


def test_folder_without_tokenizer_files_is_refused(bert_dir, csv_file, tmp_path):
    """transformers would build a tokenizer of special tokens only and read every word as [UNK]."""
    folder = tmp_path / "no_tokenizer"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(bert_dir / name, folder / name)
    result = invoke(*run_args(folder, csv_file, tmp_path))
    assert_one_line_error(result, r"has no tokenizer vocabulary \(only special tokens\).*tokenizer\.json")


# ----------------------------------------------------------------------------- devices


def test_unknown_device(bert_dir, csv_file, tmp_path):
    result = invoke(*run_args(bert_dir, csv_file, tmp_path, "--device", "foo"))
    assert_one_line_error(result, r"unknown device 'foo' given with --device; use cpu, cuda or cuda:N")


def test_cuda_on_a_machine_without_cuda(bert_dir, csv_file, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = invoke(*run_args(bert_dir, csv_file, tmp_path, "--device", "cuda"))
    assert_one_line_error(result, r"--device cuda: CUDA is not available on this machine; use --device cpu")


def test_cuda_device_that_does_not_exist(bert_dir, csv_file, tmp_path, monkeypatch):
    """With CUDA (or a CPU-only torch told it has CUDA) a device number that is not there is refused."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    result = invoke(*run_args(bert_dir, csv_file, tmp_path, "--device", "cuda:999"))
    assert_one_line_error(result, r"--device cuda:999 cannot be used on this machine")


def test_cuda_is_used_when_present_and_cpu_otherwise(monkeypatch):
    from reportgen.load.model import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device(None) == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("cpu")


def test_device_is_checked_before_the_model_loads(bert_dir, monkeypatch):
    import transformers

    def never(*args, **kwargs):
        raise AssertionError("the model was loaded before the device was checked")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", never)
    with pytest.raises(ReportgenError, match="unknown device"):
        load_classifier(bert_dir, device="foo")


# ----------------------------------------------------------------------------- no code runs unless trusted

CUSTOM_CODE = '''
from pathlib import Path

from transformers import BertConfig, BertForSequenceClassification

Path({marker!r}).touch()


class TinyCustomConfig(BertConfig):
    model_type = "tinycustom"


class TinyCustomModel(BertForSequenceClassification):
    config_class = TinyCustomConfig
'''


def add_custom_code(folder: Path, marker: Path, config_name: str) -> None:
    """Point ``config_name``'s auto_map at a module of the folder that touches ``marker`` when imported."""
    (folder / "custom_model.py").write_text(CUSTOM_CODE.format(marker=str(marker)))
    config = json.loads((folder / config_name).read_text())
    if config_name == "config.json":
        config.update(model_type="tinycustom", architectures=["TinyCustomModel"], auto_map={
            "AutoConfig": "custom_model.TinyCustomConfig",
            "AutoModelForSequenceClassification": "custom_model.TinyCustomModel",
        })
    else:
        config["auto_map"] = {"AutoTokenizer": ["custom_model.TinyCustomTokenizer", None]}
    (folder / config_name).write_text(json.dumps(config))


@pytest.mark.parametrize("config_name", ["config.json", "tokenizer_config.json"])
def test_custom_code_is_refused_without_trust_remote_code(model_copy, csv_file, tmp_path, config_name):
    marker = tmp_path / "custom_code_ran"
    add_custom_code(model_copy, marker, config_name)
    result = invoke(*run_args(model_copy, csv_file, tmp_path))
    assert_one_line_error(result, rf"needs its own code \('auto_map' in {config_name}\).*--trust-remote-code")
    assert not marker.exists()


def test_custom_code_runs_with_trust_remote_code(model_copy, tmp_path, monkeypatch):
    """The control for the test above: the folder's code really is imported once trusted."""
    import transformers.dynamic_module_utils as dynamic_modules

    monkeypatch.setattr(dynamic_modules, "HF_MODULES_CACHE", str(tmp_path / "modules"))
    monkeypatch.setattr(sys, "path", list(sys.path))  # transformers adds its module cache to it
    marker = tmp_path / "custom_code_ran"
    add_custom_code(model_copy, marker, "config.json")
    classifier = load_classifier(model_copy, trust_remote_code=True, device="cpu")
    assert marker.exists() and type(classifier.model).__name__ == "TinyCustomModel"


class TouchWhenUnpickled:
    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return Path.touch, (self.path,)


def test_pickled_weights_are_not_unpickled_without_allow_pickle(model_copy, csv_file, tmp_path):
    marker = tmp_path / "pickle_ran"
    (model_copy / "model.safetensors").unlink()
    (model_copy / "pytorch_model.bin").write_bytes(pickle.dumps(TouchWhenUnpickled(marker)))
    result = invoke(*run_args(model_copy, csv_file, tmp_path))
    assert_one_line_error(result, r"holds only pickled weights .*--allow-pickle")
    assert not marker.exists()
    pickle.loads((model_copy / "pytorch_model.bin").read_bytes())  # the control: the payload works
    assert marker.exists()


# ----------------------------------------------------------------------------- no network for a local path


class NetworkUsed(BaseException):
    """Raised on any connection attempt; a BaseException, so no retry loop or error handler absorbs it."""


@pytest.fixture
def no_network(monkeypatch):
    """Hub access allowed by the settings (HF_HUB_OFFLINE unset), but any connection attempt fails the test."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)

    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network access: {args[:2]}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("spec", ["{tmp}/no_such_model", "./no_such_model", "../models/no_such_model",
                                  "models/bert/no_such_model", "~/no_such_model"])
def test_missing_local_folder_is_refused_without_network(no_network, csv_file, tmp_path, monkeypatch, spec):
    monkeypatch.chdir(tmp_path)
    spec = spec.format(tmp=tmp_path)
    result = invoke(*run_args(spec, csv_file, tmp_path))
    assert_one_line_error(result, rf"^error: model folder {re.escape(spec)} does not exist$")


def test_a_hub_id_does_reach_for_the_network(no_network):
    """The control for the test above: the guard does see the hub client's connection attempts."""
    with pytest.raises(NetworkUsed):
        load_classifier("reportgen-tests/no-such-model", device="cpu")
