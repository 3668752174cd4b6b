"""Documents longer than the model reads (--long-text window): overlapping windows of the model's length.

A long document is read as windows that each hold as many whole words as fit, the next starting at the
first word ``stride`` tokens or more after the start of the last. Its prediction is the mean of the windows'
logits. Every method explains each window on its own (so a method costs what it costs on that many texts of
the model's length), and a token's score is the mean of its scores in the windows that hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from ..errors import ReportgenError
from ..ops.words import fold_to_words, word_starts
from ..results.records import Attribution, Example, RunResult

Span = tuple[int, int]  # positions [start, end) of a window's text tokens in the document's tokens
WORST = ("delta", "additivity_gap")  # per-window errors: a document keeps the largest
SUMMED = ("evaluations",)
WINDOW_SETTINGS = ("long_text", "window_stride", "max_windows")


@dataclass(frozen=True)
class Windows:
    """How long documents are cut: ``length`` tokens per window (the model's maximum), ``prefix`` and
    ``suffix`` special tokens around the text in each, ``stride`` tokens between window starts at most."""

    length: int
    stride: int
    max_windows: int
    prefix: int
    suffix: int

    @classmethod
    def for_model(cls, tokenizer: Any, length: int, stride: int | None, max_windows: int) -> "Windows":
        """The windows of a model reading ``length`` tokens; ``stride`` None: half of a window's text."""
        word_ids = tokenizer("a").word_ids()
        prefix = next(i for i, word in enumerate(word_ids) if word is not None)
        suffix = len(word_ids) - 1 - max(i for i, word in enumerate(word_ids) if word is not None)
        room = length - prefix - suffix
        if room < 2:
            raise ReportgenError(f"a window of {length} tokens holds {max(room, 0)} of text beside the special "
                                 "tokens; --long-text window needs a longer --max-length")
        if stride is not None and stride > room:
            raise ReportgenError(f"--window-stride {stride} is more than the {room} tokens of text a window holds, "
                                 "so windows would skip tokens")
        return cls(length, stride or room // 2, max_windows, prefix, suffix)

    @property
    def room(self) -> int:
        """Text tokens per window."""
        return self.length - self.prefix - self.suffix

    @property
    def longest(self) -> int:
        """The most tokens of a document that are read: what ``max_windows`` windows cover at the stride."""
        return self.length + (self.max_windows - 1) * self.stride

    def is_long(self, ids: Sequence[int]) -> bool:
        return len(ids) > self.length

    def spans(self, word_ids: Sequence[int | None]) -> list[Span]:
        """The windows of a document's tokens, each of whole words (a word longer than a window is cut)."""
        first, last = self.prefix, len(word_ids) - self.suffix
        if len(word_ids) <= self.length:
            return [(first, last)]
        starts = [p for p in range(first, last) if p == first or word_ids[p] != word_ids[p - 1]]
        spans: list[Span] = []
        start = first
        while True:
            end = max((p for p in starts + [last] if start < p <= start + self.room), default=start + self.room)
            spans.append((start, end))
            if end >= last:
                return spans
            later = [p for p in starts if start < p <= start + self.stride]
            start = min(later[-1] if later else next((p for p in starts if p > start), end), end)

    def cut(self, ids: Sequence[Any], span: Span) -> list[Any]:
        """The model input of one window: the document's special tokens around the span's tokens."""
        start, end = span
        return list(ids[: self.prefix]) + list(ids[start:end]) + list(ids[len(ids) - self.suffix:])

    def window_inputs(self, ids: Sequence[int], word_ids: Sequence[int | None]) -> list[list[int]]:
        return [self.cut(ids, span) for span in self.spans(word_ids)]

    def units(self, row: Example) -> list[Example]:
        """A long document's windows as examples of their own (index: their position among its windows; the
        caller numbers them), each with the text and words it holds; a short one as itself."""
        if not self.is_long(row.input_ids):
            return [row]
        starts = word_starts(row.text, row.words)
        units = []
        for number, span in enumerate(self.spans(row.word_ids)):
            words = [w for w in row.word_ids[span[0]:span[1]] if w is not None]
            low, high = min(words), max(words)
            text = row.text[starts[low]: starts[high] + len(row.words[high])]
            units.append(replace(row, index=number, source=row.index, text=text, input_ids=self.cut(row.input_ids, span),
                                 tokens=self.cut(row.tokens, span), words=row.words[low: high + 1],
                                 word_ids=[None if w is None else w - low for w in self.cut(row.word_ids, span)],
                                 truncated=False))
        return units

    def merged(self, row: Example, parts: Sequence[Attribution]) -> Attribution:
        """One method's attribution of a document from those of its windows (in window order): per token the
        mean over the windows that hold it, words summed from tokens as everywhere."""
        spans = self.spans(row.word_ids)
        total, count = np.zeros(len(row.input_ids)), np.zeros(len(row.input_ids))
        layers = None
        for span, part in zip(spans, parts):
            where = self._positions(span, len(row.input_ids))
            total[where] += part.tokens
            count[where] += 1
            if part.extra.get("layers") is not None:
                layers = np.zeros((len(part.extra["layers"]), len(total))) if layers is None else layers
                layers[:, where] += np.asarray(part.extra["layers"], dtype=np.float64)
        tokens = total / np.maximum(count, 1)
        extra = merged_extra([part.extra for part in parts])
        if layers is not None:
            extra["layers"] = (layers / np.maximum(count, 1)).tolist()
        words = fold_to_words(tokens, row.word_ids, len(row.words))
        return Attribution(parts[0].method, row.index, tokens.tolist(), words.tolist(), extra)

    def _positions(self, span: Span, length: int) -> np.ndarray:
        """Where a window's tokens lie in the document's."""
        start, end = span
        return np.concatenate([np.arange(self.prefix), np.arange(start, end), np.arange(length - self.suffix, length)])


def windows_for(classifier: Any, config: Any) -> Windows | None:
    """The windows a run reads long documents in (None: --long-text truncate), or one line why it cannot."""
    if config.long_text != "window":
        return None
    if not classifier.task.windowed:
        readers = "sequence_classification, decoder_classification"
        raise ReportgenError(f"--long-text window reads one text of one class per example ({readers}), and the "
                             f"{classifier.task.name} task does not; use --long-text truncate")
    return Windows.for_model(classifier.tokenizer, classifier.max_length, config.window_stride, config.max_windows)


def merge_windows(run: RunResult, rows: Sequence[Example], windows_of: dict[int, list[int]], windows: Windows) -> None:
    """Each long row's attributions (one per method when every window has it) from those of its windows, and
    the failures of its windows as its own (one per method); the run's counts say how long rows were read."""
    row_of = {unit: row for row, units in windows_of.items() for unit in units}
    by_index = {row.index: row for row in rows}
    for name, table in run.attributions.items():
        for row, units in windows_of.items():
            if units != [row]:
                parts = [table.pop(unit) for unit in units if unit in table]
                if len(parts) == len(units):
                    table[row] = windows.merged(by_index[row], parts)
        run.methods[name].examples = len(table)
    failures, seen = [], set()
    for failure in run.failures:
        failure.example = row_of.get(failure.example, failure.example)
        if (failure.example, failure.method) not in seen:
            seen.add((failure.example, failure.method))
            failures.append(failure)
    run.failures = failures
    run.dataset["long_text"] = {
        "mode": "window", "window": windows.length, "stride": windows.stride, "max_windows": windows.max_windows,
        "long": sum(windows.is_long(ex.input_ids) for ex in run.examples),
        "windows": sum(len(units) for row, units in windows_of.items() if units != [row]),
    }


def merged_extra(extras: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A document's extras from its windows': each window's errors at their largest, other numbers averaged,
    the rest as the first window has them; attention maps (of one window's tokens) are dropped."""
    merged: dict[str, Any] = {"windows": len(extras)}
    for key, value in extras[0].items():
        values = [extra[key] for extra in extras if extra.get(key) is not None]
        if key == "maps" or not values:
            continue
        if key in WORST:
            merged[key] = max(values, key=abs)
        elif key in SUMMED:
            merged[key] = sum(values)
        elif key == "deltas":
            merged[key] = [max(column, key=abs) for column in zip(*values)]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = float(np.mean(values))
        else:
            merged[key] = value
    return merged
