"""A tag per token (NER, POS): every entity the model finds is explained on its own, as a unit of its row.

The words of a text are its whitespace-separated words (``text.split()``), which is how tagged data gives its
tags. An entity is grouped from the tokens' predicted tags as transformers' pipeline groups them with
``aggregation_strategy="simple"`` (:mod:`reportgen.ops.entities`), and what is explained for it is its score:
the mean log-probability of its tokens' tags, taken over its tokens.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Sequence

import numpy as np

from ..ops.entities import Entity, entities_from_tokens, word_offsets, word_tags
from ..results.records import Example
from .base import ONE_CLASS_METRICS, Encoded, Task, class_names_from, tasks
from .sequence_classification import one_text_each

NOT_ON_STRINGS = ("it perturbs the text as a string and scores one class per text, and an entity's score is read "
                  "at its own token positions, which a perturbed string moves")


@tasks.register
class TokenClassification(Task):
    name = "token_classification"
    description = ("A tag per token (NER, POS; AutoModelForTokenClassification): each predicted (or, with --target "
                   "label, true) entity is explained on its own by the mean log-probability of its tags.")
    auto_class = "AutoModelForTokenClassification"
    order = 7  # before sequence classification, which fits any encoder
    per_label = True
    reads_tags = True
    excluded_methods = {"lime": NOT_ON_STRINGS, "shap": NOT_ON_STRINGS}
    excluded_metrics = ONE_CLASS_METRICS  # the entities statistic replaces them

    def __init__(self) -> None:
        self.tag_names: list[str] = []  # the model's tags, once prepare has read them

    def prepare(self, model: Any, tokenizer: Any, source: str) -> dict[str, Any]:
        self.tag_names = self.class_names(model.config)
        return {}

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        architectures = getattr(config, "architectures", None) or []
        return not paired and any(str(name).endswith("ForTokenClassification") for name in architectures)

    def class_names(self, config: Any) -> list[str]:
        return class_names_from(config.id2label, getattr(config, "label2id", None), config.num_labels)

    def encode(self, tokenizer: Any, texts: list[str], max_length: int,
               pairs: list[str] | None = None) -> list[Encoded]:
        """Each text tokenised with its character offsets, each token given the whitespace word it starts in."""
        whole = lambda tok, kept, enc, i, cut: _encoded(tok, texts[i], enc, i, cut)  # noqa: E731 - every word
        return one_text_each(self.name, tokenizer, texts, max_length, pairs, whole)

    def probabilities(self, logits: Any) -> Any:
        return logits.float().softmax(dim=-1)  # [batch, tokens, tags]

    def outcome(self, probabilities: Any, length: int) -> dict[str, Any]:
        """Per real token, its most probable tag and that tag's probability (the pipeline's score)."""
        rows = np.asarray(probabilities)[:length]
        return {"probabilities": rows.max(axis=-1).tolist(), "tags": rows.argmax(axis=-1).tolist()}

    def absorb(self, example: Example, outcome: dict[str, Any], explain: str, threshold: float) -> None:
        tags = [int(tag) for tag in outcome["tags"]]
        if len(tags) != len(example.input_ids):
            raise ValueError(f"the stored answer holds {len(tags)} tags for {len(example.input_ids)} tokens")
        example.probabilities = outcome["probabilities"]
        example.token_tags = tags
        example.predicted_tags = word_tags(tags, example.word_ids, len(example.words))

    def units(self, example: Example, explain: str) -> list[dict[str, Any]]:
        """One per entity the model finds ('pred') or the data gives ('label')."""
        found = predicted_entities(example, self.tag_names) if explain == "pred" else \
            true_entities(example, self.tag_names)
        return [{"target": entity.tags[0], "entity": entity_record(entity)} for entity in found]

    def target_tensor(self, examples: Sequence[Example], width: int, device: Any) -> Any:
        """Per example, the tag id of each of its entity's tokens at its position, -1 elsewhere."""
        import torch

        targets = torch.full((len(examples), width), -1, dtype=torch.long)
        for row, ex in enumerate(examples):
            if ex.entity:
                targets[row, ex.entity["positions"]] = torch.tensor(ex.entity["tags"])
        return targets.to(device)

    def target_logits(self, logits: Any, targets: Any) -> Any:
        """Per row, the mean log-probability of the entity's tags over its tokens."""
        targets = targets[:, : logits.shape[1]]
        inside = targets >= 0
        chosen = logits.float().log_softmax(dim=-1).gather(-1, targets.clamp(min=0)[..., None])[..., 0]
        return (chosen * inside).sum(dim=1) / inside.sum(dim=1).clamp(min=1)

    def target_probabilities(self, logits: Any, targets: Any) -> Any:
        """The entity's score as a probability: the geometric mean of its tokens' tag probabilities."""
        return self.target_logits(logits, targets).exp()

    def query_positions(self, examples: Sequence[Example]) -> list[int]:
        return [ex.entity["positions"][0] if ex.entity else 0 for ex in examples]  # the entity's first token reads

    def baseline_id(self, model: Any) -> int:
        return model.pad_id


def predicted_entities(example: Example, names: Sequence[str]) -> list[Entity]:
    """The entities the model finds in an answered example."""
    return entities_from_tokens(names, example.token_tags or [], example.probabilities, example.word_ids)


def true_entities(example: Example, names: Sequence[str]) -> list[Entity]:
    """The data's entities, grouped from its word tags as the model's are from token tags, each on all of
    its words' tokens: its first tag on the first token, the continuing (I-) tag on the others."""
    if example.tags is None:
        return []
    by_word = entities_from_tokens(names, example.tags, [float("nan")] * len(example.tags),
                                   list(range(len(example.tags))))
    on_tokens = [_on_tokens(entity, example, names) for entity in by_word]
    return [entity for entity in on_tokens if entity is not None]



def entity_record(entity: Entity) -> dict[str, Any]:
    """An entity as a unit of the results stores it."""
    return {"type": entity.type, "start": entity.start, "end": entity.end, "tags": list(entity.tags),
            "positions": list(entity.positions), "score": entity.score, "words": list(entity.words)}


def _on_tokens(entity: Entity, example: Example, names: Sequence[str]) -> Entity | None:
    """A word-level entity moved onto its words' tokens (None when truncation left it no token)."""
    first, last = entity.words
    positions = [i for i, word in enumerate(example.word_ids) if word is not None and first <= word < last]
    if not positions:
        return None
    continuing = _continuing_tag(entity, names)
    tags = (entity.tags[0],) + (continuing,) * (len(positions) - 1)
    return Entity(entity.type, positions[0], positions[-1] + 1, float("nan"), tags, entity.words, tuple(positions))


def _continuing_tag(entity: Entity, names: Sequence[str]) -> int:
    """The I- tag of the entity's type where the model has one, else its first tag."""
    name = f"I-{entity.type}"
    return names.index(name) if name in names else entity.tags[0]


def _encoded(tokenizer: Any, text: str, enc: Any, i: int, cut: bool) -> Encoded:
    """Row ``i`` of a batch encoding of ``text`` (whose first characters were tokenised, when it was cut); each
    token belongs to the first whitespace word its characters overlap (its offsets may include a leading space)."""
    ids = list(enc["input_ids"][i])
    spans = word_offsets(text)
    ends = [end for _, end in spans]
    word_ids: list[int | None] = []
    for token, (start, end) in zip(enc.word_ids(i), enc["offset_mapping"][i]):
        word = bisect_right(ends, start) if token is not None and end > start else len(spans)
        word_ids.append(word if word < len(spans) and spans[word][0] < end else None)  # the first word it overlaps
    return Encoded(input_ids=ids, tokens=tokenizer.convert_ids_to_tokens(ids), word_ids=word_ids,
                   words=text.split(), truncated=cut or bool(enc.encodings[i].overflowing))
