"""Zero-shot classification through an NLI model (--zero-shot-labels), as transformers' zero-shot pipeline
does it: each text is paired with one hypothesis per candidate label ("This example is {}."), and the softmax
of the entailment logits over the candidates is the prediction.

The explanation is of the chosen candidate: every method explains the entailment logit (for occlusion,
faithfulness, lime and shap: the entailment probability) of the text paired with that candidate's
hypothesis. The hypothesis is the template's, not the data's: its tokens are never scored, removed or
perturbed (they count as special tokens).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import ReportgenError
from ..ops.names import label_key
from ..results.records import Example
from .base import Encoded, character_limit, class_names_from, quoted, tasks
from .sentence_pair import SentencePair
from .sequence_classification import _encoded

DEFAULT_TEMPLATE = "This example is {}."
ENTAILMENT = "entail"  # the pipeline's test: the label whose name starts with it


@tasks.register
class ZeroShot(SentencePair):
    name = "zero_shot"
    description = ("Zero-shot classification with an NLI model (--zero-shot-labels): the softmax over the candidate "
                   "labels of the entailment logits of the text paired with each label's hypothesis.")
    order = 95
    reads_pairs = False  # the data holds one text; the hypotheses come from the template
    answers_first = True
    explains_stored_class = False
    contrasts_errors = False  # each example's candidates are read from its own pairs (answers_first)
    randomisable = False  # an example's answer is read from several pairs: its units are not the examples

    def __init__(self, candidates: Sequence[str] = (), template: str = DEFAULT_TEMPLATE) -> None:
        super().__init__()
        self.candidates = list(candidates)
        self.template = template
        self.entailment_id: int | None = None
        self.tokenizer: Any = None
        self.max_length = 0

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        return False  # chosen by --zero-shot-labels

    @property
    def hypotheses(self) -> list[str]:
        return [self.template.format(label) for label in self.candidates]

    def prepare(self, model: Any, tokenizer: Any, source: str) -> dict[str, Any]:
        """The NLI model's entailment class (a label whose name starts with 'entail', as the pipeline finds it)."""
        notes = super().prepare(model, tokenizer, source)
        names = class_names_from(model.config.id2label)
        found = [i for i, name in enumerate(names) if label_key(name).startswith(ENTAILMENT)]
        if len(found) != 1:
            raise ReportgenError(f"--zero-shot-labels needs an NLI model with one entailment class, and the labels of "
                                 f"model {source!r} are {quoted(names)}")
        self.entailment_id, self.tokenizer = found[0], tokenizer
        return {**notes, "zero_shot": {"labels": list(self.candidates), "template": self.template,
                                       "entailment": names[found[0]], "nli_labels": names}}

    def class_names(self, config: Any) -> list[str]:
        return class_names_from(dict(enumerate(self.candidates)))

    def encode(self, tokenizer: Any, texts: list[str], max_length: int,
               pairs: list[str] | None = None) -> list[Encoded]:
        """Each text alone (what it is paired with depends on the answer): its words, for the prediction."""
        if pairs is not None:
            raise ValueError(f"the {self.name} task reads one text per example; the hypotheses are its second texts")
        self.max_length = max_length
        limit = character_limit(max_length)
        enc = tokenizer([text[:limit] for text in texts], truncation=True, max_length=max_length,
                        return_offsets_mapping=True)
        return [_encoded(tokenizer, text[:limit], enc, i, len(text) > limit) for i, text in enumerate(texts)]

    def token_encode(self, tokenizer: Any, texts: list[str], max_length: int,
                     pairs: list[str] | None = None) -> list[Encoded]:
        return self.encode(tokenizer, texts, max_length, pairs)

    def paired(self, texts: Sequence[str], hypotheses: Sequence[str]) -> list[Encoded]:
        """Each text with its hypothesis as the model reads them: only the text is cut to fit, and only its
        tokens belong to words (the hypothesis's tokens are special tokens)."""
        limit = character_limit(self.max_length)
        kept = [text[:limit] for text in texts]
        enc = self.tokenizer(kept, list(hypotheses), truncation="only_first", max_length=self.max_length,
                             return_offsets_mapping=True)
        rows = []
        for i, text in enumerate(kept):
            first = [None if seq != 0 else word for seq, word in zip(enc.sequence_ids(i), enc.word_ids(i))]
            rows.append(_encoded(self.tokenizer, text, _OneSegment(enc, first), i, len(texts[i]) > limit))
        return rows

    def answers(self, runner: Any, examples: Sequence[Example]) -> np.ndarray:
        """Per example, the softmax over the candidates of the entailment logits of its text with each
        candidate's hypothesis."""
        count = len(self.candidates)
        pairs = self.paired([ex.text for ex in examples for _ in range(count)], self.hypotheses * len(examples))
        logits = runner.logits([pair.input_ids for pair in pairs])[:, self.entailment_id].reshape(len(examples), count)
        return logits.softmax(dim=-1).numpy()

    def absorb(self, example: Example, outcome: dict[str, Any], explain: str, threshold: float) -> None:
        """The answer, and the example as the model reads it with the explained candidate's hypothesis."""
        super().absorb(example, outcome, explain, threshold)
        if example.target is None:
            return
        (enc,) = self.paired([example.text], [self.hypotheses[example.target]])
        example.input_ids, example.tokens, example.word_ids = enc.input_ids, enc.tokens, enc.word_ids
        example.words, example.truncated = enc.words, enc.truncated

    def target_tensor(self, examples: Sequence[Example], width: int, device: Any) -> Any:
        """The NLI model's entailment class, for every example: its hypothesis says which candidate."""
        import torch

        return torch.full((len(examples),), int(self.entailment_id or 0), device=device)

    def explained_class(self, example: Example) -> int:
        return int(self.entailment_id or 0)

    def fixed_pair(self, example: Example) -> str | None:
        return None if example.target is None else self.hypotheses[example.target]

    def fingerprint(self) -> tuple[Any, ...]:
        return (self.candidates, self.template)


class _OneSegment:
    """Row ``i`` of a pair encoding seen as a one-text encoding: the hypothesis's tokens belong to no word."""

    def __init__(self, enc: Any, word_ids: list[int | None]):
        self._enc, self._word_ids = enc, word_ids
        self.encodings = enc.encodings

    def __getitem__(self, key: str) -> Any:
        return self._enc[key]

    def word_ids(self, i: int) -> list[int | None]:
        return self._word_ids
