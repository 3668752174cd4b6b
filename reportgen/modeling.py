"""Loading a Hugging Face sequence classifier and tokenising text for it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .errors import ReportgenError, first_line

SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")


@dataclass
class Encoded:
    """A text as the model sees it, with the word each token belongs to."""

    input_ids: list[int]
    tokens: list[str]
    word_ids: list[int | None]
    words: list[str]
    truncated: bool


@dataclass
class Classifier:
    """A sequence classifier, its tokenizer and what the report says about them."""

    model: Any
    tokenizer: Any
    labels: list[str]
    name: str
    device: torch.device
    max_length: int
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def mask_id(self) -> int:
        """The id that stands for a removed token: the mask token, else the pad token."""
        tok = self.tokenizer
        return tok.mask_token_id if tok.mask_token_id is not None else tok.pad_token_id

    @property
    def pad_id(self) -> int:
        tok = self.tokenizer
        return tok.pad_token_id if tok.pad_token_id is not None else 0

    def embeddings(self) -> torch.nn.Module:
        return self.model.get_input_embeddings()

    def encode(self, texts: list[str]) -> list[Encoded]:
        enc = self.tokenizer(
            texts, truncation=True, max_length=self.max_length, return_offsets_mapping=True
        )
        return [self._encoded(text, enc, i) for i, text in enumerate(texts)]

    def _encoded(self, text: str, enc: Any, i: int) -> Encoded:
        ids = list(enc["input_ids"][i])
        word_ids = enc.word_ids(i)
        spans: dict[int, list[int]] = {}
        for word, (start, end) in zip(word_ids, enc["offset_mapping"][i]):
            if word is not None:
                span = spans.setdefault(word, [start, end])
                span[1] = end
        renumber = {word: n for n, word in enumerate(sorted(spans))}
        words = [text[spans[w][0] : spans[w][1]] for w in sorted(spans)]
        return Encoded(
            input_ids=ids,
            tokens=self.tokenizer.convert_ids_to_tokens(ids),
            word_ids=[renumber.get(w) if w is not None else None for w in word_ids],
            words=words,
            truncated=bool(enc.encodings[i].overflowing),
        )


def load_classifier(
    spec: str | Path,
    *,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    device: str | None = None,
    max_length: int | None = None,
) -> Classifier:
    """Load a local folder or hub id as an eager-attention sequence classifier."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = str(spec)
    if Path(source).exists():
        _check_folder(Path(source), allow_pickle)
    kwargs = {"trust_remote_code": trust_remote_code}
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            model = AutoModelForSequenceClassification.from_pretrained(
                source, attn_implementation="eager", use_safetensors=not allow_pickle or None, **kwargs
            )
    except (OSError, ValueError, KeyError) as err:
        raise ReportgenError(f"cannot load model {source!r}: {first_line(err)}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise ReportgenError(f"model {source!r} has no fast tokenizer; reportgen needs token offsets")
    target = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.to(target).eval()
    limit = _max_length(model, tokenizer, max_length)
    labels = [str(model.config.id2label[i]) for i in range(model.config.num_labels)]
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
    return Classifier(model, tokenizer, labels, source, target, limit, info)


def _check_folder(folder: Path, allow_pickle: bool) -> None:
    if folder.is_file():
        raise ReportgenError(f"model {folder} is a file; give the folder that holds config.json")
    if not (folder / "config.json").is_file():
        raise ReportgenError(f"model folder {folder} has no config.json")
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
