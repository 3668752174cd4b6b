"""Token classification (NER): each entity the model finds, grouped as transformers' pipeline groups it, is
explained on its own by the mean log-probability of its tags; every method checked against Captum; tags read
from the data; lime and shap said not to apply; bad tag data refused in one line or recorded per row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from captum.attr import FeatureAblation, LayerGradientXActivation, LayerIntegratedGradients

from reportgen.api import explain, write_outputs
from reportgen.explain.batch import Batch
from reportgen.explain.batching import ModelRunner
from reportgen.explainers import explainers
from reportgen.load.data import load_dataset
from reportgen.load.model import load_classifier
from reportgen.results import store
from reportgen.results.records import Example
from reportgen.tasks.token_classification import entity_record, predicted_entities

from support.captum_checks import assert_batch_invariant, assert_rows_match, special_positions
from support.cli import assert_one_line_error, invoke, run_args
from support.token_models import NER_TAGS, TAGGED, TOKEN_KINDS, build_token_folder, write_tagged_data

CHEAP_METHODS = ("attention", "attention_rollout", "saliency", "grad_x_input", "integrated_gradients",
                 "layer_integrated_gradients", "occlusion", "random")
FAST = {"integrated_gradients": {"n_steps": 4}, "layer_integrated_gradients": {"n_steps": 4}}
TEXTS = [text for text, _ in TAGGED]


@pytest.fixture(scope="module")
def token_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("token")
    return {kind: build_token_folder(root / kind, kind) for kind in TOKEN_KINDS}


@pytest.fixture(scope="module")
def taggers(token_dirs):
    return {kind: load_classifier(folder, device="cpu") for kind, folder in token_dirs.items()}


@pytest.fixture(scope="module")
def tagged_data(tmp_path_factory):
    return write_tagged_data(tmp_path_factory.mktemp("tagged") / "tagged.jsonl", repeat=2)


def answered_units(classifier) -> list[Example]:
    """The texts encoded and answered by the model, then expanded into one unit per predicted entity."""
    rows = []
    for i, (text, enc) in enumerate(zip(TEXTS, classifier.encode(TEXTS))):
        rows.append(Example(index=i, text=text, input_ids=enc.input_ids, tokens=enc.tokens, word_ids=enc.word_ids,
                            words=enc.words))
    batch = Batch(ModelRunner(classifier), rows)
    for ex, probabilities in zip(rows, batch.predict()):
        classifier.task.absorb(ex, classifier.task.outcome(probabilities, len(ex.input_ids)), "pred", 0.5)
    units = [Example(**{**ex.__dict__, "index": n, "source": ex.index, **fields})
             for ex in rows for n, fields in enumerate(classifier.task.units(ex, "pred"))]
    return [Example(**{**unit.__dict__, "index": i}) for i, unit in enumerate(units)]


def entity_batch(classifier) -> Batch:
    units = answered_units(classifier)
    assert len(units) >= 3 and len({u.source for u in units}) >= 2
    return Batch(ModelRunner(classifier), units)


def entity_score(classifier):
    """Per row, the mean log-probability of the entity's tags over its tokens, from the model itself."""
    def score(ids, mask, targets):
        logits = classifier.model(input_ids=ids, attention_mask=mask).logits.float().log_softmax(-1)
        inside = targets >= 0
        chosen = logits.gather(-1, targets.clamp(min=0)[..., None])[..., 0]
        return (chosen * inside).sum(1) / inside.sum(1)

    return score


# ----------------------------------------------------------------------------- the task and its entities


def test_auto_picks_token_classification_and_its_words_are_the_whitespace_words(taggers):
    classifier = taggers["bert"]
    assert classifier.task.name == "token_classification" and classifier.task.tag_names == list(NER_TAGS)
    (enc,) = classifier.encode(["Unbelievable acting, really!"])
    assert enc.words == ["Unbelievable", "acting,", "really!"]
    assert [w for w in enc.word_ids if w is not None] == [0] * 8 + [1, 1, 1, 2, 2]  # un ##b ..., act ##ing ,
    assert enc.word_ids[0] is None and enc.word_ids[-1] is None


@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_the_units_are_the_pipelines_entities(taggers, kind):
    from transformers import pipeline

    classifier = taggers[kind]
    tagger = pipeline("token-classification", model=classifier.model, tokenizer=classifier.tokenizer,
                      aggregation_strategy="simple", device="cpu")
    units = answered_units(classifier)
    for i, text in enumerate(TEXTS):
        offsets = classifier.tokenizer(text, return_offsets_mapping=True)["offset_mapping"]
        ours = [(u.entity["type"], offsets[u.entity["start"]][0], offsets[u.entity["end"] - 1][1], u.entity["score"])
                for u in units if u.source == i]
        theirs = [(e["entity_group"], e["start"], e["end"], float(e["score"])) for e in tagger(text)]
        assert [o[:3] for o in ours] == [t[:3] for t in theirs], text
        np.testing.assert_allclose([o[3] for o in ours], [t[3] for t in theirs], rtol=0, atol=1e-6)


def test_the_explained_score_is_the_entitys_mean_log_probability(taggers):
    classifier = taggers["bert"]
    batch = entity_batch(classifier)
    with torch.no_grad():
        logits = classifier.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    ours = classifier.task.target_logits(logits, batch.targets)
    for row, unit in enumerate(batch.examples):
        log_p = logits[row].float().log_softmax(-1)
        expected = np.mean([float(log_p[p, t]) for p, t in zip(unit.entity["positions"], unit.entity["tags"])])
        assert float(ours[row]) == pytest.approx(expected, abs=1e-6)
        assert np.exp(expected) == pytest.approx(unit.entity["score"], rel=0.5)  # geometric vs arithmetic mean


# ----------------------------------------------------------------------------- against Captum, per entity


@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_integrated_gradients_matches_captum_on_the_entity_score(taggers, kind):
    classifier = taggers[kind]
    batch = entity_batch(classifier)
    ours = explainers.get("integrated_gradients")(n_steps=16, method="gausslegendre").attribute(batch)
    baseline = torch.where(special_positions(batch), batch.input_ids,
                           torch.full_like(batch.input_ids, classifier.pad_id))
    reference = LayerIntegratedGradients(entity_score(classifier), classifier.embeddings()).attribute(
        batch.input_ids, baselines=baseline, additional_forward_args=(batch.attention_mask, batch.targets),
        n_steps=16, method="gausslegendre")
    assert_rows_match([e.tokens for e in ours], reference.sum(dim=-1), batch)


@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_saliency_matches_captum(taggers, kind):
    classifier = taggers[kind]
    batch = entity_batch(classifier)
    ours = explainers.get("saliency")().attribute(batch)
    gradient = LayerGradientXActivation(entity_score(classifier), classifier.embeddings(), multiply_by_inputs=False)
    reference = gradient.attribute(batch.input_ids, additional_forward_args=(batch.attention_mask, batch.targets))
    assert_rows_match([e.tokens for e in ours], reference.norm(dim=-1), batch)


@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_occlusion_matches_captum_feature_ablation_on_the_entity_probability(taggers, kind):
    classifier = taggers[kind]
    batch = entity_batch(classifier)
    ours = explainers.get("occlusion")().attribute(batch)
    score = entity_score(classifier)
    baselines = torch.where(special_positions(batch), batch.input_ids,
                            torch.full_like(batch.input_ids, classifier.replacement_id))
    with torch.no_grad():
        reference = FeatureAblation(lambda *args: score(*args).exp()).attribute(
            batch.input_ids, baselines=baselines, additional_forward_args=(batch.attention_mask, batch.targets))
    assert_rows_match([e.tokens for e in ours], reference, batch, scale=0.1)


def test_scores_of_an_entity_do_not_depend_on_its_batch(taggers):
    batch = entity_batch(taggers["distilbert"])
    methods = ("attention", "saliency", "grad_x_input", "integrated_gradients", "occlusion")
    assert_batch_invariant(batch, methods)


def test_attention_reads_the_entitys_first_token(taggers):
    batch = entity_batch(taggers["bert"])
    assert batch.task.query_positions(batch.examples) == [u.entity["start"] for u in batch.examples]


# ----------------------------------------------------------------------------- whole runs


@pytest.fixture(scope="module")
def entity_run(taggers, tmp_path_factory):
    """Every applicable method over the tagged data, a tag list of the wrong length in row 2."""
    rows = [{"text": text, "tags": json.dumps(tags)} for _ in range(2) for text, tags in TAGGED]
    rows[2]["tags"] = json.dumps(["O", "O"])
    path = tmp_path_factory.mktemp("entity_run") / "tagged.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    classifier = taggers["bert"]
    data = load_dataset(path, classifier.labels, label_column="tags", tagged=True)
    return explain(classifier, data, methods=list(CHEAP_METHODS), progress=False, method_params=FAST)


def test_each_row_is_explained_once_per_entity(entity_run):
    by_row: dict[int, list[Example]] = {}
    for unit in entity_run.examples:
        by_row.setdefault(unit.source, []).append(unit)
    assert sorted(by_row) == list(range(12)) and entity_run.model["task"] == "token_classification"
    for units in by_row.values():
        first = units[0]
        if not first.ok:
            continue
        found = [entity_record(e) for e in predicted_entities(first, list(NER_TAGS))]
        assert [u.entity for u in units] == (found or [None])
        assert len(first.predicted_tags) == len(first.words) == len(first.tags)
        for unit in units:
            for method in CHEAP_METHODS:
                assert (unit.index in entity_run.attributions[method]) == (unit.entity is not None)
    assert sum(u.entity is not None for u in entity_run.examples) >= 4


def test_a_tag_list_of_the_wrong_length_is_a_failure_of_its_row(entity_run):
    (failed,) = [u for u in entity_run.examples if not u.ok]
    assert failed.source == 2 and failed.error == "the tag list holds 2 tags for the 7 words"


def test_the_statistics_are_per_entity_and_the_words_are_context(entity_run):
    metrics = entity_run.metrics
    assert metrics["entities"]["result"]["counts"]["scored"] == 11
    assert "performance" not in metrics and "calibration" not in metrics and "error_words" not in metrics
    explained = [u for u in entity_run.examples if u.entity]
    assert metrics["faithfulness"]["result"]["summary"][0]["examples"] == len(explained)
    words = metrics["top_words"]["result"]["words"]
    assert words and "own words are left out" in metrics["top_words"]["result"]["definition"]


def removed_entity_tokens(run, classifier, monkeypatch, **params) -> tuple[int, int]:
    """(inputs faithfulness scored, of which some token of the explained entity was removed)."""
    from reportgen.measure import compute_metrics
    from reportgen.results.records import RunResult

    seen: list[tuple[list[int], Example]] = []
    original = ModelRunner.predict_ids

    def recorded(self, id_lists, classes=None, explained=None):
        seen.extend(zip(id_lists, explained))
        return original(self, id_lists, classes, explained)

    monkeypatch.setattr(ModelRunner, "predict_ids", recorded)
    copy = RunResult(**{**run.__dict__, "metrics": {}})
    compute_metrics(copy, ModelRunner(classifier), ["faithfulness"], {"faithfulness": params})
    assert copy.metrics["faithfulness"].get("error") is None
    return len(seen), sum(any(ids[p] != ex.input_ids[p] for p in ex.entity["positions"]) for ids, ex in seen)


def test_faithfulness_can_keep_the_entitys_own_tokens(entity_run, taggers, monkeypatch):
    scored, removed = removed_entity_tokens(entity_run, taggers["bert"], monkeypatch)
    assert scored > 100 and removed > 0  # by default an entity's own tokens are removed like any other
    scored, removed = removed_entity_tokens(entity_run, taggers["bert"], monkeypatch, keep_entity=True)
    assert scored > 100 and removed == 0


def test_the_results_keep_the_entities_and_the_report_marks_them(entity_run, tmp_path):
    outputs = write_outputs(entity_run, tmp_path / "report.html")
    saved = store.load(outputs["results"])
    assert [(u.source, u.entity, u.tags, u.predicted_tags) for u in saved.examples] == [
        (u.source, u.entity, u.tags, u.predicted_tags) for u in entity_run.examples]
    page = outputs["report"].read_text(encoding="utf-8")
    assert "explains the entity <b><bdi>" in page and "<mark>" in page and "Entities: precision" in page


def test_target_label_explains_the_datas_entities(taggers, tagged_data):
    classifier = taggers["bert"]
    run = explain(classifier, load_dataset(tagged_data, classifier.labels, label_column="tags", tagged=True),
                  methods=["saliency"], target="label", progress=False)
    explained = [u for u in run.examples if u.entity]
    # the data's entities: one per B- tag of TAGGED, twice over
    assert len(explained) == 2 * sum(tag.startswith("B-") for _, tags in TAGGED for tag in tags)
    for unit in explained:
        first, last = unit.entity["words"]
        assert NER_TAGS[unit.tags[first]] == "B-" + unit.entity["type"]
        assert unit.entity["tags"][0] == unit.tags[first]


# ----------------------------------------------------------------------------- through the CLI


def test_the_cli_runs_all_methods_and_says_which_do_not_apply(token_dirs, tagged_data, tmp_path):
    out = tmp_path / "out" / "report.html"
    result = invoke(*run_args(token_dirs["bert"], tagged_data, out, "all", "--label-column", "tags",
                              "--param", "layer_integrated_gradients.n_steps=4"))
    assert result.exit_code == 0, result.output
    saved = store.load(out.parent / "results")
    assert set(saved.attributions) == set(explainers.names()) - {"lime", "shap"}
    assert set(saved.model["methods_not_applicable"]) == {"lime", "shap"}
    assert "lime does not apply" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("cells, extra, problem", [
    (None, ("--methods", "lime"), "lime does not apply to the token_classification task"),
    (["PER", "LOC", "O"], (), "token classification needs a list of tags per word"),
    (['["O", "B-XYZ"]', '["O"]', '["O", "O"]'], (), "no row's tag list can be read; row 0: .*B-XYZ"),
])
def test_bad_token_classification_input_is_one_line(token_dirs, tmp_path, cells, extra, problem):
    path = tmp_path / "tagged.csv"
    texts = ["a film", "the cast", "slow"]
    tags = cells or [json.dumps(["O"] * len(text.split())) for text in texts]
    pd.DataFrame({"text": texts, "tags": tags}).to_csv(path, index=False)
    args = run_args(token_dirs["bert"], path, tmp_path / "r.html", "saliency", "--label-column", "tags")
    if extra:
        args[args.index("--methods") + 1] = extra[1]
    assert_one_line_error(invoke(*args), problem)


def test_a_resumed_run_reads_back_the_tags_and_the_entities(taggers, tagged_data, tmp_path, monkeypatch):
    from reportgen.explain.engine import Engine

    classifier = taggers["bert"]
    data = load_dataset(tagged_data, classifier.labels, label_column="tags", tagged=True)
    first = explain(classifier, data, methods=["saliency"], progress=False, results=tmp_path / "r")

    def refused(*args, **kwargs):
        raise AssertionError("recomputed stored work")

    monkeypatch.setattr(Engine, "_compute_unit", refused)
    monkeypatch.setattr(Engine, "_predict", refused)
    again = explain(classifier, data, methods=["saliency"], progress=False, results=tmp_path / "r")
    assert [(u.source, u.entity, u.token_tags) for u in again.examples] == [
        (u.source, u.entity, u.token_tags) for u in first.examples]


def test_a_tampered_entity_or_tag_list_is_refused_on_load(entity_run, tmp_path):
    from reportgen.errors import ReportgenError
    from reportgen.results.schema import check_example

    folder = store.save(entity_run, tmp_path / "results")
    lines = (folder / "examples.jsonl").read_text().splitlines()
    row = next(json.loads(line) for line in lines if json.loads(line).get("entity"))
    check = lambda r: check_example(r, 1, path=folder / "examples.jsonl", classes=5,  # noqa: E731
                                    version=store.FORMAT_VERSION)
    check(row)
    for field, value, problem in [
        ("entity", {**row["entity"], "end": 99, "positions": [row["entity"]["start"], 98], "tags": [1, 1]},
         "do not fit the"),
        ("entity", {**row["entity"], "positions": [row["entity"]["start"]] * 2, "tags": [1, 1]}, "do not fit the"),
        ("entity", {**row["entity"], "words": [0, 99]}, "entity words 0 to 99 do not fit"),
        ("entity", {**row["entity"], "tags": [7] * len(row["entity"]["tags"])}, "entity.tags holds 7"),
        ("token_tags", row["token_tags"][:-1], "token_tags holds"),
        ("tags", row["tags"] + [0], "tags holds"),
    ]:
        with pytest.raises(ReportgenError, match=problem):
            check({**row, field: value})


def test_metric_parameters_are_set_from_the_command_line(token_dirs, tagged_data, tmp_path):
    out = tmp_path / "out" / "report.html"
    result = invoke(*run_args(token_dirs["bert"], tagged_data, out, "saliency,random", "--label-column", "tags",
                              "--metric-param", "faithfulness.keep_entity=true",
                              "--metric-param", "faithfulness.fractions=[0.1, 0.5]"))
    assert result.exit_code == 0, result.output
    params = store.load(out.parent / "results").metrics["faithfulness"]["params"]
    assert params["keep_entity"] is True and params["fractions"] == [0.1, 0.5]
    for bad, problem in [("faithfulness.keep_entity", "is not METRIC.KEY=VALUE"),
                         ("nonsense.x=1", "parameters given for metric 'nonsense'"),
                         ("faithfulness.nonsense=1", "nonsense")]:
        result = invoke(*run_args(token_dirs["bert"], tagged_data, tmp_path / "r.html", "saliency",
                                  "--label-column", "tags", "--metric-param", bad))
        assert_one_line_error(result, problem)


def test_a_token_whose_offsets_include_the_leading_space_belongs_to_its_word():
    """Byte-level tokenizers that keep the space in a token's offsets (GPT-2's "Ġ", trim_offsets off)."""
    from types import SimpleNamespace

    from reportgen.tasks.token_classification import _encoded

    text = "New  York is big"
    offsets = [(0, 0), (0, 3), (3, 9), (9, 12), (12, 16), (0, 0)]
    batch = _Encoding([list(range(6))], [offsets], [None, 0, 1, 2, 3, None])
    tokenizer = SimpleNamespace(convert_ids_to_tokens=lambda ids: [str(i) for i in ids])
    encoded = _encoded(tokenizer, text, batch, 0, cut=False)
    assert encoded.word_ids == [None, 0, 1, 2, 3, None] and encoded.words == ["New", "York", "is", "big"]


class _Encoding(dict):
    """The parts of a transformers BatchEncoding that the token task's row reader uses."""

    def __init__(self, ids, offsets, word_ids):
        super().__init__(input_ids=ids, offset_mapping=offsets)
        self._word_ids = word_ids
        self.encodings = [type("Row", (), {"overflowing": []})()]

    def word_ids(self, i):
        return self._word_ids


def test_an_entity_around_a_skipped_token_is_explained_at_its_own_positions(taggers):
    classifier = taggers["bert"]
    ex = Example(index=0, text="New x York", input_ids=[2, 10, 11, 12, 3], word_ids=[None, 0, None, 2, None],
                 words=["New", "x", "York"], token_tags=[0, 3, 0, 4, 0], probabilities=[0.9] * 5)
    (unit,) = classifier.task.units(ex, "pred")
    assert unit["entity"]["positions"] == [1, 3] and unit["entity"]["tags"] == [3, 4]
    ex.entity = unit["entity"]
    targets = classifier.task.target_tensor([ex], 5, "cpu")
    assert targets.tolist() == [[-1, 3, -1, 4, -1]]


def test_a_cut_text_keeps_the_tags_of_its_words(taggers, tmp_path):
    from reportgen.load.data import cut_long_texts

    classifier = taggers["bert"]
    path = tmp_path / "long.jsonl"
    text = " ".join(["actor"] * 300)
    path.write_text(json.dumps({"text": text, "tags": json.dumps(["B-PER"] * 300)}) + "\n", encoding="utf-8")
    data = cut_long_texts(load_dataset(path, classifier.labels, label_column="tags", tagged=True), 100)
    assert len(data.tag_lists[0]) == len(data.texts[0].split()) == 17  # 16 words and a cut one
    run = explain(classifier, data, methods=["saliency"], progress=False)
    saved = store.load(write_outputs(run, tmp_path / "report.html")["results"])  # loads: tags fit the words
    assert len(saved.examples[0].tags) == len(saved.examples[0].words)
    (enc,) = classifier.task.encode(classifier.tokenizer, [text], classifier.max_length)
    assert len(enc.words) == 300 and enc.truncated  # every word of the text given, the tokens cut
