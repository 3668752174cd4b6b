"""The one string that lime and shap perturb for an example, and the model inputs its perturbed copies stand for.

Both packages perturb a single string. An example of one text is its visible text; an example of two texts
(sentence pairs) is its two visible texts joined by the special tokens its tokenizer puts between them
("[SEP]" for BERT, "</s></s>" for RoBERTa). That is the string shap's Text masker is meant for: tokenised
whole it gives the pair's own tokens, and the masker never masks a separator. Each perturbed copy is split
at the separator again and scored as a pair, with the token types the model reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..results.queries import pair_start
from ..results.records import Example

ModelInput = str | tuple[str, str]  # one text, or a text and its pair


@dataclass(frozen=True)
class PerturbedText:
    """``string`` is what the packages perturb; ``joiner`` the separator between a pair's texts (None: one text)."""

    string: str
    joiner: str | None = None
    pair: str | None = None  # a second text every copy is paired with, unperturbed (a zero-shot hypothesis)

    def inputs(self, strings: Sequence[Any]) -> list[ModelInput]:
        """The model inputs that perturbed copies of ``string`` stand for."""
        if self.pair is not None:
            return [(str(s), self.pair) for s in strings]
        if self.joiner is None:
            return [str(s) for s in strings]
        inputs: list[ModelInput] = []
        for s in strings:
            text, found, pair = str(s).partition(self.joiner)
            if not found:
                raise ValueError(f"a perturbed pair lost the separator {self.joiner!r} between its two texts")
            inputs.append((text, pair))
        return inputs


def perturbed_text(classifier: Any, ex: Example) -> PerturbedText:
    """The string lime and shap perturb for ``ex``: what the model sees of its text, or of its two texts."""
    if ex.text_pair is None:
        return PerturbedText(visible_text(classifier, ex), pair=classifier.task.fixed_pair(ex))
    separators = between_segments(ex)
    for piece in (ex.text, ex.text_pair):
        if any(token in piece for token in separators):
            raise ValueError(f"the text or its pair holds the separator token {separators[0]!r}, at which a "
                             "perturbed pair is split back into its two texts")
    text, pair = visible_pair(classifier, ex)
    joiner = "".join(separators)
    return PerturbedText(text + joiner + pair, joiner)


def visible_text(classifier: Any, ex: Example) -> str:
    """The part of the example's text that the model sees.

    For a truncated example the text is cut after the last character of the last
    token kept, so the perturbations act only on the words that have scores and the
    rest of the text cannot slide into the model's window when words are removed.
    """
    if not ex.truncated:
        return ex.text
    enc = classifier.tokenizer(ex.text, truncation=True, max_length=classifier.max_length,
                               return_offsets_mapping=True)
    end = max((stop for start, stop in enc["offset_mapping"]), default=0)
    return ex.text[:end]


def visible_pair(classifier: Any, ex: Example) -> tuple[str, str]:
    """Each of a pair's texts cut after the last character of its last token the model sees."""
    segments = (ex.text, ex.text_pair or "")
    if not ex.truncated:
        return segments
    enc = classifier.tokenizer(segments[0], segments[1], truncation="longest_first",
                               max_length=classifier.max_length, return_offsets_mapping=True)
    ends = [0, 0]
    for sequence, (start, stop) in zip(enc.sequence_ids(0), enc["offset_mapping"]):
        if sequence is not None:
            ends[sequence] = max(ends[sequence], stop)
    return segments[0][: ends[0]], segments[1][: ends[1]]


def between_segments(ex: Example) -> list[str]:
    """The special tokens between the last token of a pair's first text and the first of its second."""
    begins = pair_start(ex)
    if begins is None:
        raise ValueError("the example has no word of its second text")
    first = start = begins[1]
    while start > 0 and ex.word_ids[start - 1] is None:
        start -= 1
    if start == first:
        raise ValueError("the tokenizer puts no separator token between the two texts")
    return list(ex.tokens[start:first])
