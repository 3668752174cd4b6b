"""Loading a Hugging Face model for a task, safely, and the precision its calls run in."""

from __future__ import annotations

import json
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import torch

from ..errors import ReportgenError, first_line
from ..tasks import AUTO, DEFAULT_TASK, Encoded, Task, choose_task, tasks
from ..tasks.base import character_limit, class_names_from, quoted, replacement_token
from ..tasks.generation import DEFAULT_NEW_TOKENS, DEFAULT_PROMPT, Generation, only_for_generation
from ..tasks.zero_shot import DEFAULT_TEMPLATE, ZeroShot
from .identity import model_identity

SAFE_INDEX = "model.safetensors.index.json"
SAFE_WEIGHTS = ("model.safetensors", SAFE_INDEX)
PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")
# The shape of a hub id ("name" or "owner/name", in the hub's characters); anything else that does not
# exist is a missing folder.
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?")
SHOWN_MISMATCHES = 2
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
    replacement_id: int = -1  # the token that stands for a removed one (--replacement); -1: the task's default

    def __post_init__(self):
        if self.replacement_id < 0:
            token, self.replacement_id = replacement_token(self.tokenizer, "auto")
            self.info.setdefault("replacement", {"choice": "auto", "token": token, "id": self.replacement_id})

    @property
    def pad_id(self) -> int:
        tok = self.tokenizer
        return tok.pad_token_id if tok.pad_token_id is not None else 0

    @property
    def max_chars(self) -> int:
        """The most characters of a text that are tokenised (and kept) for this model."""
        return character_limit(self.max_length)

    def embeddings(self) -> torch.nn.Module:
        return self.model.get_input_embeddings()

    def encode(self, texts: list[str], pairs: list[str] | None = None, max_length: int | None = None) -> list[Encoded]:
        """Each text (and its second segment, for a task that reads pairs) as the task encodes it, up to
        ``max_length`` tokens (None: the model's maximum; more for documents read in windows)."""
        return self.task.encode(self.tokenizer, texts, max_length or self.max_length, pairs)


def load_classifier(
    spec: str | Path,
    *,
    task: str = AUTO,
    paired: bool = False,
    multi_label: bool = False,
    replacement: str = "auto",
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    device: str | None = None,
    max_length: int | None = None,
    zero_shot_labels: str | None = None,
    hypothesis_template: str = DEFAULT_TEMPLATE,
    prompt_template: str = DEFAULT_PROMPT,
    max_new_tokens: int = DEFAULT_NEW_TOKENS,
    chat_template: bool = False,
) -> Classifier:
    """Load a local folder or hub id as an eager-attention model for ``task`` ('auto': the task that fits
    its config and, with ``paired``, data of two texts per example; ``multi_label``: the multi_label task)."""
    import transformers

    if spec is None:
        raise ReportgenError("give the model: --model (a folder or hub id), or --predict module:function")
    source = str(spec)
    target = resolve_device(device)
    origin = ""
    if Path(source).exists():
        _check_folder(Path(source), allow_pickle, trust_remote_code)
    elif not _is_hub_id(source):
        raise ReportgenError(f"model folder {source} does not exist")
    else:
        print(f"model {source} is not a local folder; fetching it from the Hugging Face hub", file=sys.stderr)
        origin = " from the Hugging Face hub"
    kwargs = {"trust_remote_code": trust_remote_code}
    with quiet_transformers():
        config = _loaded(f"the config of model {source!r}{origin}", transformers.AutoConfig.from_pretrained,
                         source, **kwargs)
        chosen = _task(task, config, paired, multi_label, zero_shot_labels, hypothesis_template)
        chosen = _generation(chosen, config, prompt_template, max_new_tokens, chat_template)
        tokenizer = _loaded(f"the tokenizer of model {source!r}{origin}", transformers.AutoTokenizer.from_pretrained,
                            source, **kwargs)
        _check_tokenizer(tokenizer, source)
        # Mismatched sizes are loaded (freshly initialised) only to be named below: transformers' own error
        # points at a report that its quiet logger does not print.
        model, loading = _loaded(
            f"model {source!r}{origin}", getattr(transformers, chosen.auto_class).from_pretrained, source,
            attn_implementation="eager", use_safetensors=not allow_pickle or None, output_loading_info=True,
            ignore_mismatched_sizes=True, **kwargs,
        )
    _check_sizes(loading.get("mismatched_keys") or [], source, model.config.num_labels)
    labels = _label_names(lambda: chosen.class_names(model.config), source)
    notes = chosen.prepare(model, tokenizer, source)
    model.to(target).eval()
    limit = _max_length(model, tokenizer, max_length)
    token, token_id = replacement_token(tokenizer, replacement)
    info = {
        "name": source,
        "architecture": type(model).__name__,
        "task": chosen.name,
        "labels": labels,
        "parameters": sum(p.numel() for p in model.parameters()),
        "layers": getattr(model.config, "num_hidden_layers", None),
        "heads": getattr(model.config, "num_attention_heads", None),
        "max_length": limit,
        "device": str(target),
        "replacement": {"choice": replacement, "token": token, "id": token_id},
        **model_identity(source, model),
        **notes,
    }
    return Classifier(model, tokenizer, labels, source, target, limit, info, chosen, token_id)


def _task(requested: str, config: Any, paired: bool, multi_label: bool, zero_shot_labels: str | None,
          template: str) -> Task:
    """The task the options ask for; with --zero-shot-labels, zero-shot classification by its labels and template."""
    if zero_shot_labels is None:
        if template != DEFAULT_TEMPLATE:
            raise ReportgenError("--hypothesis-template applies to --zero-shot-labels")
        if requested == ZeroShot.name:
            raise ReportgenError("--task zero_shot needs the candidate labels: --zero-shot-labels a,b,c")
        return tasks.get(choose_task(requested, config, paired, multi_label))()
    if requested not in (AUTO, ZeroShot.name) or multi_label or paired:
        given = "--multi-label" if multi_label else "--text-pair-column" if paired else f"--task {requested}"
        raise ReportgenError(f"--zero-shot-labels takes the zero_shot task (one text per example), and {given} "
                             "asks for another")
    labels = [label.strip() for label in zero_shot_labels.split(",")]
    if len(labels) < 2 or not all(labels):
        raise ReportgenError(f"--zero-shot-labels needs two or more comma-separated labels, not {quoted(zero_shot_labels)}")
    if template.count("{}") != 1 or "{" in template.replace("{}", "", 1) or "}" in template.replace("{}", "", 1):
        raise ReportgenError(f"--hypothesis-template must hold one {{}} for the label, and no other braces: "
                             f"{quoted(template)}")
    return ZeroShot(labels, template)


def _generation(chosen: Task, config: Any, template: str, max_new_tokens: int, chat_template: bool) -> Task:
    """The generation task with its prompt and output length, for a causal language model only; those options
    given to another task fail."""
    if isinstance(chosen, Generation):
        if not type(chosen).fits(config, False):
            architectures = ", ".join(map(str, getattr(config, "architectures", None) or [])) or "none named"
            raise ReportgenError(f"the {chosen.name} task reads {chosen.reads}, and the model's config names "
                                 f"{quoted(architectures)}")
        return type(chosen)(template, max_new_tokens, chat_template)
    for flag, value, default in (("--prompt-template", template, DEFAULT_PROMPT),
                                 ("--max-new-tokens", max_new_tokens, DEFAULT_NEW_TOKENS),
                                 ("--chat-template", chat_template, False)):
        if value != default:
            raise only_for_generation(flag, chosen.name)
    return chosen


def _is_hub_id(source: str) -> bool:
    """Whether ``source``, which is not an existing path, is meant as a hub id: "name" or "owner/name" in the
    hub's characters, and no local folder named like its owner (then a local path was meant)."""
    if not HUB_ID.fullmatch(source) or ".." in source or "--" in source:
        return False
    owner, slash, _ = source.rpartition("/")
    return not (slash and Path(owner).is_dir())


def _check_sizes(mismatched: list[tuple[str, Any, Any]], source: str, num_labels: int) -> None:
    """Weights whose shape differs from the one the config asks for (most often num_labels against the head)."""
    if not mismatched:
        return
    shown = [f"{key} is {_shape(stored)} in the weights but {_shape(wanted)} for the config"
             for key, stored, wanted in sorted(mismatched)[:SHOWN_MISMATCHES]]
    more = len(mismatched) - SHOWN_MISMATCHES
    raise ReportgenError(f"the weights of model {source!r} do not fit its config ({num_labels} classes): "
                         + "; ".join(shown) + (f"; and {more} more" if more > 0 else ""))


def _shape(size: Any) -> str:
    return "x".join(str(n) for n in size) or "a scalar"


def _label_names(read: Callable[[], list[str]], source: str) -> list[str]:
    try:
        return read()
    except ReportgenError as err:
        raise ReportgenError(f"model {source!r} has a malformed label map in its config: {err}") from None


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
    _check_label_maps(folder)
    _check_weights(folder, allow_pickle)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReportgenError(f"cannot read {path}: {first_line(err)}") from None


def _check_label_maps(folder: Path) -> None:
    """The label maps as config.json writes them: transformers fails on a key that is not a number with a
    message that does not say which, and replaces id2label by LABEL_0... when num_labels disagrees with it."""
    config = _read_json(folder / "config.json")
    if isinstance(config, dict) and config.get("id2label") is not None:
        _label_names(lambda: class_names_from(config["id2label"], config.get("label2id"), config.get("num_labels")),
                     str(folder))


def _refuse_custom_code(folder: Path) -> None:
    """A config's ``auto_map`` names Python files of the folder that loading would import and run."""
    for name in ("config.json", "tokenizer_config.json"):
        path = folder / name
        if not path.is_file():
            continue
        config = _read_json(path)
        if isinstance(config, dict) and config.get("auto_map"):
            raise ReportgenError(
                f"model folder {folder} needs its own code ('auto_map' in {name}), which runs when loaded; "
                "pass --trust-remote-code if you trust the source"
            )


def _check_weights(folder: Path, allow_pickle: bool) -> None:
    if (folder / SAFE_INDEX).is_file():
        _check_index(folder)
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


def _check_index(folder: Path) -> None:
    """Every shard a safetensors index names must be a .safetensors file of the folder: transformers loads
    whatever file the index names, pickles included."""
    path = folder / SAFE_INDEX
    index = _read_json(path)
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise ReportgenError(f"{path} has no weight_map naming the files of the weights")
    for shard in dict.fromkeys(weight_map.values()):
        problem = _shard_problem(folder, shard)
        if problem:
            raise ReportgenError(f"{path} names the weights file {quoted(shard, 80)}, {problem}")


def _shard_problem(folder: Path, shard: Any) -> str | None:
    if not isinstance(shard, str) or not shard.strip():
        return "which is not a file name"
    name = PurePosixPath(shard)
    if name.is_absolute() or shard.startswith("~") or "\\" in shard or ":" in shard or ".." in name.parts:
        return "which is outside the model folder"
    if not shard.endswith(".safetensors"):
        return "which is not a .safetensors file (it could run code when loaded)"
    if not (folder / shard).is_file():
        return "which is not in the folder"
    return None


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
