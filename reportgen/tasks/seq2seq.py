"""Encoder-decoder models (AutoModelForSeq2SeqLM: Marian, T5, BART, mBART, Pegasus): translation and
summarization. Each token of the output is explained on its own, with respect to every token of the source.

A row's source (``--prompt-template`` around the source column, e.g. T5's "translate English to German:
{source}") is what the encoder reads and every method scores; the output before the explained token is the
decoder's fixed input. The output is the reference (``--target-column``, tokenised as the tokenizer tokenises
targets) under teacher forcing, or the greedy output of transformers' generate.

The model runs in two parts so that every method works unchanged: ``forward`` runs the encoder alone and
returns its last hidden states with the source's attention mask as one extra channel (``encoded``), and
``target_logits`` runs the decoder on them with each unit's own decoder input, read from its target tensor.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ..errors import ReportgenError
from ..results.records import Example
from .base import Encoded, character_limit, tasks
from .generation import DEFAULT_NEW_TOKENS, DEFAULT_PROMPT, SOURCE_SLOT, Generation, greedy_ids, stacked
from .sequence_classification import _encoded

CROSS_ROLLOUT = ("rollout multiplies self-attention maps layer by layer; an encoder-decoder's cross-attention maps "
                 "the source to the output once per layer, so there is nothing to multiply through")
SHARED_LAYERS = ("it hooks the encoder's layers, and the decoder shares the encoder's input embeddings; layer "
                 "integrated gradients is not built for encoder-decoders yet")
TRANSLATION_TYPES = ("marian", "fsmt", "m2m_100", "mbart", "t5", "mt5", "nllb-moe", "opus")


class EncoderDecoder(Generation):
    """What translation and summarization share; the two differ in their statistics (to come) and names."""

    auto_class = "AutoModelForSeq2SeqLM"
    reads = "an encoder-decoder (...ForConditionalGeneration, ...MTModel)"
    metrics = (*Generation.metrics, "output_quality")
    excluded_methods = {**Generation.excluded_methods, "attention_rollout": CROSS_ROLLOUT,
                        "value_zeroing": CROSS_ROLLOUT.replace("rollout multiplies self-attention maps",
                                                               "value zeroing rolls its mixing matrices out"),
                        "layer_integrated_gradients": SHARED_LAYERS}

    def __init__(self, template: str = DEFAULT_PROMPT, max_new_tokens: int = DEFAULT_NEW_TOKENS,
                 chat_template: bool = False) -> None:
        if chat_template:
            raise ReportgenError("--chat-template applies to a causal language model (the generation task); an "
                                 "encoder-decoder reads its source as it is")
        super().__init__(template, max_new_tokens)
        self.model: Any = None
        self.embed_scale = 1.0
        self.decoder_autocast: dict[str, Any] = {"enabled": False}

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        architectures = getattr(config, "architectures", None) or []
        return bool(getattr(config, "is_encoder_decoder", False)) and any(
            str(name).endswith(("ForConditionalGeneration", "MTModel")) for name in architectures)

    def prepare(self, model: Any, tokenizer: Any, source: str) -> dict[str, Any]:
        """The model's encoder and decoder, the token the decoder starts from, and the scale the encoder puts on
        its embeddings (checked: the encoder reads the scaled embeddings as it reads the ids)."""
        start = getattr(model.config, "decoder_start_token_id", None)
        if getattr(model, "get_encoder", None) is None or start is None:
            raise ReportgenError(f"model {source!r} ({type(model).__name__}) is not an encoder-decoder with a "
                                 "decoder_start_token_id (AutoModelForSeq2SeqLM)")
        self.model, self.tokenizer = model, tokenizer
        self.embed_scale = _embedding_scale(model, tokenizer, source)
        return {"prompt_template": self.template, "max_new_tokens": self.max_new_tokens,
                "vocabulary": int(model.get_output_embeddings().weight.shape[0]), "decoder_start": int(start)}

    def encode(self, tokenizer: Any, texts: list[str], max_length: int,
               pairs: list[str] | None = None) -> list[Encoded]:
        """Each row's source as the encoder reads it, up to ``max_length`` tokens."""
        self.max_length = max_length
        prompts = [self.template.replace(SOURCE_SLOT, text) for text in texts]
        limit = character_limit(max_length)
        kept = [prompt[:limit] for prompt in prompts]
        enc = tokenizer(kept, truncation=True, max_length=max_length, return_offsets_mapping=True)
        return [_encoded(tokenizer, prompt, enc, i, len(prompts[i]) > limit) for i, prompt in enumerate(kept)]

    def forward(self, model: Any, input_ids: Any, attention_mask: Any, **kwargs: Any) -> Any:
        """The encoder alone: ``logits`` holds its last hidden states and, as one more channel, the mask."""
        from transformers.modeling_outputs import SequenceClassifierOutput

        embeds = kwargs.pop("inputs_embeds", None)
        kwargs.pop("output_attentions", None)
        encoder = model.get_encoder()
        if embeds is not None:
            out = encoder(inputs_embeds=embeds * self.embed_scale, attention_mask=attention_mask)
        else:
            out = encoder(input_ids=input_ids, attention_mask=attention_mask)
        encoded = torch.cat([out.last_hidden_state, attention_mask[..., None].to(out.last_hidden_state.dtype)], -1)
        self.decoder_autocast = autocast_state(encoded.device.type)
        return SequenceClassifierOutput(logits=encoded)

    def target_tensor(self, examples: Sequence[Example], width: int, device: Any) -> Any:
        """Per unit: the token it explains, then the decoder's input before it (-1 after its end)."""
        prefixes = [ex.step["prefix"] if ex.step else [] for ex in examples]
        targets = torch.full((len(examples), 1 + max(map(len, prefixes), default=0)), -1, dtype=torch.long)
        for row, (ex, prefix) in enumerate(zip(examples, prefixes)):
            targets[row, 0] = ex.target
            targets[row, 1 : 1 + len(prefix)] = torch.tensor(prefix, dtype=torch.long)
        return targets.to(device)

    def target_logits(self, logits: Any, targets: Any) -> Any:
        """Per unit, the log-probability the decoder gives its token after its decoder input."""
        return self._decoded(logits, targets).float().log_softmax(dim=-1).gather(1, targets[:, :1])[:, 0]

    def _decoded(self, encoded: Any, targets: Any, output_attentions: bool = False) -> Any:
        """The decoder's logits at each unit's last decoder position (and the output, with attentions)."""
        from transformers.modeling_outputs import BaseModelOutput

        hidden, mask = encoded[..., :-1], encoded[..., -1]
        prefix = targets[:, 1:]
        decoder_mask = prefix >= 0
        # The decoder runs after the runner's call (in target_logits), so it re-enters the encoder's autocast.
        with torch.autocast(encoded.device.type, **self.decoder_autocast):
            out = self.model(encoder_outputs=BaseModelOutput(last_hidden_state=hidden), attention_mask=mask.long(),
                             decoder_input_ids=prefix.clamp(min=0), decoder_attention_mask=decoder_mask.long(),
                             output_attentions=output_attentions)
        last = decoder_mask.sum(dim=1) - 1
        logits = out.logits[torch.arange(len(prefix), device=prefix.device), last]
        return (logits, out) if output_attentions else logits

    def attentions(self, batch: Any) -> tuple[Any, ...]:
        """The decoder's cross-attention per layer [batch, heads, decoder positions, source tokens]."""
        encoded = batch.runner.forward(batch.input_ids, batch.attention_mask).logits
        _, out = self._decoded(encoded, batch.targets, output_attentions=True)
        return out.cross_attentions

    @torch.no_grad()
    def output_attention(self, runner: Any, source: Sequence[int], output: Sequence[int]) -> Any:
        """Per layer and head, the decoder's cross-attention from each output token's position (the one that
        predicts it) over the source: [layers, heads, output tokens, source tokens]."""
        ids = torch.tensor([list(source)], device=runner.device)
        decoder = torch.tensor([[self.model.config.decoder_start_token_id, *output[:-1]]], device=runner.device)
        with runner.autocast():
            out = self.model(input_ids=ids, attention_mask=torch.ones_like(ids), decoder_input_ids=decoder,
                             output_attentions=True)
        runner.evaluations += 1
        return stacked(out.cross_attentions)[:, 0]

    def query_positions(self, examples: Sequence[Example]) -> list[int]:
        return [len(ex.step["prefix"]) - 1 if ex.step else 0 for ex in examples]  # the decoder's last position

    def held_fixed(self, examples: Sequence[Example], width: int) -> None:
        return None  # the decoder's input is not among the scored tokens

    def _answer(self, runner: Any, example: Example) -> dict[str, Any]:
        """The explained output and its log-probabilities; beside a reference, the greedy output too (what BLEU,
        chrF and ROUGE score against the reference)."""
        greedy = greedy_ids(runner, example.input_ids, self.max_new_tokens, skip=1)
        if example.text_pair is None:
            return {"ids": greedy, "log_probs": self._teacher_forced(runner, example.input_ids, greedy)}
        reference = self.reference_ids(example)
        ids = reference[: self.max_length]
        return {"ids": ids, "log_probs": self._teacher_forced(runner, example.input_ids, ids), "greedy": greedy,
                "cut": len(reference) > len(ids)}

    def reference_ids(self, example: Example) -> list[int]:
        """The reference tokenised as the tokenizer tokenises targets (its special tokens included)."""
        return list(self.tokenizer(text_target=example.text_pair or "")["input_ids"])

    @torch.no_grad()
    def _teacher_forced(self, runner: Any, source: Sequence[int], output: Sequence[int]) -> list[float]:
        ids = torch.tensor([list(source)], device=runner.device)
        decoder = torch.tensor([[self.model.config.decoder_start_token_id, *output[:-1]]], device=runner.device)
        with runner.autocast():
            logits = self.model(input_ids=ids, attention_mask=torch.ones_like(ids), decoder_input_ids=decoder).logits[0]
        runner.evaluations += 1
        chosen = logits.float().log_softmax(dim=-1).gather(1, torch.tensor(output, device=runner.device)[:, None])
        return chosen[:, 0].clamp(max=0.0).tolist()

    def absorb(self, example: Example, outcome: dict[str, Any], explain: str, threshold: float) -> None:
        """The output, kept beside the source the encoder reads (start None: the tokens are the source's)."""
        ids = self._record_output(example, outcome)
        example.generated.update(start=None, tokens=self.tokenizer.convert_ids_to_tokens(ids),
                                 decoder_start=int(self.model.config.decoder_start_token_id))
        if "greedy" in outcome:
            greedy = [int(i) for i in outcome["greedy"]]
            example.generated["greedy"] = self.tokenizer.decode(greedy, skip_special_tokens=True)

    def units(self, example: Example, explain: str) -> list[dict[str, Any]]:
        """One per output token: the whole source, explained for it after the output before it."""
        generated = example.generated
        if generated is None:
            return []
        ids, start = generated["ids"], generated["decoder_start"]
        return [{"target": token, "step": {"k": k, "position": k, "token": generated["tokens"][k],
                                           "log_prob": generated["log_probs"][k], "prefix": [start, *ids[:k]]}}
                for k, token in enumerate(ids)]


def autocast_state(device_type: str) -> dict[str, Any]:
    """The autocast in force for ``device_type``, as torch.autocast's arguments (reportgen's only one is
    bfloat16: --precision bfloat16)."""
    try:
        enabled = torch.is_autocast_enabled(device_type)
    except TypeError:  # torch before 2.4 asks per kind of device
        enabled = torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()
    return {"enabled": enabled, "dtype": torch.bfloat16}


def _embedding_scale(model: Any, tokenizer: Any, source: str) -> float:
    """The factor between the input embeddings and what the encoder reads (Marian scales them by sqrt(d), inside
    its forward when it is given ids only): the one of 1 and the encoder's ``embed_scale`` under which the
    encoder's output from embeddings equals its output from ids."""
    encoder = model.get_encoder()
    ids = torch.tensor([tokenizer("a probe")["input_ids"]], device=model.device)
    with torch.no_grad():
        wanted = encoder(input_ids=ids).last_hidden_state
        embeds = model.get_input_embeddings()(ids)
        for scale in dict.fromkeys([1.0, float(getattr(encoder, "embed_scale", 1.0) or 1.0)]):
            if torch.allclose(encoder(inputs_embeds=embeds * scale).last_hidden_state, wanted, atol=1e-5):
                return scale
    raise ReportgenError(f"model {source!r}: its encoder does not read its input embeddings as it reads token ids, "
                         "so gradients with respect to them would not be its own")


@tasks.register
class Translation(EncoderDecoder):
    name = "translation"
    description = ("An encoder-decoder translation model (Marian, T5, mBART ...; AutoModelForSeq2SeqLM): each token of "
                   "the output explained by its log-probability given the source and the output before it.")
    order = 8  # before sequence classification, which fits any encoder

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        return super().fits(config, paired) and getattr(config, "model_type", "") in TRANSLATION_TYPES


@tasks.register
class Summarization(EncoderDecoder):
    name = "summarization"
    description = ("An encoder-decoder summarization model (BART, Pegasus ...; AutoModelForSeq2SeqLM): each token of "
                   "the summary explained by its log-probability given the document and the summary before it.")
    order = 9
