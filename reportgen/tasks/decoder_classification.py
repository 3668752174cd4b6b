"""A GPT-, Llama-, Qwen- or Mistral-style classifier: one text in, a softmax over the classes read at the
last real token (a causal model's first token sees only itself)."""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ..errors import ReportgenError
from ..results.records import Example
from .base import is_decoder_only, tasks
from .sequence_classification import SequenceClassification


@tasks.register
class DecoderClassification(SequenceClassification):
    name = "decoder_classification"
    description = ("A decoder-only (causal) classifier: GPT-2-, Llama-, Qwen-, Mistral-style "
                   "...ForSequenceClassification, scored at the last token of each text.")
    order = 15

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        return not paired and is_decoder_only(config)

    def prepare(self, model: Any, tokenizer: Any, source: str) -> dict[str, Any]:
        """The head and body the scores are read through; a tokenizer without a padding token pads with its
        end-of-sequence token (padding is masked, so which token pads changes no score)."""
        if not isinstance(getattr(model, "score", None), torch.nn.Module) or model_body(model) is None:
            raise ReportgenError(f"model {source!r} ({type(model).__name__}) is a decoder whose classification "
                                 "head reportgen does not know (it reads a 'score' layer over the model's body)")
        notes: dict[str, Any] = {"pooling": "the last token of each text", **padded_with_eos(tokenizer, source)}
        model.config.pad_token_id = tokenizer.pad_token_id
        return notes

    def forward(self, model: Any, input_ids: Any, attention_mask: Any, **kwargs: Any) -> Any:
        """The body, the head at every position, and the head's logits at each row's last real token: right
        or left padding alike (transformers' own pooling reads position -1 when given embeddings)."""
        from transformers.modeling_outputs import SequenceClassifierOutputWithPast

        embeds = kwargs.pop("inputs_embeds", None)
        out = model_body(model)(input_ids=None if embeds is not None else input_ids, inputs_embeds=embeds,
                           attention_mask=attention_mask, **kwargs)
        logits = model.score(out.last_hidden_state)
        return SequenceClassifierOutputWithPast(logits=logits[torch.arange(len(logits)), last_positions(attention_mask)],
                                                attentions=getattr(out, "attentions", None))

    def query_positions(self, examples: Sequence[Example]) -> list[int]:
        return [len(ex.input_ids) - 1 for ex in examples]  # the token the head reads (batches are right-padded)


def padded_with_eos(tokenizer: Any, source: str) -> dict[str, str]:
    """A decoder's tokenizer without a padding token pads with its end-of-sequence token (padding is masked, so
    which token pads changes no score); the note that says so, or none. Neither token: refused in one line."""
    if tokenizer.pad_token_id is not None:
        return {}
    if tokenizer.eos_token_id is None:
        raise ReportgenError(f"model {source!r} is a decoder whose tokenizer has neither a padding nor an "
                             "end-of-sequence token; give the tokenizer a pad_token")
    tokenizer.pad_token = tokenizer.eos_token
    return {"padding": f"the end-of-sequence token {tokenizer.eos_token!r} (the tokenizer has no padding token)"}


def last_positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """Per row, the position of the last token the mask keeps."""
    positions = torch.arange(attention_mask.shape[-1], device=attention_mask.device)
    return (positions * (attention_mask != 0)).argmax(dim=-1)


def model_body(model: Any) -> Any:
    """The transformer under a model's head (GPT-2's transformer, Llama's model), by its base_model_prefix."""
    return getattr(model, getattr(model, "base_model_prefix", ""), None)
