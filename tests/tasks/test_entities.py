"""Entities of token-classification tags: grouped as transformers' TokenClassificationPipeline groups them
(aggregation_strategy="simple", checked against the pipeline itself), read per word, made from character
spans, and the data's tag cells read into tag ids."""

from __future__ import annotations

import json
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from reportgen.errors import ReportgenError
from reportgen.load.tags import read_tag_lists
from reportgen.ops.entities import (Entity, entities_from_tokens, spans_to_word_tags, word_offsets,
                                      word_tags)

from support.tiny_models import CORPUS, bert_tokenizer

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SENTENCES = CORPUS + [
    "Angela Merkel visited Paris and Berlin with Emmanuel Macron",
    "zebras quickly jumped over the lazy xylophones in Ulaanbaatar",
    "the actors, the director and the cast: all of them were unbelievable!",
    "Über 東京 — naïve café ☃ résumé",
]


# ----------------------------------------------------------------------------- against the pipeline


@pytest.fixture(scope="module")
def tokenizer():
    return bert_tokenizer(None)


def token_model(tokenizer, seed: int):
    """A random tiny BERT token classifier whose head is redrawn wide, so that every tag gets predicted."""
    from transformers import AutoModelForTokenClassification, BertConfig

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, num_labels=len(TAGS),
                        id2label=dict(enumerate(TAGS)), label2id={t: i for i, t in enumerate(TAGS)},
                        pad_token_id=tokenizer.pad_token_id)
    model = AutoModelForTokenClassification.from_config(config).eval()
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, 2.0)
        model.classifier.bias.zero_()
    return model


@pytest.fixture(scope="module")
def pipelines(tokenizer):
    from transformers import pipeline

    return [pipeline("token-classification", model=token_model(tokenizer, seed), tokenizer=tokenizer,
                     aggregation_strategy="simple", device="cpu") for seed in (0, 1, 2)]


def ours(pipe, text):
    """Our entities of ``text`` from the pipeline's model, as (type, score, start char, end char), and the tags."""
    encoded = pipe.tokenizer(text, return_offsets_mapping=True, return_tensors="pt")
    offsets = encoded.pop("offset_mapping")[0].tolist()
    with torch.no_grad():
        probabilities = torch.softmax(pipe.model(**encoded).logits[0].float(), dim=-1)
    tag_ids, scores = probabilities.argmax(-1).tolist(), probabilities.max(-1).values.tolist()
    entities = entities_from_tokens(TAGS, tag_ids, scores, encoded.word_ids(0))
    found = [(e.type, e.score, offsets[e.start][0], offsets[e.end - 1][1]) for e in entities]
    return found, [TAGS[t] for t, w in zip(tag_ids, encoded.word_ids(0)) if w is not None]


def test_entities_agree_with_the_pipelines_simple_aggregation(pipelines):
    transitions = set()
    for pipe in pipelines:
        for text in SENTENCES:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = [(e["entity_group"], float(e["score"]), e["start"], e["end"]) for e in pipe(text)]
            found, tags = ours(pipe, text)
            assert [f[0] for f in found] == [t[0] for t in theirs], text
            assert [f[2:] for f in found] == [t[2:] for t in theirs], text
            assert [f[1] for f in found] == pytest.approx([t[1] for t in theirs], abs=1e-6), text
            transitions |= set(zip(tags, tags[1:]))
    missing = [case for case, pairs in TRANSITIONS.items() if not transitions & pairs]
    assert not missing, f"the random models' tags never hold: {missing}"


# the cases that matter, each in one of its forms, that the random models' tags must hold
TRANSITIONS = {
    "a continuation": {("B-PER", "I-PER"), ("B-LOC", "I-LOC"), ("I-PER", "I-PER"), ("I-LOC", "I-LOC")},
    "I- after O": {("O", "I-PER"), ("O", "I-LOC")},
    "B- after a tag of its type": {("B-PER", "B-PER"), ("B-LOC", "B-LOC"), ("I-PER", "B-PER"), ("I-LOC", "B-LOC")},
    "I- after another type": {("I-PER", "I-LOC"), ("I-LOC", "I-PER"), ("B-PER", "I-LOC"), ("B-LOC", "I-PER")},
    "O after an entity": {("B-PER", "O"), ("I-PER", "O"), ("B-LOC", "O"), ("I-LOC", "O")},
}


def pipeline_groups(pipe, names, scores):
    """What the pipeline's own grouping makes of hand-made token tags (the 'O' groups filtered as it does)."""
    tokens = [{"entity": name, "score": np.float32(score), "word": "x", "start": i, "end": i + 1, "index": i}
              for i, (name, score) in enumerate(zip(names, scores))]
    groups = pipe.group_entities(tokens)
    return [(g["entity_group"], float(g["score"]), g["start"], g["end"]) for g in groups
            if g["entity_group"] != "O"]


EDGE_CASES = {
    "I- after O starts an entity": (["O", "I-PER", "I-PER", "O"], [("PER", 1, 3)]),
    "B- after B- of one type: two": (["B-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
    "a change of type: two": (["B-PER", "I-LOC", "I-LOC", "I-PER"], [("PER", 0, 1), ("LOC", 1, 3), ("PER", 3, 4)]),
    "I- then B-: two": (["I-LOC", "B-LOC", "I-LOC"], [("LOC", 0, 1), ("LOC", 1, 3)]),
    "O ends one": (["B-LOC", "O", "I-LOC"], [("LOC", 0, 1), ("LOC", 2, 3)]),
    "no prefix: its own type, continued": (["PER", "PER", "O", "B-PER", "PER", "I-PER"], [("PER", 0, 2), ("PER", 3, 6)]),
    "S-/E- are types of their own, named after the dash": (["S-PER", "E-PER", "E-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
    "B-O is named O and dropped": (["B-O", "I-O", "B-PER"], [("PER", 2, 3)]),
    "only O": (["O", "O"], []),
    "nothing": ([], []),
}


@pytest.mark.parametrize("case", EDGE_CASES, ids=list(EDGE_CASES))
def test_hand_made_tag_sequences_group_as_the_pipeline_groups_them(pipelines, case):
    names, expected = EDGE_CASES[case]
    tag_names = list(dict.fromkeys(TAGS + names))
    scores = [0.5 + 0.05 * i for i in range(len(names))]
    found = entities_from_tokens(tag_names, [tag_names.index(n) for n in names], scores, list(range(len(names))))
    assert [(e.type, e.start, e.end) for e in found] == expected
    assert [(e.type, e.score, e.start, e.end) for e in found] == [
        (kind, pytest.approx(score, abs=1e-6), start, end) for kind, score, start, end in
        pipeline_groups(pipelines[0], names, scores)]


def test_an_entity_carries_its_tokens_tags_mean_score_and_words_and_skips_special_tokens():
    # [CLS] ber ##lin is [SEP] : special tokens in the middle of an entity's run are skipped, not breaks
    word_ids = [None, 0, 0, 1, None, 2]
    tag_ids = [0, 3, 4, 4, 1, 4]
    found = entities_from_tokens(TAGS, tag_ids, [0.9, 0.8, 0.6, 0.4, 0.1, 0.3], word_ids)
    assert found == [Entity("LOC", 1, 6, pytest.approx((0.8 + 0.6 + 0.4 + 0.3) / 4), (3, 4, 4, 4), (0, 3),
                            (1, 2, 3, 5))]


def test_the_score_is_the_mean_of_the_scores_that_are_not_nan():
    found = entities_from_tokens(TAGS, [1, 2, 2], [0.5, math.nan, 0.7], [0, 1, 2])
    assert found[0].score == pytest.approx(0.6)
    assert math.isnan(entities_from_tokens(TAGS, [1], [math.nan], [0])[0].score)


@pytest.mark.parametrize("tag_ids, scores, word_ids, message", [
    ([0, 1], [0.5], [0, 1], "2 tags and 1 scores for 2 tokens"),
    ([0, 5], [0.5, 0.5], [0, 1], "token 1 has tag 5, not one of the 5 tag ids"),
    ([0, -1], [0.5, 0.5], [0, 1], "token 1 has tag -1"),
    ([0, True], [0.5, 0.5], [0, 1], "token 1 has tag True"),
])
def test_entities_from_bad_tokens_fail_in_one_line(tag_ids, scores, word_ids, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        entities_from_tokens(TAGS, tag_ids, scores, word_ids)


def test_a_special_token_may_hold_any_tag():
    assert entities_from_tokens(TAGS, [99, 1, 99], [1.0, 0.5, 1.0], [None, 0, None])[0].tags == (1,)


# ----------------------------------------------------------------------------- per word


def test_each_word_takes_its_first_tokens_tag_and_a_word_without_tokens_none():
    assert word_tags([0, 3, 4, 1, 2, 0], [None, 0, 0, 1, 1, None], 4) == [3, 1, None, None]
    assert word_tags([], [], 0) == []


def test_word_tags_refuse_a_word_id_outside_the_words_and_mismatched_lengths():
    with pytest.raises(ValueError, match="word id 2 is outside the text's 2 words"):
        word_tags([0, 1], [0, 2], 2)
    with pytest.raises(ValueError, match="3 tags for 2 tokens"):
        word_tags([0, 1, 2], [0, 1], 2)


@pytest.mark.parametrize("text", ["", "   ", "one", " two  words ", "tab\tnew\nline\u3000ideographic\u2028sep\x1cfs",
                                  "nbsp\u00a0kept\u200bzero-width"])
def test_word_offsets_are_those_of_str_split(text):
    offsets = word_offsets(text)
    assert [text[start:end] for start, end in offsets] == text.split()


# ----------------------------------------------------------------------------- character spans


TEXT = "Angela Merkel visited Paris, Berlin's museums ."


def spans(*triples):
    return [{"start": s, "end": e, "label": label} for s, e, label in triples]


def test_spans_become_iob2_word_tags():
    # words: Angela Merkel visited Paris, Berlin's museums .
    tags = spans_to_word_tags(TEXT, spans((29, 35, "LOC"), (0, 13, "PER"), (22, 27, "LOC")), TAGS)
    assert [TAGS[t] for t in tags] == ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "O", "O"]


def test_a_word_is_in_a_span_it_overlaps_and_labels_match_in_any_case():
    tags = spans_to_word_tags(TEXT, [{"start": 3, "end": 8, "label": " per ", "text": "ela M"}], TAGS)
    assert [TAGS[t] for t in tags] == ["B-PER", "I-PER", "O", "O", "O", "O", "O"]
    assert spans_to_word_tags(TEXT, [], TAGS) == [0] * 7


def test_span_offsets_may_be_numpy_integers():
    tags = spans_to_word_tags(TEXT, [{"start": np.int64(0), "end": np.int32(6), "label": "PER"}], TAGS)
    assert tags[:2] == [1, 0]


@pytest.mark.parametrize("given, message", [
    (spans((0, 6, "ORG")), "span 0 has type 'ORG', which has no B- and I- tag among the model's tags"),
    (spans((0, 6, "PER"), (40, 99, "LOC")), r"span 1 \(40-99\) is not within the text's 47 characters"),
    (spans((6, 6, "PER")), r"span 0 \(6-6\) is not within"),
    (spans((-1, 3, "PER")), r"span 0 \(-1-3\) is not within"),
    (spans((0, 13, "PER"), (7, 20, "LOC")), r"span 1 \(7-20\) overlaps span 0"),
    (spans((0, 3, "PER"), (4, 6, "PER")), r"span 1 \(4-6\) overlaps span 0"),  # one word, two spans
    (spans((6, 7, "PER")), r"span 0 \(6-7\) covers no word"),
    ([{"start": 0.0, "end": 6, "label": "PER"}], "span 0 has start 0.0 and end 6; both must be whole numbers"),
    ([{"start": True, "end": 6, "label": "PER"}], "span 0 has start True"),
    ([{"start": 0, "end": 6}], "span 0 is not an object with start, end and label"),
    (["PER"], "span 0 is not an object"),
    (spans((0, 6, 7)), "span 0 has label 7, not an entity type"),
    (spans((0, 6, "\x1b[31mX" * 20)), r"span 0 has type '\\x1b\[31mX.*\.\.\., which has no B- and I-"),
])
def test_bad_spans_fail_with_a_short_reason(given, message):
    with pytest.raises(ValueError, match=message):
        spans_to_word_tags(TEXT, given, TAGS)


def test_a_model_without_an_o_tag_cannot_take_spans():
    with pytest.raises(ValueError, match="the model has no tag 'O'"):
        spans_to_word_tags(TEXT, [], ["B-PER", "I-PER"])


def test_a_type_needs_both_its_b_and_its_i_tag():
    with pytest.raises(ValueError, match="type 'PER', which has no B- and I- tag"):
        spans_to_word_tags(TEXT, spans((0, 6, "PER")), ["O", "B-PER"])


# ----------------------------------------------------------------------------- the data's tag cells


WORDS = ["Angela Merkel visited Paris", "the film", "", "Berlin"]


def test_tag_cells_of_every_form_are_read():
    values = [
        '["B-PER", "I-PER", "O", "B-LOC"]',  # JSON names
        [0, 0],  # a JSONL list of ids
        "[]",  # an empty text, no tags
        np.array([{"start": 0, "end": 6, "label": "LOC"}], dtype=object),  # Parquet spans
    ]
    tags, problems = read_tag_lists(values, WORDS, TAGS)
    assert tags == [[1, 2, 0, 3], [0, 0], [], [3]] and problems == {}


def test_names_match_exactly_first_then_in_any_case_and_ids_as_numbers():
    names = ["O", "b-per", "B-PER"]
    tags, _ = read_tag_lists([np.array(["B-PER", "b-per", "O"]), '["B-per", 0, "2"]'], ["a b c", "a b c"], names)
    assert tags == [[2, 1, 0], [1, 0, 2]]


@pytest.mark.parametrize("missing", [None, float("nan"), "", "  ", "null", pd.NA])
def test_a_missing_cell_is_an_unlabeled_row(missing):
    tags, problems = read_tag_lists([missing, '["O", "O"]'], ["a b", "a b"], TAGS)
    assert tags == [None, [0, 0]] and problems == {}


def test_an_empty_list_is_a_row_without_entities():
    assert read_tag_lists([[], "[]"], ["a b", "c"], TAGS)[0] == [[0, 0], [0]]


def test_nothing_given_is_an_unlabeled_dataset():
    assert read_tag_lists([None, ""], ["a", "b"], TAGS) == ([None, None], {})


BAD_CELLS = {
    '["O", "O", "O"]': "the tag list holds 3 tags for the 4 words",
    '["O"]': "the tag list holds 1 tag for the 4 words",
    '["B-PER", "I-PER", "O", "B-ORG"]':
        r"tag 'B-ORG' is not one of the model's tags: O, B-PER, I-PER, B-LOC, I-LOC \(or ids 0-4\)",
    '["B-PER", "I-PER", "O", 7]': "tag 7 is not one of the model's tags",
    '["B-PER", "I-PER", "O", null]': "tag None is not one of the model's tags",
    '["O", "O", "O", "\\u001b[2J' + "x" * 200 + '"]': r"tag '\\x1b\[2Jxxx.*\.\.\. is not one of",
    '["O", "O", "O", ["O"]]': "the tag list is not a flat list of tags",
    '[{"start": 0, "end": 6, "label": "PER"}, "O", "O", "O"]': "the tag list mixes character spans with tags",
    '[{"start": 0, "end": 6, "label": "ORG"}]': "span 0 has type 'ORG'",
    '["O", "O"': "tag list '\\[\"O\", \"O\"' does not parse as JSON",
    "{not json": "are not a list of tags per word",
    "B-PER": "tags 'B-PER' are not a list of tags per word",
    '[1': "does not parse as JSON",
}


@pytest.mark.parametrize("cell", BAD_CELLS, ids=range(len(BAD_CELLS)))
def test_a_bad_cell_is_a_row_problem_and_the_other_rows_are_kept(cell):
    tags, problems = read_tag_lists([cell, '["O", "O"]'], [WORDS[0], "the film"], TAGS)
    assert tags == [None, [0, 0]]
    assert list(problems) == [0] and "\n" not in problems[0] and len(problems[0]) < 200
    assert re.search(BAD_CELLS[cell], problems[0]), problems[0]


def test_one_label_per_row_is_refused_in_one_line():
    with pytest.raises(ReportgenError, match="^the tags hold one label per row, and token classification needs a "
                                             "list of tags per word"):
        read_tag_lists(["B-PER", "O", None, 3], ["a", "b", "c", "d"], TAGS)


def test_data_in_which_no_row_can_be_read_is_refused_naming_the_first_rows_problem():
    with pytest.raises(ReportgenError) as raised:
        read_tag_lists([None, '["O"]', '["X", "O"]'], ["a", "b c", "d e"], TAGS)
    assert str(raised.value) == "no row's tag list can be read; row 1: the tag list holds 1 tag for the 2 words"


def test_a_jsonl_and_a_parquet_column_of_lists_are_read(tmp_path):
    frame = pd.DataFrame({"text": ["Angela Merkel visited Paris", "the film"],
                          "tags": [["B-PER", "I-PER", "O", "B-LOC"], ["O", "O"]],
                          "spans": [[{"start": 22, "end": 27, "label": "LOC"}], []]})
    frame.to_parquet(tmp_path / "data.parquet")
    frame.to_json(tmp_path / "data.jsonl", orient="records", lines=True)
    for back in (pd.read_parquet(tmp_path / "data.parquet"), pd.read_json(tmp_path / "data.jsonl", lines=True)):
        assert read_tag_lists(list(back["tags"]), list(back["text"]), TAGS) == ([[1, 2, 0, 3], [0, 0]], {})
        assert read_tag_lists(list(back["spans"]), list(back["text"]), TAGS) == ([[0, 0, 0, 3], [0, 0]], {})


def test_cells_read_back_from_json_text_are_the_same_as_list_cells():
    cell = [{"start": 0, "end": 13, "label": "PER"}]
    assert read_tag_lists([json.dumps(cell)], [WORDS[0]], TAGS) == read_tag_lists([cell], [WORDS[0]], TAGS)
