"""The task seam: every registered task is checked, and the explainers, metrics and report ask the task
instead of assuming softmax, position 0 or the mask token."""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from reportgen.errors import ReportgenError, UnknownNameError
from reportgen.explain.batch import Batch
from reportgen.explain.batching import ModelRunner
from reportgen.explainers import explainers
from reportgen.load.data import Dataset
from reportgen.measure import compute_metrics
from reportgen.options import RunConfig
from reportgen.report.render import render_html
from reportgen.results.records import Example, RunResult
from reportgen.tasks import DEFAULT_TASK, Task, task_of, tasks
from reportgen.tasks.base import replacement_token
from reportgen.tasks.black_box import WHITE_BOX_METHODS, BlackBox
from reportgen.tasks.decoder_classification import DecoderClassification
from reportgen.tasks.generation import Generation, output_words
from reportgen.tasks.seq2seq import EncoderDecoder, Summarization, Translation
from reportgen.tasks.multi_label import MultiLabel
from reportgen.tasks.token_classification import TokenClassification
from reportgen.tasks.zero_shot import ZeroShot
from reportgen.tasks.sentence_pair import SentencePair
from reportgen.tasks.sequence_classification import SequenceClassification

from support.runs import measured
from support.tiny_models import CORPUS


def check_sequence_classification(classifier):
    task = SequenceClassification()
    assert task.class_names(classifier.model.config) == ["negative", "positive"]
    text = "unbelievable acting, really"
    (enc,) = task.encode(classifier.tokenizer, [text], classifier.max_length)
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]" and enc.word_ids[0] is None
    assert enc.words == ["unbelievable", "acting", ",", "really"]  # cut from the text by character offsets
    assert enc.word_ids[1:-1] == [0] * 8 + [1, 1, 2, 3]  # un ##b ... ##able, act ##ing: words of several tokens
    logits = torch.tensor([[1.0, 3.0], [0.5, -0.5]])
    probabilities = task.probabilities(logits)
    np.testing.assert_allclose(probabilities.numpy(), torch.softmax(logits, dim=-1).numpy(), rtol=0, atol=0)
    assert task.prediction([0.2, 0.8]) == 1
    ex = Example(index=0, text="", label=0, prediction=1)
    assert (task.target(ex, "pred"), task.target(ex, "label")) == (1, 0)
    assert task.target_logits(logits, torch.tensor([1, 0])).tolist() == [3.0, 0.5]
    assert task.query_positions([ex, ex]) == [0, 0]
    assert task.replacement_id(classifier) == classifier.tokenizer.mask_token_id
    assert task.baseline_id(classifier) == classifier.tokenizer.pad_token_id
    assert task.applies("metric", "faithfulness") and task.applies("section", "atlas")


def check_decoder_classification(classifier):
    """The decoder task on an encoder's tokenizer: what differs from sequence classification (the model
    itself is checked in test_decoder_classification.py)."""
    task = DecoderClassification()
    ex = Example(index=0, text="", input_ids=[5, 6, 7])
    assert task.query_positions([ex, Example(index=1, text="", input_ids=[5])]) == [2, 0]
    assert task.replacement_id(classifier) == classifier.replacement_id
    assert task.fits(SimpleNamespace(model_type="gpt2"), paired=False)
    assert not task.fits(SimpleNamespace(model_type="bert"), paired=False)
    assert not task.fits(SimpleNamespace(model_type="gpt2"), paired=True)


def check_sentence_pair(classifier):
    """The pair task on a one-text classifier's tokenizer: two texts in, words per segment (the model with
    token types is checked in test_sentence_pair.py)."""
    task = SentencePair()
    assert task.fits(SimpleNamespace(model_type="bert"), paired=True)
    assert not task.fits(SimpleNamespace(model_type="bert"), paired=False)
    assert not task.fits(SimpleNamespace(model_type="gpt2"), paired=True)
    (enc,) = task.encode(classifier.tokenizer, ["good film"], classifier.max_length, pairs=["bad"])
    assert enc.tokens.count("[SEP]") == 2 and enc.words == ["good", "film", "bad"]
    assert enc.word_segments == [0, 0, 1]
    with pytest.raises(ValueError, match="reads a pair for every text"):
        task.encode(classifier.tokenizer, ["good film"], classifier.max_length)


def check_multi_label(classifier):
    """The multi-label task on a one-text classifier's tokenizer: a sigmoid per label, the labels predicted
    at the threshold, one target per predicted (or true) label; the softmax metrics do not apply (the model
    itself is checked in test_multi_label.py)."""
    task = MultiLabel()
    assert task.per_label and not SequenceClassification.per_label
    assert task.fits(SimpleNamespace(model_type="roberta", problem_type="multi_label_classification"), paired=False)
    assert not task.fits(SimpleNamespace(model_type="roberta", problem_type=None), paired=False)
    assert not task.fits(SimpleNamespace(model_type="roberta", problem_type="multi_label_classification"), paired=True)
    logits = torch.tensor([[1.0, -3.0, 0.0]])
    np.testing.assert_allclose(task.probabilities(logits).numpy(), torch.sigmoid(logits).numpy(), rtol=0, atol=0)
    assert task.predicted([0.7, 0.05, 0.5], 0.5) == [0, 2] and task.predicted([0.7, 0.05, 0.5], 0.6) == [0]
    ex = Example(index=0, text="", labels=[1], predicted=[0, 2])
    assert task.units(ex, "pred") == [{"target": 0}, {"target": 2}] and task.units(ex, "label") == [{"target": 1}]
    assert task.units(Example(index=1, text="", predicted=[]), "pred") == []
    task.absorb(ex, {"probabilities": [0.2, 0.9, 0.5]}, "pred", 0.5)
    assert ex.predicted == [1, 2] and ex.prediction is None and ex.target is None
    assert task.target_logits(logits, torch.tensor([2])).tolist() == [0.0]
    assert not task.applies("metric", "performance") and not task.applies("metric", "calibration")
    assert task.applies("metric", "faithfulness") and task.applies("metric", "multi_label")


def check_token_classification(classifier):
    """The token task on a one-text classifier's tokenizer: whitespace words, a softmax per token, an entity's
    mean log-probability as its score, lime and shap excluded (the model is checked in
    test_token_classification.py)."""
    task = TokenClassification()
    assert task.per_label and task.reads_tags and set(task.excluded_methods) == {"lime", "shap"}
    assert task.fits(SimpleNamespace(architectures=["BertForTokenClassification"]), paired=False)
    assert not task.fits(SimpleNamespace(architectures=["BertForSequenceClassification"]), paired=False)
    (enc,) = task.encode(classifier.tokenizer, ["good film, really"], classifier.max_length)
    assert enc.words == ["good", "film,", "really"] and enc.word_ids == [None, 0, 1, 1, 2, None]
    logits = torch.tensor([[[0.0, 2.0], [1.0, 1.0], [3.0, 0.0]]])
    targets = task.target_tensor([Example(index=0, text="", entity={"start": 1, "end": 3, "tags": [0, 0],
                                                                    "positions": [1, 2]})], 3, "cpu")
    assert targets.tolist() == [[-1, 0, 0]]
    expected = (np.log(0.5) + float(torch.log_softmax(logits[0, 2], -1)[0])) / 2
    assert float(task.target_logits(logits, targets)[0]) == pytest.approx(expected)
    assert float(task.target_probabilities(logits, targets)[0]) == pytest.approx(np.exp(expected))
    assert task.query_positions([Example(index=0, text="", entity={"positions": [2, 4]}),
                                 Example(index=1, text="")]) == [2, 0]
    assert not task.applies("metric", "performance") and task.applies("metric", "entities")


def check_black_box(classifier):
    """The black-box task on a classifier's tokenizer: one position per word (its first token's id), no
    special tokens, the subword encoding kept for shap; never chosen from a config; the methods that read
    gradients or attention excluded (the function itself is checked in test_black_box.py)."""
    task = BlackBox()
    assert task.scores_texts and not SequenceClassification.scores_texts and not task.windowed
    assert not task.fits(SimpleNamespace(model_type="bert"), paired=False)
    (enc,) = task.encode(classifier.tokenizer, ["good film, really"], classifier.max_length)
    (tokens,) = task.token_encode(classifier.tokenizer, ["good film, really"], classifier.max_length)
    assert enc.words == enc.tokens == tokens.words == ["good", "film", ",", "really"] and enc.word_ids == [0, 1, 2, 3]
    first = [tokens.input_ids[tokens.word_ids.index(word)] for word in range(4)]
    assert enc.input_ids == first and None in tokens.word_ids
    assert set(task.excluded_methods) == set(WHITE_BOX_METHODS) and not task.applies("metric", "attention_atlas")
    with pytest.raises(ValueError, match="scores texts"):
        task.forward(None, None, None)


def check_zero_shot(classifier):
    """The zero-shot task: candidate labels as its classes, one hypothesis per label, answered before it is
    explained, the explained class the NLI model's entailment one (the model is checked in test_zero_shot.py)."""
    task = ZeroShot(["sport", "art"], "About {}.")
    assert task.answers_first and not task.explains_stored_class and not task.reads_pairs and not task.per_label
    assert not task.fits(SimpleNamespace(model_type="bert"), paired=True)
    assert task.class_names(None) == ["sport", "art"] and task.hypotheses == ["About sport.", "About art."]
    task.entailment_id = 2
    ex = Example(index=0, text="", target=1)
    assert task.explained_class(ex) == 2 and task.target_tensor([ex, ex], 5, "cpu").tolist() == [2, 2]
    assert task.fixed_pair(ex) == "About art." and task.fixed_pair(Example(index=1, text="")) is None
    assert task.fingerprint() == (["sport", "art"], "About {}.") != ZeroShot(["sport", "art"]).fingerprint()


def check_generation(classifier):
    """The generation task on a classifier's tokenizer: chosen from a causal LM's architectures, the prompt from
    its template, each output token a unit of the tokens before it, lime and shap excluded, the output prefix
    held fixed for integrated gradients (the models are checked in test_generation.py)."""
    task = Generation("Review: {source}", max_new_tokens=3)
    assert task.per_label and task.answers_first and task.reads_references and set(task.excluded_methods) == {
        "lime", "shap"}
    assert task.fits(SimpleNamespace(architectures=["GPT2LMHeadModel"]), paired=False)
    assert task.fits(SimpleNamespace(architectures=["LlamaForCausalLM"]), paired=False)
    assert not task.fits(SimpleNamespace(architectures=["GPT2ForSequenceClassification"]), paired=False)
    (enc,) = task.encode(classifier.tokenizer, ["good film"], 40)
    assert enc.words[-2:] == ["good", "film"] and enc.word_segments == [0] * len(enc.words) and not enc.truncated
    (cut,) = task.encode(classifier.tokenizer, ["good film"], 6)  # room for 3 new tokens leaves 3 for the prompt
    assert len(cut.input_ids) == 3 and cut.truncated
    with pytest.raises(ReportgenError, match="must hold {source} once"):
        Generation("no slot")
    task.tokenizer = classifier.tokenizer
    ids = classifier.tokenizer("great fun", add_special_tokens=False)["input_ids"]
    assert output_words(classifier.tokenizer, [classifier.tokenizer.sep_token_id]) == ([None], [])
    ex = Example(index=0, text="good", input_ids=[101, 7], tokens=["[CLS]", "good"], word_ids=[None, 0], words=["good"])
    task.absorb(ex, {"ids": ids, "probabilities": [0.5] * len(ids)}, "pred", 0.5)
    assert ex.generated["start"] == 2 and ex.generated["from"] == "greedy" and ex.input_ids == [101, 7, *ids]
    assert ex.generated["log_probs"] == pytest.approx([np.log(0.5)] * len(ids)) and ex.word_segments[0] == 0
    units = task.units(ex, "pred")
    assert [u["step"]["position"] for u in units] == list(range(2, 2 + len(ids)))
    assert [u["input_ids"] for u in units] == [ex.input_ids[:p] for p in range(2, 2 + len(ids))]
    assert task.held_fixed([replace(ex, **units[1])], 5) == [[False, False, True, True, True]]
    logits = torch.tensor([[0.0, 1.0, 2.0]])
    expected = float(torch.log_softmax(logits, -1)[0, 2])
    assert float(task.target_logits(logits, torch.tensor([2]))[0]) == pytest.approx(expected)
    assert float(task.target_probabilities(logits, torch.tensor([2]))[0]) == pytest.approx(np.exp(expected))
    assert not task.applies("metric", "performance") and task.applies("metric", "generation")
    assert not task.applies("section", "examples") and task.applies("section", "outputs")


def check_encoder_decoder(cls: type[EncoderDecoder]):
    """Translation and summarization on a classifier's tokenizer: chosen from an encoder-decoder's config (by model
    type), each output token a unit of the whole source with its decoder input in the target tensor; rollout,
    layer IG, lime and shap excluded (the models are checked in test_seq2seq.py)."""
    def check(classifier):
        task = cls("summarize: {source}")
        t5 = SimpleNamespace(is_encoder_decoder=True, model_type="t5", architectures=["T5ForConditionalGeneration"])
        bart = SimpleNamespace(is_encoder_decoder=True, model_type="bart", architectures=["BartForConditionalGeneration"])
        classifier_config = SimpleNamespace(is_encoder_decoder=True, model_type="bart",
                                            architectures=["BartForSequenceClassification"])
        assert Translation.fits(t5, False) and not Translation.fits(bart, False) and Summarization.fits(bart, False)
        assert not cls.fits(classifier_config, False) and cls.order < SequenceClassification.order
        assert set(task.excluded_methods) == {"lime", "shap", "attention_rollout", "value_zeroing",
                                              "layer_integrated_gradients"}
        (enc,) = task.encode(classifier.tokenizer, ["good film"], 40)
        assert enc.words[-2:] == ["good", "film"] and enc.tokens[0] == "[CLS]"
        ex = Example(index=0, text="", generated={"ids": [7, 8], "tokens": ["a", "b"], "log_probs": [-1.0, -2.0],
                                                  "decoder_start": 0, "start": None})
        units = task.units(ex, "pred")
        assert [u["step"]["prefix"] for u in units] == [[0], [0, 7]] and [u["target"] for u in units] == [7, 8]
        examples = [replace(ex, **unit) for unit in units]
        assert task.target_tensor(examples, 5, "cpu").tolist() == [[7, 0, -1], [8, 0, 7]]
        assert task.query_positions(examples) == [0, 1] and task.held_fixed(examples, 5) is None
        assert task.applies("metric", "generation") and task.applies("section", "outputs")
    return check


CHECKS = {"sequence_classification": check_sequence_classification,
          "generation": check_generation,
          "translation": check_encoder_decoder(Translation),
          "summarization": check_encoder_decoder(Summarization),
          "zero_shot": check_zero_shot,
          "black_box": check_black_box,
          "token_classification": check_token_classification,
          "multi_label": check_multi_label,
          "decoder_classification": check_decoder_classification,
          "sentence_pair": check_sentence_pair}


def test_every_registered_task_has_a_check():
    missing = sorted(set(tasks.names()) - set(CHECKS))
    assert not missing, f"add a check to CHECKS for: {', '.join(missing)}"


@pytest.mark.parametrize("name", tasks.names())
def test_task_specific_check(classifier, name):
    CHECKS[name](classifier)


def test_a_run_knows_its_task_and_older_results_are_sequence_classification():
    assert isinstance(task_of(RunResult()), SequenceClassification) and DEFAULT_TASK == "sequence_classification"
    with pytest.raises(UnknownNameError, match="unknown task 'nonsense'; valid names: .*sequence_classification"):
        task_of(RunResult(model={"task": "nonsense"}))


def test_without_a_mask_token_the_padding_token_replaces_a_removed_one(classifier):
    no_mask = _Tokenizer(classifier.tokenizer, mask_token_id=None)
    assert replacement_token(no_mask, "auto") == ("[PAD]", classifier.pad_id)
    assert replacement_token(classifier.tokenizer, "auto") == ("[MASK]", classifier.tokenizer.mask_token_id)


@pytest.mark.parametrize("choice, token", [("mask", "[MASK]"), ("pad", "[PAD]"), ("unk", "[UNK]"), ("movie", "movie")])
def test_the_replacement_token_is_the_one_chosen(classifier, choice, token):
    assert replacement_token(classifier.tokenizer, choice) == (token, classifier.tokenizer.convert_tokens_to_ids(token))


@pytest.mark.parametrize("choice, problem", [
    ("eos", "--replacement eos: the tokenizer has no end-of-sequence token"),
    ("no-such-token", "--replacement 'no-such-token' is not a token of the tokenizer's vocabulary"),
])
def test_a_replacement_the_tokenizer_lacks_is_refused_in_one_line(classifier, choice, problem):
    with pytest.raises(ReportgenError, match=re.escape(problem)):
        replacement_token(classifier.tokenizer, choice)


class _Tokenizer:
    """A tokenizer with some attributes overridden."""

    def __init__(self, tokenizer, **overrides):
        self._tokenizer, self._overrides = tokenizer, overrides

    def __getattr__(self, name):
        return self._overrides[name] if name in self._overrides else getattr(self._tokenizer, name)


# ----------------------------------------------------------------------------- the stages ask the task


class SecondTokenTask(SequenceClassification):
    """Reads attention from position 1 and removes tokens by putting [UNK] in their place."""

    name = "second_token_for_test"
    metrics = ("performance", "faithfulness")
    sections = ("summary", "performance", "methodology")

    def query_positions(self, examples):
        return [1] * len(examples)

    def replacement_id(self, model):
        return model.tokenizer.unk_token_id


def batch_for(classifier, task=None):
    classifier = replace(classifier, task=task or classifier.task)
    runner = ModelRunner(classifier)
    examples = []
    for i, enc in enumerate(classifier.encode(list(CORPUS[:3]))):
        examples.append(Example(index=i, text=CORPUS[i], input_ids=enc.input_ids, tokens=enc.tokens,
                                word_ids=enc.word_ids, words=enc.words, prediction=1, target=1))
    return Batch(runner, examples, want_attentions=True)


@pytest.mark.parametrize("method", ["attention", "attention_rollout"])
def test_attention_methods_read_the_tasks_query_position_by_default(classifier, method):
    batch = batch_for(classifier, SecondTokenTask())
    from_task = explainers.get(method)().attribute(batch)
    fixed = explainers.get(method)(query=1).attribute(batch)
    first = explainers.get(method)(query=0).attribute(batch)
    for a, b, c in zip(from_task, fixed, first):
        np.testing.assert_array_equal(a.tokens, b.tokens)
        assert not np.array_equal(a.tokens, c.tokens)


def test_occlusion_puts_the_tasks_replacement_token_in_place_of_a_removed_one(classifier):
    batch = batch_for(classifier, SecondTokenTask())
    calls = []
    original = batch.runner.predict_ids
    batch.runner.predict_ids = lambda id_lists, **kwargs: calls.append(id_lists) or original(id_lists, **kwargs)
    explainers.get("occlusion")().attribute(batch)
    unk, mask = classifier.tokenizer.unk_token_id, classifier.tokenizer.mask_token_id
    perturbed = [ids for ids in calls[0] if ids not in [ex.input_ids for ex in batch.examples]]
    assert perturbed and all(unk in ids and mask not in ids for ids in perturbed)


def test_the_gradient_methods_differentiate_the_tasks_target_logit(classifier):
    class NegatedTarget(SequenceClassification):
        def target_logits(self, logits, targets):
            return -super().target_logits(logits, targets)

    plain = explainers.get("grad_x_input")().attribute(batch_for(classifier))
    negated = explainers.get("grad_x_input")().attribute(batch_for(classifier, NegatedTarget()))
    for a, b in zip(plain, negated):
        np.testing.assert_allclose(b.tokens, -a.tokens, rtol=1e-6, atol=1e-9)


def test_metrics_and_sections_follow_the_task(classifier):
    with tasks.restored():
        tasks.register(SecondTokenTask)
        dataset = Dataset(list(CORPUS), [i % 2 for i in range(len(CORPUS))], list(range(len(CORPUS))))
        run = measured(replace(classifier, task=SecondTokenTask()), dataset,
                       RunConfig(methods=["saliency", "random"], metrics=[]))
        run.model["task"] = SecondTokenTask.name
        compute_metrics(run, None, "all")  # without a runner: the metrics that need the model are left out
        assert list(run.metrics) == ["performance"]
        html = render_html(run)
    assert re.findall(r'<section id="([^"]+)">', html) == ["summary", "performance", "methodology"]


def test_a_task_is_a_small_class():
    for cls in tasks:
        assert issubclass(cls, Task) and cls.name and cls.description
        assert bool(cls.auto_class) != cls.scores_texts  # a transformers class, or a function of texts
