"""The task seam: what changes with the kind of model, asked for by every stage instead of assumed.

A task says how a text becomes model input (tokens and the words they belong to), what a
target is and how the model's outputs become the quantity that is explained, which position
the attention methods read from, which token stands for a removed one, and which metrics and
report sections apply. A new kind of model is a new module in this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from ..registry import Registry
from ..results.records import Example


@dataclass
class Encoded:
    """A text as the model sees it, with the word each token belongs to."""

    input_ids: list[int]
    tokens: list[str]
    word_ids: list[int | None]
    words: list[str]
    truncated: bool


class Task:
    """One kind of model. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    auto_class: ClassVar[str] = ""  # the transformers Auto class that loads such a model
    metrics: ClassVar[tuple[str, ...] | None] = None  # the metrics that apply; None: all
    sections: ClassVar[tuple[str, ...] | None] = None  # the report sections that apply; None: all
    order: ClassVar[int] = 100  # where it comes in listings, lower first

    def class_names(self, config: Any) -> list[str]:
        """The names of the model's outputs, in id order, from its transformers config."""
        raise NotImplementedError

    def encode(self, tokenizer: Any, texts: list[str], max_length: int) -> list[Encoded]:
        raise NotImplementedError

    def probabilities(self, logits: Any) -> Any:
        """The explained quantity per class from a [batch, classes] tensor of logits."""
        raise NotImplementedError

    def prediction(self, probabilities: Sequence[float]) -> int:
        raise NotImplementedError

    def target(self, example: Example, explain: str) -> int | None:
        """The class an example is explained for: ``explain`` is 'pred' or 'label'."""
        raise NotImplementedError

    def target_logits(self, logits: Any, targets: Any) -> Any:
        """Per row, the logit that the gradient methods differentiate."""
        raise NotImplementedError

    def query_positions(self, examples: Sequence[Example]) -> list[int]:
        """Per example, the position whose attention row the attention methods read."""
        raise NotImplementedError

    def replacement_id(self, model: Any) -> int:
        """The token id that stands for a removed token (occlusion, faithfulness)."""
        raise NotImplementedError

    def baseline_id(self, model: Any) -> int:
        """The token id that integrated gradients' baseline puts in place of every word token."""
        raise NotImplementedError

    def applies(self, kind: str, name: str) -> bool:
        """Whether the metric or report section (``kind``: 'metric' or 'section') ``name`` applies."""
        chosen = self.metrics if kind == "metric" else self.sections
        return chosen is None or name in chosen


tasks: Registry[Task] = Registry("task")
