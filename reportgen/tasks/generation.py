"""A GPT-style language model (AutoModelForCausalLM) that continues a prompt: each token of its output is
explained on its own, with respect to every earlier token of the prompt and of the output.

A row's prompt is ``--prompt-template`` with the row's source text in its ``{source}`` slot, put as one user
message in the tokenizer's chat template with ``--chat-template`` (never unless asked). The output is the
row's reference (``--target-column``: teacher forcing, what drives the model toward the reference) or else
the model's own greedy continuation of at most ``--max-new-tokens`` tokens (deterministic, and recorded).
Every output token is a unit of its row: the prompt and the output before it, explained for the token's
log-probability at the last position. A unit's scores are one row of the row's source x target matrix.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

import numpy as np
import torch

from ..errors import ReportgenError
from ..ops.alignment import output_words_of, source_words
from ..results.records import Example
from .base import Encoded, Task, character_limit, quoted, tasks
from .decoder_classification import last_positions, model_body, padded_with_eos
from .sequence_classification import _encoded

DEFAULT_PROMPT = "{source}"
SOURCE_SLOT = "{source}"
DEFAULT_NEW_TOKENS = 20
PER_TOKEN = ("it perturbs the text as a string, so per output token it would score hundreds of re-tokenised "
             "texts (its budget) for that token alone; a score of the whole output (as shap's TeacherForcing "
             "gives) is not offered, since one score per source token cannot fill the source x target matrix "
             "that every other method and statistic of this task reads")
PROMPT, OUTPUT = 0, 1  # a word's segment: of the prompt, or of the output
GENERATION_TASKS = ("generation", "translation", "summarization")  # the tasks that explain outputs token by token


@tasks.register
class Generation(Task):
    name = "generation"
    description = ("A causal language model (GPT-2-, Llama-style ...ForCausalLM): each token of its greedy output, "
                   "or of the reference (--target-column), explained by its log-probability given the tokens before it.")
    auto_class = "AutoModelForCausalLM"
    order = 14  # before decoder classification, which fits any decoder
    per_label = True
    answers_first = True
    reads_references = True
    metrics = ("faithfulness", "agreement", "cost", "generation", "alignment", "alignment_atlas")
    sections = ("summary", "performance", "quality", "atlas", "outputs", "methodology")
    excluded_methods = {"lime": PER_TOKEN, "shap": PER_TOKEN}
    reads = "a causal language model (...ForCausalLM, ...LMHeadModel)"  # for the message that refuses others
    keeps_attention_maps = False  # the output explorer draws no query x key maps

    def __init__(self, template: str = DEFAULT_PROMPT, max_new_tokens: int = DEFAULT_NEW_TOKENS,
                 chat_template: bool = False) -> None:
        check_template(template)
        self.template = template
        self.max_new_tokens = max_new_tokens
        self.chat = chat_template
        self.chat_sha256 = ""
        self.tokenizer: Any = None
        self.max_length = 0

    @classmethod
    def fits(cls, config: Any, paired: bool) -> bool:
        architectures = getattr(config, "architectures", None) or []
        # A second text column is refused later with what to give instead (--target-column).
        return any(str(name).endswith(("ForCausalLM", "LMHeadModel")) for name in architectures)

    def prepare(self, model: Any, tokenizer: Any, source: str) -> dict[str, Any]:
        """The model's output layer over its body, and a padding token (eos when the tokenizer has none)."""
        if model_body(model) is None or model.get_output_embeddings() is None:
            raise ReportgenError(f"model {source!r} ({type(model).__name__}) is not a language model with an output "
                                 "layer over its body (AutoModelForCausalLM)")
        notes: dict[str, Any] = {"prompt_template": self.template, "max_new_tokens": self.max_new_tokens,
                                 "vocabulary": int(model.get_output_embeddings().weight.shape[0]),
                                 **padded_with_eos(tokenizer, source)}
        self.tokenizer = tokenizer
        if self.chat:
            template = checked_chat_template(tokenizer, source)
            self.chat_sha256 = notes["chat_template_sha256"] = hashlib.sha256(template.encode()).hexdigest()
        return notes

    def class_names(self, config: Any) -> list[str]:
        return []  # the classes are the vocabulary's tokens, named by the tokenizer

    def fingerprint(self) -> tuple[Any, ...]:
        chat = ("chat_template", self.chat_sha256) if self.chat else ()  # as results written before the flag
        return (self.template, self.max_new_tokens, *chat)

    def prompt_of(self, source: str) -> str:
        """A row's prompt: the template filled with its source, in the chat template when asked."""
        filled = self.template.replace(SOURCE_SLOT, source)
        if not self.chat:
            return filled
        return self.tokenizer.apply_chat_template([{"role": "user", "content": filled}], tokenize=False,
                                                  add_generation_prompt=True)

    def encode(self, tokenizer: Any, texts: list[str], max_length: int,
               pairs: list[str] | None = None) -> list[Encoded]:
        """Each row's prompt, with room left for the output: at most ``max_length`` minus ``--max-new-tokens``
        tokens (at least one). The output is added when the row is answered."""
        self.max_length = max_length
        room = max(max_length - self.max_new_tokens, 1)
        prompts = [self.prompt_of(text) for text in texts]
        limit = character_limit(room)
        kept = [prompt[:limit] for prompt in prompts]
        # A chat template writes the special tokens it wants into the prompt itself.
        enc = tokenizer(kept, truncation=True, max_length=room, return_offsets_mapping=True,
                        add_special_tokens=not self.chat)
        rows = [_encoded(tokenizer, prompt, enc, i, len(prompts[i]) > limit) for i, prompt in enumerate(kept)]
        for row in rows:
            row.word_segments = [PROMPT] * len(row.words)
        return rows

    def forward(self, model: Any, input_ids: Any, attention_mask: Any, **kwargs: Any) -> Any:
        """The body, and the output layer at each row's last real token only: logits [batch, vocabulary]."""
        from transformers.modeling_outputs import CausalLMOutput

        embeds = kwargs.pop("inputs_embeds", None)
        out = model_body(model)(input_ids=None if embeds is not None else input_ids, inputs_embeds=embeds,
                           attention_mask=attention_mask, **kwargs)
        last = out.last_hidden_state[torch.arange(len(attention_mask)), last_positions(attention_mask)]
        return CausalLMOutput(logits=model.get_output_embeddings()(last), attentions=getattr(out, "attentions", None))

    def probabilities(self, logits: Any) -> Any:
        return logits.float().softmax(dim=-1)

    def target_logits(self, logits: Any, targets: Any) -> Any:
        """Per row, the log-probability of the token it explains."""
        return logits.float().log_softmax(dim=-1).gather(1, targets[:, None])[:, 0]

    def target_probabilities(self, logits: Any, targets: Any) -> Any:
        """Per row, the probability of the token it explains (occlusion and faithfulness score its drop)."""
        return self.target_logits(logits, targets).exp()

    def answers(self, runner: Any, examples: Sequence[Example]) -> list[dict[str, Any]]:
        """Per row, its output's token ids (the reference's, else the greedy continuation's) and each one's
        log-probability given the tokens before it."""
        return [self._answer(runner, ex) for ex in examples]

    def _answer(self, runner: Any, example: Example) -> dict[str, Any]:
        room = self.max_length - len(example.input_ids)
        if example.text_pair is None:
            ids = greedy_ids(runner, example.input_ids, min(self.max_new_tokens, room))
            return {"ids": ids, "log_probs": teacher_forced(runner, example.input_ids, ids)}
        reference = self.reference_ids(example)
        return {"ids": reference[:room], "log_probs": teacher_forced(runner, example.input_ids, reference[:room]),
                "cut": len(reference) > room}

    def outcome(self, probabilities: Any, length: int) -> dict[str, Any]:
        """What is stored of a row's answer: its output's token ids and each one's probability, whether a
        reference was cut, and a greedy output made beside it (encoder-decoders)."""
        stored = {"ids": probabilities["ids"], "probabilities": np.exp(probabilities["log_probs"]).tolist()}
        return {**stored, **{key: probabilities[key] for key in ("cut", "greedy") if key in probabilities}}

    def absorb(self, example: Example, outcome: dict[str, Any], explain: str, threshold: float) -> None:
        """The output appended to the row's prompt, its tokens folded into words of their own (a word starts
        at a token that decodes with a leading space)."""
        ids = self._record_output(example, outcome)
        first_word = len(example.words)
        word_ids, words = output_words(self.tokenizer, ids)
        example.input_ids = example.input_ids + ids
        example.tokens = example.tokens + self.tokenizer.convert_ids_to_tokens(ids)
        example.word_ids = example.word_ids + [None if w is None else first_word + w for w in word_ids]
        example.words = example.words + words
        example.word_segments = [PROMPT] * first_word + [OUTPUT] * len(words)

    def _record_output(self, example: Example, outcome: dict[str, Any]) -> list[int]:
        """A stored answer as ``example.generated`` (its output starting after the row's tokens so far), a cut
        reference counted as truncation; the output's ids."""
        ids, log_probs = [int(i) for i in outcome["ids"]], np.log(outcome["probabilities"]).tolist()
        if len(ids) != len(log_probs) or not ids:
            raise ValueError(f"the stored answer holds {len(ids)} output tokens and {len(log_probs)} log-probabilities")
        example.truncated = example.truncated or bool(outcome.get("cut"))
        example.generated = {"start": len(example.input_ids), "ids": ids, "log_probs": log_probs,
                             "text": self.tokenizer.decode(ids),
                             "from": "reference" if example.text_pair is not None else "greedy"}
        if example.alignment is not None:
            example.generated["gold_words"] = self._gold_words(example, ids)
        return ids

    def _gold_words(self, example: Example, ids: list[int]) -> dict[str, Any]:
        """Per source token and per output token, its whitespace word of the source and of the reference, the
        words a gold alignment links (the output's None when it does not spell the reference)."""
        prompt, filled = self.prompt_of(example.text), self.template.replace(SOURCE_SLOT, example.text)
        source_at = prompt.rfind(filled) + self.template.index(SOURCE_SLOT) if filled in prompt else len(prompt)
        source = source_words(prompt, source_at, example.text, example.words, example.word_ids)
        pieces = [self.tokenizer.decode(ids[: k + 1], skip_special_tokens=True) for k in range(len(ids))]
        return {"source": source, "target": output_words_of(pieces, example.text_pair or "")}

    def reference_ids(self, example: Example) -> list[int]:
        """The reference's tokens as the tokenizer encodes it on its own (no special tokens), after a space
        when neither the prompt ends nor the reference begins with one (a continuation, as the model reads it)."""
        prompt, reference = self.prompt_of(example.text), example.text_pair or ""
        joined = reference if prompt[-1:].isspace() or reference[:1].isspace() else " " + reference
        return list(self.tokenizer(joined, add_special_tokens=False)["input_ids"])

    def units(self, example: Example, explain: str) -> list[dict[str, Any]]:
        """One per output token: the tokens before it, explained for it."""
        generated = example.generated or {}
        start = generated.get("start", len(example.input_ids))
        return [self._unit(example, start + k, k) for k in range(len(example.input_ids) - start)]

    @staticmethod
    def _unit(example: Example, position: int, k: int) -> dict[str, Any]:
        word_ids = example.word_ids[:position]
        words = max((w for w in word_ids if w is not None), default=-1) + 1
        return {"target": example.input_ids[position], "input_ids": example.input_ids[:position],
                "tokens": example.tokens[:position], "word_ids": word_ids, "words": example.words[:words],
                "word_segments": (example.word_segments or [])[:words],
                "step": {"k": k, "position": position, "token": example.tokens[position],
                         "log_prob": example.generated["log_probs"][k]}}

    def query_positions(self, examples: Sequence[Example]) -> list[int]:
        return [len(ex.input_ids) - 1 for ex in examples]  # the position that predicts the explained token

    def baseline_id(self, model: Any) -> int:
        return model.pad_id

    @torch.no_grad()
    def output_attention(self, runner: Any, source: Sequence[int], output: Sequence[int]) -> Any:
        """Per layer and head, each output token's attention over the source (here the prompt) when the model
        predicts it, from one teacher-forced call: [layers, heads, output tokens, source tokens]."""
        ids = torch.tensor([list(source) + list(output[:-1])], device=runner.device)
        with runner.autocast():
            out = runner.model(input_ids=ids, attention_mask=torch.ones_like(ids), output_attentions=True)
        runner.evaluations += 1
        predicting = slice(len(source) - 1, len(source) - 1 + len(output))
        return stacked(out.attentions)[:, 0, :, predicting, : len(source)]

    def held_fixed(self, examples: Sequence[Example], width: int) -> list[list[bool]]:
        """The output tokens before the explained one: integrated gradients runs on the prompt's embeddings with
        the output prefix held fixed (as Captum's LLMGradientAttribution does), so it scores them 0."""
        rows = []
        for ex in examples:
            start = (ex.generated or {}).get("start", len(ex.input_ids))
            rows.append([position >= start for position in range(width)])
        return rows


def stacked(attentions: Any) -> Any:
    """A model's attention per layer as one float tensor (refused when it gave none: SDPA attention)."""
    if not attentions or any(layer is None for layer in attentions):
        raise RuntimeError("the model returned no attention weights; load it with attn_implementation='eager'")
    return torch.stack([layer.float() for layer in attentions])


def only_for_generation(flag: str, task: str) -> ReportgenError:
    """The one-line refusal of a generation option given for a model read as ``task``."""
    names = f"{', '.join(GENERATION_TASKS[:-1])} and {GENERATION_TASKS[-1]}"
    return ReportgenError(f"{flag} applies to the {names} tasks, and the model is read as {task}")


def checked_chat_template(tokenizer: Any, source: str) -> str:
    """The tokenizer's chat template, refused in one line when it has none or it fails on a probe message."""
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        raise ReportgenError(f"--chat-template: the tokenizer of model {source!r} has no chat template "
                             "(leave the flag out, or put the chat markup in --prompt-template)")
    if not isinstance(template, str):
        raise ReportgenError(f"--chat-template: the tokenizer of model {source!r} has several named chat "
                             "templates; reportgen applies a single default one")
    try:
        tokenizer.apply_chat_template([{"role": "user", "content": "probe"}], tokenize=False,
                                      add_generation_prompt=True)
    except Exception as error:  # the template is the model's code, run by transformers in its sandbox
        raise ReportgenError(f"--chat-template: the chat template of model {source!r} fails: "
                             f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from None
    return template


def check_template(template: str) -> None:
    if template.count(SOURCE_SLOT) != 1:
        raise ReportgenError(f"--prompt-template must hold {SOURCE_SLOT} once, for the row's source text: "
                             f"{quoted(template)}")


@torch.no_grad()
def greedy_ids(runner: Any, prompt: Sequence[int], new_tokens: int, skip: int | None = None) -> list[int]:
    """The model's greedy continuation of ``prompt`` (transformers' generate, no sampling, no beams), up to and
    with its end-of-sequence token; ``skip``: the leading tokens of generate's output that are not the model's
    (default: the prompt; an encoder-decoder's output starts with its decoder start token instead)."""
    from transformers import GenerationConfig

    model, tokenizer = runner.model, runner.classifier.tokenizer
    ids = torch.tensor([list(prompt)], device=runner.device)
    config = GenerationConfig(max_new_tokens=max(new_tokens, 1), do_sample=False, num_beams=1,
                              pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    with runner.autocast():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config)
    runner.evaluations += 1
    return out[0, len(prompt) if skip is None else skip:].tolist()


@torch.no_grad()
def teacher_forced(runner: Any, prompt: Sequence[int], output: Sequence[int]) -> list[float]:
    """Each output token's log-probability given the prompt and the output before it, from one model call."""
    ids = torch.tensor([list(prompt) + list(output)], device=runner.device)
    with runner.autocast():
        logits = runner.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0].float()
    runner.evaluations += 1
    predicting = logits[len(prompt) - 1 : len(prompt) - 1 + len(output)].log_softmax(dim=-1)
    chosen = predicting.gather(1, torch.tensor(output, device=runner.device)[:, None])[:, 0]
    return chosen.clamp(max=0.0).tolist()  # rounding can leave a certain token a hair above 0


def output_words(tokenizer: Any, ids: Sequence[int]) -> tuple[list[int | None], list[str]]:
    """Per output token, its word (None for a special token or one of whitespace only), and the words: a word starts at
    the first token and at every token that decodes with a leading space."""
    word_ids: list[int | None] = []
    groups: list[list[int]] = []
    special = set(tokenizer.all_special_ids)
    for token_id in ids:
        piece = tokenizer.decode([token_id])
        if token_id in special or not piece.strip():
            word_ids.append(None)
            continue
        if not groups or piece[:1].isspace():
            groups.append([])
        groups[-1].append(token_id)
        word_ids.append(len(groups) - 1)
    return word_ids, [tokenizer.decode(group).strip() for group in groups]

