"""Two texts in, one class out (NLI, paraphrase, query-passage relevance): a softmax over the classes of a
classifier that reads both segments as its tokenizer pairs them."""

from __future__ import annotations

from typing import Any

import torch

from ..errors import ReportgenError
from .base import Encoded, character_limit, is_decoder_only, tasks
from .sequence_classification import SequenceClassification

SEGMENTS = ("text", "pair")  # what segment 0 and segment 1 of an example are called in the results and report


@tasks.register
class SentencePair(SequenceClassification):
    name = "sentence_pair"
    description = ("A classifier of text pairs (NLI, paraphrase, relevance) with a softmax over its classes "
                   "(AutoModelForSequenceClassification); both texts are encoded as the tokenizer pairs them.")
    order = 20
    windowed = False  # a window of a pair would need both texts cut to fit
    reads_pairs = True

    def __init__(self) -> None:
        self.separator_id: int | None = None

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        return paired and not is_decoder_only(config)

    def prepare(self, model: Any, tokenizer: Any, source: str) -> dict[str, Any]:
        """The separator the token types are read from; a model with token types needs one."""
        self.separator_id = tokenizer.sep_token_id
        types = takes_token_types(model.config)
        if types and self.separator_id is None:
            raise ReportgenError(f"model {source!r} reads token types but its tokenizer has no separator token "
                                 "to tell the two texts apart")
        return {"segments": "token types from the separator" if types else "no token types (the model has none)"}

    def encode(self, tokenizer: Any, texts: list[str], max_length: int,
               pairs: list[str] | None = None) -> list[Encoded]:
        """Each text and its pair, each cut to ``character_limit(max_length)`` characters, tokenised together up
        to ``max_length`` tokens (the longer segment loses tokens first); words are cut from each segment's own
        text and numbered through: the text's, then the pair's."""
        if pairs is None or len(pairs) != len(texts):
            raise ValueError(f"the {self.name} task reads a pair for every text")
        limit = character_limit(max_length)
        kept = [[text[:limit] for text in texts], [pair[:limit] for pair in pairs]]
        enc = tokenizer(kept[0], kept[1], truncation="longest_first", max_length=max_length,
                        return_offsets_mapping=True)
        return [_encoded(tokenizer, (kept[0][i], kept[1][i]), enc, i,
                         cut=len(texts[i]) > limit or len(pairs[i]) > limit) for i in range(len(texts))]

    def forward(self, model: Any, input_ids: Any, attention_mask: Any, **kwargs: Any) -> Any:
        """The model call, with token types derived from the ids where the model reads them (on the
        inputs_embeds path too, where the ids still tell where the pair starts)."""
        if takes_token_types(model.config):
            separator = self.separator_id if self.separator_id is not None else getattr(model.config, "sep_token_id",
                                                                                         None)
            if separator is None:
                raise ValueError("the sentence_pair task was not prepared for this model: no separator token")
            kwargs["token_type_ids"] = token_types(input_ids, attention_mask, separator)
        return super().forward(model, input_ids, attention_mask, **kwargs)


def takes_token_types(config: Any) -> bool:
    """Whether the model tells segments apart by token types (BERT; RoBERTa's single type does not)."""
    return int(getattr(config, "type_vocab_size", 0) or 0) > 1


def token_types(input_ids: torch.Tensor, attention_mask: torch.Tensor, separator: int) -> torch.Tensor:
    """Per row, 0 up to and including the first separator, 1 from the token after it to the end (padding 0):
    BERT's token types for a pair."""
    is_separator = (input_ids == separator).long()
    after_first = (is_separator.cumsum(dim=-1) - is_separator) > 0
    return (after_first.long() * (attention_mask != 0).long()).to(input_ids.dtype)


def _encoded(tokenizer: Any, segments: tuple[str, str], enc: Any, i: int, cut: bool) -> Encoded:
    """Row ``i`` of a pair encoding: words cut from each segment's text by the tokens' character offsets."""
    ids = list(enc["input_ids"][i])
    keys = [None if seq is None or word is None else (seq, word)
            for seq, word in zip(enc.sequence_ids(i), enc.word_ids(i))]
    spans: dict[tuple[int, int], list[int]] = {}
    for key, (start, end) in zip(keys, enc["offset_mapping"][i]):
        if key is not None:
            spans.setdefault(key, [start, end])[1] = end
    order = sorted(spans)
    renumber = {key: n for n, key in enumerate(order)}
    return Encoded(
        input_ids=ids,
        tokens=tokenizer.convert_ids_to_tokens(ids),
        word_ids=[renumber.get(key) if key is not None else None for key in keys],
        words=[segments[seq][spans[(seq, w)][0]: spans[(seq, w)][1]] for seq, w in order],
        truncated=cut or bool(enc.encodings[i].overflowing),
        word_segments=[seq for seq, _ in order],
    )
