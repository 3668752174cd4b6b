"""The result of a run as data: what the explain and measure stages fill in and the report reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Example:
    """One input row, its tokenisation and the model's answer."""

    index: int
    text: str
    label: int | None = None
    text_pair: str | None = None  # the second segment, for tasks that read two texts
    group: str | None = None
    tokens: list[str] = field(default_factory=list)
    input_ids: list[int] = field(default_factory=list)
    word_ids: list[int | None] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    word_segments: list[int] | None = None  # per word, 0 (the text) or 1 (the pair), for tasks that read two texts
    truncated: bool = False
    prediction: int | None = None
    probabilities: list[float] = field(default_factory=list)
    target: int | None = None
    error: str | None = None
    # Multi-label tasks explain one row once per label: each such unit is an Example of its own index, with
    # the row it explains, the row's true labels and the labels the model predicts (probabilities: per label).
    source: int | None = None
    labels: list[int] | None = None
    predicted: list[int] | None = None
    # Token classification (NER, POS): per word, the true tag id (None: not given) and the predicted one.
    tags: list[int] | None = None
    predicted_tags: list[int | None] | None = None
    token_tags: list[int] | None = None  # per token, its predicted tag
    entity: dict[str, Any] | None = None  # the entity a unit explains: type, start, end (tokens), tags, score, words
    # Generation: the row's output (its first position, token ids, their log-probabilities, text, and whether
    # it is the reference or the greedy output), and the output token a unit explains (k, position, token).
    generated: dict[str, Any] | None = None
    step: dict[str, Any] | None = None
    alignment: str | None = None  # generation: the row's gold word alignment (Pharaoh links, normalised)
    # --rationale-column: the words (indices, sorted) that people marked as the evidence, or why the row's cell
    # could not be read as a rationale (then rationale is None).
    rationale: list[int] | None = None
    rationale_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def row(self) -> int:
        """The input row: the dataset row number of an example, or of the row a unit explains."""
        return self.index if self.source is None else self.source

    @property
    def answered(self) -> bool:
        """Whether the model's answer is recorded: a class, the set of labels it predicts, or its words' tags."""
        return (self.prediction is not None or self.predicted is not None or self.predicted_tags is not None
                or self.generated is not None)

    @property
    def has_label(self) -> bool:
        """Whether the data gives the row's true class (multi-label: its set of true labels; token
        classification: its words' tags)."""
        return self.label is not None or self.labels is not None or self.tags is not None

    @property
    def correct(self) -> bool | None:
        if self.label is None or self.prediction is None:
            return None
        return self.label == self.prediction


@dataclass
class Attribution:
    """One method's scores for one example: per token, and folded per word."""

    method: str
    example: int
    tokens: list[float]
    words: list[float]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class MethodInfo:
    """What a method is, how it was configured and what it cost."""

    name: str
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)  # the method's own defaults, to show what was changed
    seconds: float = 0.0
    model_evaluations: int = 0
    examples: int = 0


@dataclass
class Failure:
    """An example that a method (or, with no method, every method) could not explain, and why."""

    example: int
    reason: str
    method: str | None = None


@dataclass
class RunResult:
    """Everything a run produced and how: saved by :mod:`reportgen.results.store`, rendered by the report."""

    config: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    timings: dict[str, Any] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)
    methods: dict[str, MethodInfo] = field(default_factory=dict)
    attributions: dict[str, dict[int, Attribution]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # the run key (explain.checkpoint): what made it, kept in the results folder's marker and manifest

    @property
    def labels(self) -> list[str]:
        return list(self.model.get("labels", []))

    def example(self, index: int) -> Example:
        return self._by_index()[index]

    def _by_index(self) -> dict[int, Example]:
        return {ex.index: ex for ex in self.examples}

    def add(self, attribution: Attribution) -> None:
        self.attributions.setdefault(attribution.method, {})[attribution.example] = attribution
