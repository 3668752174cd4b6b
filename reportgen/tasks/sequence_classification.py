"""One text in, one class out: a softmax over the classes (sentiment, topic, ...)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..results.records import Example
from .base import Encoded, Task, character_limit, class_names_from, is_decoder_only, tasks


@tasks.register
class SequenceClassification(Task):
    name = "sequence_classification"
    description = "A single-text classifier with a softmax over its classes (AutoModelForSequenceClassification)."
    auto_class = "AutoModelForSequenceClassification"
    order = 10
    windowed = True
    contrasts_errors = True
    randomisable = True  # its weights are a transformers model's (sanity checks)

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        return not paired and not is_decoder_only(config)

    def class_names(self, config: Any) -> list[str]:
        return class_names_from(config.id2label, getattr(config, "label2id", None), config.num_labels)

    def encode(self, tokenizer: Any, texts: list[str], max_length: int,
               pairs: list[str] | None = None) -> list[Encoded]:
        """Each text cut to ``character_limit(max_length)`` characters, then tokenised up to ``max_length``
        tokens; a text either cut loses is marked truncated."""
        return one_text_each(self.name, tokenizer, texts, max_length, pairs, _encoded)

    def probabilities(self, logits: Any) -> Any:
        return logits.float().softmax(dim=-1)

    def prediction(self, probabilities: Sequence[float]) -> int:
        return int(np.argmax(probabilities))

    def target(self, example: Example, explain: str) -> int | None:
        return example.prediction if explain == "pred" else example.label

    def target_logits(self, logits: Any, targets: Any) -> Any:
        return logits.gather(1, targets[:, None])[:, 0]

    def query_positions(self, examples: Sequence[Example]) -> list[int]:
        return [0] * len(examples)  # the first token ([CLS], <s>) is what the classification head reads

    def baseline_id(self, model: Any) -> int:
        return model.pad_id


def one_text_each(task: str, tokenizer: Any, texts: list[str], max_length: int, pairs: list[str] | None,
                  row: Callable[[Any, str, Any, int, bool], Encoded]) -> list[Encoded]:
    """Each text cut to ``character_limit(max_length)`` characters and tokenised (with character offsets) up to
    ``max_length`` tokens; ``row`` makes one text's Encoded from the batch encoding (``cut``: the text lost
    characters)."""
    if pairs is not None:
        raise ValueError(f"the {task} task reads one text per example, not pairs")
    limit = character_limit(max_length)
    kept = [text[:limit] for text in texts]
    enc = tokenizer(kept, truncation=True, max_length=max_length, return_offsets_mapping=True)
    return [row(tokenizer, text, enc, i, len(texts[i]) > limit) for i, text in enumerate(kept)]


def _encoded(tokenizer: Any, text: str, enc: Any, i: int, cut: bool) -> Encoded:
    """Row ``i`` of a batch encoding, with words cut from the text by the tokens' character offsets."""
    ids = list(enc["input_ids"][i])
    word_ids = enc.word_ids(i)
    spans: dict[int, list[int]] = {}
    for word, (start, end) in zip(word_ids, enc["offset_mapping"][i]):
        if word is not None:
            span = spans.setdefault(word, [start, end])
            span[1] = end
    renumber = {word: n for n, word in enumerate(sorted(spans))}
    # Byte-level and sentencepiece tokenizers (GPT-2, Llama) give a word's offsets with its leading space.
    words = [text[spans[w][0] : spans[w][1]].lstrip() or text[spans[w][0] : spans[w][1]] for w in sorted(spans)]
    return Encoded(
        input_ids=ids,
        tokens=tokenizer.convert_ids_to_tokens(ids),
        word_ids=[renumber.get(w) if w is not None else None for w in word_ids],
        words=words,
        truncated=cut or bool(enc.encodings[i].overflowing),
    )
