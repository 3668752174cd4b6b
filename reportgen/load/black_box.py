"""A black-box model (--predict module:function): any function from a list of texts to class probabilities,
with the tokenizer (--tokenizer) that cuts its texts into words."""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..errors import ReportgenError, first_line
from ..ops.imports import imported
from ..tasks import tasks
from ..tasks.base import class_names_from, quoted, replacement_token
from ..tasks.black_box import BlackBox
from ..tasks.generation import DEFAULT_NEW_TOKENS, DEFAULT_PROMPT
from .model import Classifier, _check_tokenizer, _loaded, load_classifier, quiet_transformers

PROBE = "a"  # the text the function is first asked about: how many classes it gives
SUM_TOLERANCE = 1e-3
BLACK_BOX_MAX_LENGTH = 512  # tokens of a text whose words are explained, when the tokenizer states no limit


@dataclass
class TextPredictor:
    """The function behind --predict, each answer checked: one row of class probabilities per text."""

    function: Callable[[list[str]], Any]
    spec: str
    classes: int | None = None

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        try:
            answer = self.function(list(texts))
        except Exception as err:  # noqa: BLE001 - the user's function failed: its batch's examples fail
            raise ValueError(f"--predict {self.spec} raised {type(err).__name__}: {first_line(err)}") from None
        return self._checked(answer, len(texts))

    def _checked(self, answer: Any, rows: int) -> np.ndarray:
        try:
            probs = np.asarray(answer, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"--predict {self.spec} returned {quoted(answer)}, not numbers") from None
        width = self.classes if self.classes is not None else (probs.shape[-1] if probs.ndim == 2 else 0)
        if probs.shape != (rows, width) or width < 2:
            raise ValueError(f"--predict {self.spec} returned an array of shape {probs.shape} for {rows} texts; it "
                             f"must return one row of class probabilities per text ({width or 'two or more'} classes)")
        if not np.isfinite(probs).all() or (probs < 0).any() or not np.allclose(probs.sum(axis=1), 1, atol=SUM_TOLERANCE):
            raise ValueError(f"--predict {self.spec} returned rows that are not probabilities (each must be at "
                             "least 0 and sum to 1)")
        return probs

    def fingerprint(self) -> str:
        """What identifies the function for a resumed run: its name and, where Python has it, its source."""
        digest = hashlib.sha256(self.spec.encode("utf-8"))
        try:
            digest.update(inspect.getsource(self.function).encode("utf-8"))
        except (OSError, TypeError):
            pass
        return digest.hexdigest()


def load_model(spec: Any, *, predict: str | None = None, tokenizer: str | None = None,
               class_names: str | None = None, **options: Any) -> Classifier:
    """--model's transformers model, or the black-box one that --predict, --tokenizer and --class-names give."""
    if predict is None and tokenizer is None and class_names is None:
        return load_classifier(spec, **options)
    options.pop("paired", None)
    return load_black_box(spec, predict, tokenizer, class_names, **options)


def load_black_box(model: Any, predict: str | None, tokenizer: str | None, class_names: str | None, *,
                   task: str = "auto", multi_label: bool = False, replacement: str = "auto",
                   trust_remote_code: bool = False, max_length: int | None = None, device: str | None = None,
                   allow_pickle: bool = False, zero_shot_labels: str | None = None,
                   hypothesis_template: str | None = None, prompt_template: str = DEFAULT_PROMPT,
                   max_new_tokens: int = DEFAULT_NEW_TOKENS, chat_template: bool = False) -> Classifier:
    """The Classifier of a black-box function, its tokenizer and class names, checked on one text
    (``allow_pickle`` is of weights, which a black-box model has none of)."""
    if zero_shot_labels is not None:
        raise ReportgenError("--zero-shot-labels reads an NLI model given with --model, not a --predict function")
    if prompt_template != DEFAULT_PROMPT or max_new_tokens != DEFAULT_NEW_TOKENS or chat_template:
        raise ReportgenError("--prompt-template, --max-new-tokens and --chat-template read a language model given with --model, "
                             "not a --predict function")
    if device is not None:
        raise ReportgenError("--device applies to a PyTorch model; a --predict function runs where it runs")
    if predict is None:
        given = "--tokenizer" if tokenizer is not None else "--class-names"
        raise ReportgenError(f"{given} applies to a black-box model: give --predict module:function")
    if model is not None:
        raise ReportgenError("--model and --predict both name the model; give one of them")
    if tokenizer is None:
        raise ReportgenError("--predict needs --tokenizer: the tokenizer folder or hub id that cuts its texts into words")
    if task not in ("auto", BlackBox.name) or multi_label:
        raise ReportgenError(f"--predict gives a {BlackBox.name} model (class probabilities per text); "
                             f"{'--multi-label' if multi_label else '--task ' + task} does not apply to it")
    import transformers

    with quiet_transformers():
        tok = _loaded(f"the tokenizer {tokenizer!r}", transformers.AutoTokenizer.from_pretrained, tokenizer,
                      trust_remote_code=trust_remote_code)
    _check_tokenizer(tok, tokenizer)
    function = imported(predict, "--predict", needs_attr=True)
    if not callable(function):
        raise ReportgenError(f"--predict {predict!r} is {type(function).__name__}, not a function")
    predictor = TextPredictor(function, predict)
    try:
        predictor.classes = predictor([PROBE]).shape[1]
    except ValueError as err:
        raise ReportgenError(f"{err} (asked about the text {PROBE!r})") from None
    labels = _class_names(class_names, predictor.classes, tokenizer)
    limit = max_length or (tok.model_max_length if 0 < tok.model_max_length < 1_000_000 else BLACK_BOX_MAX_LENGTH)
    token, token_id = replacement_token(tok, replacement)
    info = {"name": predict, "architecture": "black-box function (--predict)", "task": BlackBox.name,
            "labels": labels, "parameters": None, "layers": None, "heads": None, "max_length": limit,
            "device": "cpu", "tokenizer": tokenizer, "replacement": {"choice": replacement, "token": token, "id": token_id},
            "removal": "a removed word is deleted from the text the function is given"}
    return Classifier(predictor, tok, labels, predict, torch.device("cpu"), limit, info, tasks.get(BlackBox.name)(),
                      token_id)


def _class_names(given: str | None, classes: int, tokenizer: str) -> list[str]:
    """--class-names in the function's column order, else the id2label of a config.json in the tokenizer's
    folder (when it names as many classes), else the column numbers."""
    if given is not None:
        names = [name.strip() for name in given.split(",")]
        if len(names) != classes or not all(names):
            raise ReportgenError(f"--class-names names {len(names)} classes but --predict returns {classes} "
                                 "probabilities per text")
        return class_names_from(dict(enumerate(names)))
    id2label = _id2label_beside(Path(tokenizer))
    if isinstance(id2label, dict) and len(id2label) == classes:
        return class_names_from(id2label)
    return [str(n) for n in range(classes)]


def _id2label_beside(folder: Path) -> Any:
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8")).get("id2label")
    except (OSError, ValueError, AttributeError):
        return None
