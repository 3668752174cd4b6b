"""The task seam: what changes with the kind of model, asked for by every stage instead of assumed.

A task says how a text becomes model input (tokens and the words they belong to), what a
target is and how the model's outputs become the quantity that is explained, which position
the attention methods read from, which token stands for a removed one, and which metrics and
report sections apply. A new kind of model is a new module in this package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from ..errors import ReportgenError
from ..ops.names import label_key
from ..registry import Registry
from ..results.records import Example

# A text is cut to max_length x CHARS_PER_TOKEN characters before it is tokenised: English averages about
# 4 characters per token, so the cut text still overflows the model's window unless it is mostly spaces
# or words too long for the vocabulary.
CHARS_PER_TOKEN = 64
WHOLE_NUMBER = re.compile(r"-?[0-9]+")
SHOWN_IDS = 10


def character_limit(max_length: int) -> int:
    """The most characters of a text that are tokenised for a model that reads ``max_length`` tokens."""
    return max_length * CHARS_PER_TOKEN


def class_names_from(id2label: Any, label2id: Any = None, num_labels: Any = None) -> list[str]:
    """The class names in id order from a config's ``id2label``, which must give ids 0 to n-1 distinct names
    (and agree with ``label2id`` and ``num_labels`` where the config has them); anything else fails in one line."""
    if not isinstance(id2label, dict) or not id2label:
        raise ReportgenError(f"id2label must map the ids 0 to n-1 to class names, not {quoted(id2label)}")
    names = {_whole_number(key, f"id2label key {quoted(key)} is not a whole number"): name
             for key, name in id2label.items()}
    ids = sorted(names)
    if ids != list(range(len(ids))):
        shown = ", ".join(map(str, ids[:SHOWN_IDS])) + (", ..." if len(ids) > SHOWN_IDS else "")
        raise ReportgenError(f"id2label has ids {shown}; they must be 0 to {len(ids) - 1}, one per class")
    if num_labels is not None and num_labels != len(ids):
        raise ReportgenError(f"num_labels is {quoted(num_labels)} but id2label names {len(ids)} classes")
    first_id: dict[str, int] = {}
    for label_id in ids:
        earlier = first_id.setdefault(label_key(names[label_id]), label_id)
        if earlier != label_id:
            raise ReportgenError(f"id2label gives ids {earlier} and {label_id} the same class name "
                                 f"({quoted(names[earlier])}, {quoted(names[label_id])}; names match in any case)")
    _check_label2id(label2id, first_id)
    return [str(names[label_id]) for label_id in ids]


def _check_label2id(label2id: Any, ids_by_key: dict[str, int]) -> None:
    """label2id may name other classes (a stale default) but must not contradict id2label."""
    if label2id is None:
        return
    if not isinstance(label2id, dict):
        raise ReportgenError(f"label2id must map class names to ids, not {quoted(label2id)}")
    for name, value in label2id.items():
        label_id = _whole_number(value, f"label2id gives {quoted(name)} the id {quoted(value)}, not a whole number")
        expected = ids_by_key.get(label_key(name))
        if expected is not None and expected != label_id:
            raise ReportgenError(f"label2id gives {quoted(name)} id {label_id} but id2label gives it id {expected}")


def _whole_number(value: Any, problem: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value)
    raise ReportgenError(problem)


def quoted(value: Any, limit: int = 60) -> str:
    """``value`` for a one-line message: its repr (which escapes every character that is not printable), cut."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_decoder_only(config: Any) -> bool:
    """Whether ``config`` is of a decoder-only (causal, GPT-style) model: one that has a causal language
    model in transformers and no masked one, and no encoder-decoder."""
    from transformers.models.auto.modeling_auto import (MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
                                                        MODEL_FOR_MASKED_LM_MAPPING_NAMES)

    kind = getattr(config, "model_type", None)
    return (not getattr(config, "is_encoder_decoder", False) and kind in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
            and kind not in MODEL_FOR_MASKED_LM_MAPPING_NAMES)


@dataclass
class Encoded:
    """A text as the model sees it, with the word each token belongs to."""

    input_ids: list[int]
    tokens: list[str]
    word_ids: list[int | None]
    words: list[str]
    truncated: bool
    word_segments: list[int] | None = None  # per word, the segment it is in (0: the text, 1: the pair), for pairs


class Task:
    """One kind of model. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    auto_class: ClassVar[str] = ""  # the transformers Auto class that loads such a model
    metrics: ClassVar[tuple[str, ...] | None] = None  # the metrics that apply; None: all
    sections: ClassVar[tuple[str, ...] | None] = None  # the report sections that apply; None: all
    order: ClassVar[int] = 100  # where it comes in listings, lower first
    reads_pairs: ClassVar[bool] = False  # whether each example is two texts (--text-pair-column)
    per_label: ClassVar[bool] = False  # whether each example is explained once per label or entity (units)
    reads_tags: ClassVar[bool] = False  # whether the labels are a tag per word (token classification)
    windowed: ClassVar[bool] = False  # whether a long text may be read in windows (--long-text window)
    scores_texts: ClassVar[bool] = False  # whether the model is a function of texts, not of token ids (--predict)
    answers_first: ClassVar[bool] = False  # whether every row is answered (``answers``) before any is explained
    reads_references: ClassVar[bool] = False  # whether a row may give the output to explain (--target-column)
    keeps_attention_maps: ClassVar[bool] = True  # whether the first examples' attention maps are stored (explorer)
    contrasts_errors: ClassVar[bool] = False  # whether an error is also explained for its other class (contrast)
    randomisable: ClassVar[bool] = False  # whether the sanity checks explain it again with randomised parameters
    explains_stored_class: ClassVar[bool] = True  # whether the explained output is the stored probability's target
    excluded_methods: ClassVar[dict[str, str]] = {}  # attribution methods that do not apply, and why
    excluded_metrics: ClassVar[tuple[str, ...]] = ()  # metrics that do not apply though ``metrics`` lists all

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        """Whether ``--task auto`` picks this task for a model of ``config`` (a transformers config) and data
        with (``paired``) or without a second text column. Tasks are tried in ``order``."""
        return False

    def prepare(self, model: Any, tokenizer: Any, source: str) -> dict[str, Any]:
        """Make a freshly loaded model and tokenizer ready for the task (or refuse them in one line); what
        it returns is added to the model's description in the results."""
        return {}

    def forward(self, model: Any, input_ids: Any, attention_mask: Any, **kwargs: Any) -> Any:
        """One model call; the output's ``logits`` are [batch, classes]. ``kwargs`` may hold output_attentions,
        and inputs_embeds, which the model then reads instead of ``input_ids``."""
        if kwargs.get("inputs_embeds") is not None:
            input_ids = None
        return model(input_ids=input_ids, attention_mask=attention_mask, **kwargs)

    def class_names(self, config: Any) -> list[str]:
        """The names of the model's outputs, in id order, from its transformers config."""
        raise NotImplementedError

    def encode(self, tokenizer: Any, texts: list[str], max_length: int,
               pairs: list[str] | None = None) -> list[Encoded]:
        """Each text (with its second segment from ``pairs``, for tasks that read two) as model input."""
        raise NotImplementedError

    def token_encode(self, tokenizer: Any, texts: list[str], max_length: int,
                     pairs: list[str] | None = None) -> list[Encoded]:
        """The texts cut into the tokenizer's tokens, as shap's Text masker cuts them: the task's own encoding
        (a task whose positions are words says otherwise)."""
        return self.encode(tokenizer, texts, max_length, pairs)

    def probabilities(self, logits: Any) -> Any:
        """The explained quantity per class from a [batch, classes] tensor of logits."""
        raise NotImplementedError

    def prediction(self, probabilities: Sequence[float]) -> int:
        raise NotImplementedError

    def target(self, example: Example, explain: str) -> int | None:
        """The class an example is explained for: ``explain`` is 'pred' or 'label'."""
        raise NotImplementedError

    def predicted(self, probabilities: Sequence[float], threshold: float) -> list[int] | None:
        """The set of labels a per-label task predicts (None for a task of one class per example)."""
        return None

    def target_tensor(self, examples: Sequence[Example], width: int, device: Any) -> Any:
        """What each example is explained for, as the tensor ``target_logits`` and ``target_probabilities`` read
        (rows in the order of ``examples``; ``width``: the padded length of the model input): the target class."""
        import torch

        return torch.tensor([ex.target for ex in examples], device=device)

    def target_logits(self, logits: Any, targets: Any) -> Any:
        """Per row, the logit that the gradient methods differentiate."""
        raise NotImplementedError

    def target_probabilities(self, logits: Any, targets: Any) -> Any:
        """Per row, the explained probability (occlusion, faithfulness): the target class's."""
        import torch

        probabilities = self.probabilities(logits)
        return probabilities[torch.arange(len(probabilities), device=probabilities.device), targets]

    def outcome(self, probabilities: Any, length: int) -> dict[str, Any]:
        """What is stored of one example's model answer (``probabilities``: its row of ``probabilities()``, over
        ``length`` real tokens): its probability per class."""
        return {"probabilities": probabilities.tolist()}

    def absorb(self, example: Example, outcome: dict[str, Any], explain: str, threshold: float) -> None:
        """Record a stored answer on ``example``: its probabilities, prediction and target."""
        example.probabilities = outcome["probabilities"]
        example.prediction = self.prediction(example.probabilities)
        example.target = self.target(example, explain)

    def answers(self, runner: Any, examples: Sequence[Example]) -> Any:
        """For a task that answers first, each example's stored probabilities, from model calls of its own."""
        raise NotImplementedError

    def explained_class(self, example: Example) -> int | None:
        """The model output column that lime and shap explain: the target class."""
        return example.target

    def fixed_pair(self, example: Example) -> str | None:
        """A second text that every perturbed copy of the example is paired with (None: none)."""
        return None

    def fingerprint(self) -> tuple[Any, ...]:
        """What, beyond the model and the data, decides a run's answers (part of the run key)."""
        return ()

    def units(self, example: Example, explain: str) -> list[dict[str, Any]]:
        """For a per-label task, the explanations an answered example expands into: per unit, the fields it
        sets (its ``target`` at least)."""
        raise NotImplementedError

    def query_positions(self, examples: Sequence[Example]) -> list[int]:
        """Per example, the position whose attention row the attention methods read."""
        raise NotImplementedError

    def attentions(self, batch: Any) -> tuple[Any, ...]:
        """Per layer, the attention maps the attention methods read, [batch, heads, query, key]: the model's own."""
        return batch.runner.forward(batch.input_ids, batch.attention_mask, output_attentions=True).attentions

    def replacement_id(self, model: Any) -> int:
        """The token id that stands for a removed token (occlusion, faithfulness): the one ``--replacement``
        chose when the model was loaded."""
        return model.replacement_id

    def baseline_id(self, model: Any) -> int:
        """The token id that integrated gradients' baseline puts in place of every word token."""
        raise NotImplementedError

    def held_fixed(self, examples: Sequence[Example], width: int) -> list[list[bool]] | None:
        """Per example (padded to ``width``), the word tokens that integrated gradients' baseline keeps as they
        are, like the special tokens (None: none)."""
        return None

    def applies(self, kind: str, name: str) -> bool:
        """Whether the metric or report section (``kind``: 'metric' or 'section') ``name`` applies."""
        chosen = self.metrics if kind == "metric" else self.sections
        excluded = self.excluded_metrics if kind == "metric" else ()
        return (chosen is None or name in chosen) and name not in excluded


ONE_CLASS_METRICS = ("performance", "calibration", "error_words")  # of one class per example (softmax)


def replacement_token(tokenizer: Any, choice: str) -> tuple[str, int]:
    """The token (and its id) that ``--replacement choice`` names: auto (the mask token, else the padding
    token), mask, pad, eos, unk, or a token of the vocabulary."""
    if choice == "auto":
        choice = "mask" if tokenizer.mask_token_id is not None else "pad"
    if choice in NAMED_TOKENS:
        token_id = getattr(tokenizer, f"{choice}_token_id", None)
        if token_id is None:
            raise ReportgenError(f"--replacement {choice}: the tokenizer has no {NAMED_TOKENS[choice]}")
        return str(tokenizer.convert_ids_to_tokens(token_id)), int(token_id)
    token_id = tokenizer.convert_tokens_to_ids(choice)
    if not isinstance(token_id, int) or (token_id == tokenizer.unk_token_id and choice != tokenizer.unk_token):
        raise ReportgenError(f"--replacement {quoted(choice)} is not a token of the tokenizer's vocabulary; "
                             f"use mask, pad, eos, unk or one token")
    return choice, token_id


NAMED_TOKENS = {"mask": "mask token", "pad": "padding token", "eos": "end-of-sequence token",
                "unk": "unknown-word token"}

tasks: Registry[Task] = Registry("task")
