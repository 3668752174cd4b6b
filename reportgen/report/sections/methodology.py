"""7. Methodology: every method, parameter, definition and normalisation, and the JavaScript's licences."""

from __future__ import annotations

from typing import Any

from ...results.records import RunResult
from ...tasks import task_of
from ..assets import javascript_notice
from ..figures import metric
from ..format import fmt, seconds, shown, value_text
from ..pages import score_digits
from .example_notes import ATTENTION_NOTE, HIGHLIGHT_NOTE, LAYER_NOTE, WORD_NOTE, kept_maps_note, token_note
from .global_words import function_word_list


DISPLAY_NOTES = (
    "Scores shown in charts are rounded to 4 significant digits and attention weights to 0.001; tables "
    "round to 3 decimals. The saved results keep full precision.",
    "Token scores are for the target class (the predicted class by default). Word scores are the sum "
    "of the word's sub-word token scores; word-level methods (LIME) share a word's score equally among "
    "its tokens for the token view.",
    "Bidirectional control characters in dataset text (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) "
    "are shown as visible markers such as ⟨U+202E⟩ in the page, so none can reorder the text around it; the "
    "saved results keep the text unchanged.",
)


PRECISION_NOTE = (
    "The model ran under PyTorch's bfloat16 autocast (precision bfloat16): its matrix products compute in "
    "bfloat16 and autocast's rules decide the other operations; the weights stay float32, and the model's "
    "outputs are turned to float32 before reportgen computes any probability, gradient product, score or "
    "statistic from them. Scores differ slightly from a float32 run of the same configuration; reportgen's "
    "benchmark (benchmarks/RESULTS.md) measures by how much on the demo model."
)


def methodology(run: RunResult) -> dict[str, Any]:
    methods = [{
        "name": info.name, "description": info.description,
        "params": [(k, value_text(v)) for k, v in sorted(info.params.items())],
        "changed": [(k, value_text(v), value_text(info.defaults[k])) for k, v in sorted(info.params.items())
                    if k in info.defaults and info.defaults[k] != v],
        "seconds": seconds(info.seconds), "examples": info.examples, "evaluations": fmt(info.model_evaluations),
    } for info in run.methods.values()]
    metrics = []
    for name, entry in run.metrics.items():
        result = entry.get("result") or {}
        definitions = result.get("definitions")
        if isinstance(definitions, dict):
            parts = [(key, str(text)) for key, text in definitions.items()]
        else:
            parts = [("definition", str(result.get("definition", "")))] if result.get("definition") else []
        metrics.append({"name": name, "description": entry.get("description", ""),
                        "params": [(k, value_text(v)) for k, v in sorted((entry.get("params") or {}).items())],
                        "definitions": parts, "seconds": seconds(entry.get("seconds")), "error": entry.get("error")})
    kept = sum(1 for a in run.attributions.get("attention", {}).values() if a.extra.get("maps"))
    attention = kept_maps_note(run, kept)
    precision = PRECISION_NOTE if run.config.get("precision") == "bfloat16" else ""
    return {
        "model": model_notes(run),
        "methods": methods,
        "metrics": metrics,
        "normalisation": [("Tokens x methods", token_note(score_digits(len(run.examples)))), ("Words x methods", WORD_NOTE),
                          ("Highlighted text", HIGHLIGHT_NOTE),
                          ("Layers x tokens", LAYER_NOTE), ("Attention, query x key", ATTENTION_NOTE)],
        "display": list(DISPLAY_NOTES) + [note for note in (attention, precision) if note] + [
            "Accuracy on the explained examples comes with a 95% Wilson score interval: (p + z²/2n ± "
            "z·sqrt(p(1 - p)/n + z²/4n²)) / (1 + z²/n) with p = correct / n, n the labeled explained examples and "
            "z = 1.96. When the "
            "examples are a sample (--limit), it is a seeded, class-stratified one: each class keeps its share of "
            "the rows read.",
            "Global explanations: the method picked at first is the one with the largest comprehensiveness lift "
            "over the random control, and the methods are listed in that order. " + function_word_note(run)],
        "config": [(key, value_text(value)) for key, value in run.config.items()],
        "versions": sorted(run.versions.items()),
        "javascript": javascript_notice(),
    }


def function_word_note(run: RunResult) -> str:
    """What the global explanations' "hide function words" box hides, from the results' list."""
    language, words = function_word_list(metric(run, "top_words"))
    if not language:
        return ("Its \"hide function words\" box hides only the data's own common words (top_words."
                "function_words=none).")
    return (f"Its \"hide function words\" box hides these {len(words)} {language} function words (a list built into "
            f"reportgen, picked by --metric-param top_words.function_words): {', '.join(shown(w) for w in words)}. Negations, "
            "contrast words (but, though) and degree words (too, very, so, more, only) are not in it: they carry "
            "sentiment.")


def model_notes(run: RunResult) -> list[str]:
    """How the task read the model: its kind, where the score is read, what pads and what replaces a token."""
    task = task_of(run)
    notes = [f"Task {task.name}: {task.description}"]
    model = run.model
    if model.get("pooling"):
        notes.append(f"The classification is read at {model['pooling']}.")
    if model.get("padding"):
        notes.append(f"Batches are padded with {model['padding']}; padding is masked, so it changes no score.")
    zero_shot = model.get("zero_shot")
    if isinstance(zero_shot, dict):
        labels = zero_shot.get("labels") if isinstance(zero_shot.get("labels"), list) else []
        notes.append(f"Zero-shot labels {', '.join(value_text(label) for label in labels)}, each as the hypothesis "
                     f"{value_text(zero_shot.get('template'))} with the label in place of {{}}; the explained output is "
                     f"the NLI model's {value_text(zero_shot.get('entailment'))} class for the text paired with the "
                     "target label's hypothesis, whose tokens are never scored or removed.")
    if model.get("prompt_template") is not None:
        notes.append(generation_note(run))
    replacement = model.get("replacement")
    if model.get("removal"):
        notes.append(f"The model is a black-box function read through the tokenizer {value_text(model.get('tokenizer'))}: "
                     f"{value_text(model['removal'])} (occlusion, faithfulness, lime, shap).")
    elif isinstance(replacement, dict) and replacement.get("token") is not None:
        notes.append(f"A removed token (occlusion, faithfulness) is replaced by {value_text(replacement['token'])} "
                     f"(--replacement {value_text(replacement.get('choice'))}).")
    excluded = model.get("methods_not_applicable")
    if isinstance(excluded, dict):
        notes += [f"{value_text(name)} does not apply to this task and was not run: {value_text(why)}."
                  for name, why in excluded.items()]
    return notes


def generation_note(run: RunResult) -> str:
    """How a language model's outputs were made and explained."""
    model = run.model
    result = (run.metrics.get("generation") or {}).get("result") or {}
    made = ("the references, under teacher forcing" if result.get("rows") and result.get("references") == result["rows"]
            else f"the model's greedy outputs (transformers' generate, no sampling, at most "
                 f"{value_text(model.get('max_new_tokens'))} new tokens)")
    read = f"Each row's {'source' if 'decoder_start' in model else 'prompt'} is {value_text(model['prompt_template'])}"
    if "decoder_start" in model:  # an encoder-decoder
        how = ("Every output token is explained on its own, for its log-probability given the source, whose tokens "
               "every method scores, and the output before it, the decoder's fixed input (after its start token "
               f"{value_text(model['decoder_start'])}); the attention method reads the decoder's last-layer "
               "cross-attention from the position that predicts the token.")
    else:
        how = ("Every output token is explained on its own, for its log-probability given the prompt and the output "
               "before it; integrated gradients holds that output prefix fixed and interpolates the prompt's "
               "embeddings only, so it scores the prefix 0.")
    read += " with the row's source text in place of {source}"
    chat = model.get("chat_template_sha256")
    if chat is not None:
        read += (", put as one user message in the tokenizer's chat template (sha256 "
                 f"{value_text(chat)}) with the assistant's turn opened; the template's tokens are part of the prompt")
    return (f"{read}; the outputs explained are {made}. {how} Where the definitions below name the target class, "
            "read the explained output token (faithfulness: its probability).")
