"""Loading a Hugging Face model for a task, safely, and the precision its calls run in."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import ReportgenError, first_line
from ..tasks import DEFAULT_TASK, Encoded, Task, tasks

SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")
# The shape of a hub id ("name" or "owner/name"); anything else that does not exist is a missing folder.
HUB_ID = re.compile(r"\w[\w.-]*(/\w[\w.-]*)?")
TOKENIZER_FILES = "tokenizer.json, or vocab.txt, or vocab.json and merges.txt, or a sentencepiece model"
# "bfloat16": model calls run under bfloat16 autocast (matrix products in bfloat16; the weights, and
# everything reportgen computes from the outputs, stay float32).
PRECISIONS = ("float32", "bfloat16")


def autocast(device: torch.device | str, precision: str):
    """The context that runs model calls in ``precision`` on ``device``."""
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=precision == "bfloat16")


@dataclass
class Classifier:
    """A model, its tokenizer, the task it does and what the report says about them."""

    model: Any
    tokenizer: Any
    labels: list[str]
    name: str
    device: torch.device
    max_length: int
    info: dict[str, Any] = field(default_factory=dict)
    task: Task = field(default_factory=lambda: tasks.get(DEFAULT_TASK)())

    @property
    def pad_id(self) -> int:
        tok = self.tokenizer
        return tok.pad_token_id if tok.pad_token_id is not None else 0

    def embeddings(self) -> torch.nn.Module:
        return self.model.get_input_embeddings()

    def encode(self, texts: list[str]) -> list[Encoded]:
        """Each text as the task encodes it for this model."""
        return self.task.encode(self.tokenizer, texts, self.max_length)


def load_classifier(
    spec: str | Path,
    *,
    task: str = DEFAULT_TASK,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    device: str | None = None,
    max_length: int | None = None,
) -> Classifier:
    """Load a local folder or hub id as an eager-attention model for ``task``."""
    import transformers

    chosen = tasks.get(task)()
    source = str(spec)
    target = resolve_device(device)
    if Path(source).exists():
        _check_folder(Path(source), allow_pickle, trust_remote_code)
    elif not HUB_ID.fullmatch(source):
        raise ReportgenError(f"model folder {source} does not exist")
    kwargs = {"trust_remote_code": trust_remote_code}
    with quiet_transformers():
        tokenizer = _loaded(f"the tokenizer of model {source!r}", transformers.AutoTokenizer.from_pretrained, source,
                            **kwargs)
        _check_tokenizer(tokenizer, source)
        model = _loaded(
            f"model {source!r}", getattr(transformers, chosen.auto_class).from_pretrained, source,
            attn_implementation="eager", use_safetensors=not allow_pickle or None, **kwargs,
        )
    model.to(target).eval()
    limit = _max_length(model, tokenizer, max_length)
    labels = chosen.class_names(model.config)
    info = {
        "name": source,
        "architecture": type(model).__name__,
        "labels": labels,
        "parameters": sum(p.numel() for p in model.parameters()),
        "layers": getattr(model.config, "num_hidden_layers", None),
        "heads": getattr(model.config, "num_attention_heads", None),
        "max_length": limit,
        "device": str(target),
    }
    return Classifier(model, tokenizer, labels, source, target, limit, info, chosen)


def _loaded(what: str, load: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``load(*args, **kwargs)``, with whatever a damaged folder makes it raise turned into one line."""
    try:
        return load(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - corrupt weights, a bad config or tokenizer: the input's fault
        raise ReportgenError(f"cannot load {what}: {first_line(err).rstrip(': ')}") from None


def resolve_device(requested: str | None) -> torch.device:
    """The torch device to run on, checked before any work: cuda when present, else cpu."""
    if requested is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except (RuntimeError, ValueError):
        raise ReportgenError(f"unknown device {requested!r} given with --device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ReportgenError(f"--device {requested}: CUDA is not available on this machine; use --device cpu")
    try:
        torch.zeros(1, device=device).cpu()  # a round trip: the device exists and holds values
    except (RuntimeError, AssertionError, NotImplementedError) as err:
        reason = first_line(err).split(". ")[0]
        raise ReportgenError(f"--device {requested} cannot be used on this machine: {reason}") from None
    return device


def _check_folder(folder: Path, allow_pickle: bool, trust_remote_code: bool) -> None:
    if folder.is_file():
        raise ReportgenError(f"model {folder} is a file; give the folder that holds config.json")
    if not (folder / "config.json").is_file():
        raise ReportgenError(f"model folder {folder} has no config.json")
    if not trust_remote_code:
        _refuse_custom_code(folder)
    _check_weights(folder, allow_pickle)


def _refuse_custom_code(folder: Path) -> None:
    """A config's ``auto_map`` names Python files of the folder that loading would import and run."""
    for name in ("config.json", "tokenizer_config.json"):
        path = folder / name
        if not path.is_file():
            continue
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ReportgenError(f"cannot read {path}: {first_line(err)}") from None
        if isinstance(config, dict) and config.get("auto_map"):
            raise ReportgenError(
                f"model folder {folder} needs its own code ('auto_map' in {name}), which runs when loaded; "
                "pass --trust-remote-code if you trust the source"
            )


def _check_weights(folder: Path, allow_pickle: bool) -> None:
    if any((folder / name).is_file() for name in SAFE_WEIGHTS):
        return
    if any((folder / name).is_file() for name in PICKLED_WEIGHTS):
        if allow_pickle:
            return
        raise ReportgenError(
            f"model folder {folder} holds only pickled weights (pytorch_model.bin), which can run code "
            "when loaded; convert them to safetensors or pass --allow-pickle if you trust the source"
        )
    raise ReportgenError(f"model folder {folder} has no weights (model.safetensors or pytorch_model.bin)")


def _check_tokenizer(tokenizer: Any, source: str) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise ReportgenError(f"model {source!r} has no fast tokenizer; reportgen needs token offsets")
    # Without its files transformers builds a tokenizer of special tokens only: every word would be unknown.
    if len(tokenizer) <= len(set(tokenizer.all_special_ids)):
        raise ReportgenError(
            f"model {source!r} has no tokenizer vocabulary (only special tokens); "
            f"the folder needs the tokenizer's files: {TOKENIZER_FILES}"
        )


def _max_length(model: Any, tokenizer: Any, requested: int | None) -> int:
    limits = [getattr(model.config, "max_position_embeddings", None), tokenizer.model_max_length, requested]
    limits = [n for n in limits if isinstance(n, int) and 0 < n < 1_000_000]
    if getattr(model.config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        limits = [n - 2 if n == model.config.max_position_embeddings else n for n in limits]
    return min(limits) if limits else 512


class quiet_transformers:
    """Silence transformers' notices about freshly initialised heads while loading."""

    def __enter__(self):
        from transformers.utils import logging as hf_logging

        self.logger = logging.getLogger("transformers")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)
        self.bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()

    def __exit__(self, *exc):
        from transformers.utils import logging as hf_logging

        self.logger.setLevel(self.level)
        if self.bars:
            hf_logging.enable_progress_bar()
