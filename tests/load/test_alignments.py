"""Gold word alignments: Pharaoh links read from a data column, and the words of source and output tokens they
link (reportgen.ops.alignment)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reportgen.load.data import load_dataset
from reportgen.ops.alignment import (aer, aer_counts, argmax_links, normalised_pharaoh, output_words_of,
                                     parse_pharaoh, source_words, whitespace_word_of_chars, word_matrix)


def test_pharaoh_links_sure_and_possible():
    gold = parse_pharaoh(" 0-0  2?1 1-2 ")
    assert gold.sure == {(0, 0), (1, 2)} and gold.possible == {(0, 0), (1, 2), (2, 1)}
    assert normalised_pharaoh("2?1 1-2 0-0") == "0-0 1-2 2?1"
    assert parse_pharaoh("").possible == set()
    for bad, piece in (("0-0 1:2", "'1:2'"), ("0-0 -1-2", "'-1-2'"), ("0-x", "'0-x'")):
        with pytest.raises(ValueError, match=piece):
            parse_pharaoh(bad)


def test_the_alignment_column_is_read_and_a_bad_cell_fails_its_row(tmp_path):
    rows = [{"source": "a b", "reference": "x y", "gold": "1-1 0-0"}, {"source": "c", "reference": "z", "gold": ""},
            {"source": "d", "reference": "w", "gold": "0 0"}, {"source": "e", "reference": "v"}]
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    data = load_dataset(path, [], text_column="source", label_column=None, text_pair_column="reference",
                        pair_role="target", alignment_column="gold")
    assert data.alignments == ["0-0 1-1", None, None, None]
    assert data.problems == {2: "alignment: '0' is not a Pharaoh link 'i-j' (or 'i?j')"}
    assert data.subset([0, 2]).alignments == ["0-0 1-1", None]
    with pytest.raises(Exception, match="alignment column 'links' is not in"):
        load_dataset(path, [], text_column="source", label_column=None, alignment_column="links")


def test_source_tokens_get_the_whitespace_word_of_the_source_they_spell():
    """The prompt 'Translate: {source}.' around "New-York is big": the tokenizer's words split the hyphen off,
    the template's words belong to no source word, and a special token to none."""
    prompt, source = "Translate: New-York is big.", "New-York is big"
    words = ["Translate", ":", "New", "-", "York", "is", "big", "."]
    word_ids = [None, 0, 1, 2, 3, 4, 5, 6, 7, None]
    assert source_words(prompt, len("Translate: "), source, words, word_ids) == [
        None, None, None, 0, 0, 0, 1, 2, None, None]
    assert whitespace_word_of_chars(" ab c") == [None, 0, 0, None, 1]


def test_output_tokens_get_the_reference_word_they_spell():
    pieces = [" th", " the", " the cast", " the cast", " the cast was"]  # the fourth token spells nothing
    assert output_words_of(pieces, "the cast was") == [0, 0, 1, None, 2]
    assert output_words_of(pieces, "the cast is") is None  # it does not spell the reference
    assert output_words_of(pieces[:3], "the cast was") is None  # a cut reference


def test_word_matrix_sums_source_tokens_and_averages_target_tokens():
    scores = np.array([[1.0, -2.0, 3.0], [3.0, 0.0, 1.0], [0.0, 5.0, 0.0]])
    matrix = word_matrix(scores, [0, 0, 1], [0, 0, None], sources=2, targets=2)
    assert matrix.tolist() == [[3.0, 2.0], [0.0, 0.0]]  # (3 + 3) / 2 and (3 + 1) / 2; the third token has no word
    assert argmax_links(matrix) == {(0, 0)}  # a target word without scores links nothing
    counts = aer_counts({(0, 0), (1, 1)}, parse_pharaoh("0-0 1?1 2-2"))
    assert counts.tolist() == [1, 2, 2, 2] and aer(counts) == pytest.approx(0.25)
    assert aer(np.zeros(4)) is None
