"""Label lists of multi-label data: JSON lists, list cells and separated names, matched to the model's classes;
rows that cannot be read are problems of their own, data that holds no list at all is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.errors import ReportgenError
from reportgen.load.labels import read_label_lists

NAMES = ["toxic", "insult", "threat", "none of these"]


def test_json_lists_list_cells_and_separated_names_are_read():
    values = ['["toxic", "threat"]', ["Insult"], np.array(["threat", "toxic"]), "insult, toxic", "[]", "[1, 0]",
              None, "", "threat"]
    lists, problems = read_label_lists(values, NAMES)
    assert lists == [[0, 2], [1], [0, 2], [0, 1], [], [0, 1], None, None, [2]]
    assert problems == {}


def test_a_name_that_is_not_a_class_or_a_list_that_does_not_parse_is_a_problem_of_its_row():
    lists, problems = read_label_lists(['["toxic"]', '["toxic", "rude"]', '["toxic"', "toxic|insult"], NAMES)
    assert lists == [[0], None, None, None]
    assert problems[1].startswith("label 'rude' is not one of the model's labels: toxic, insult, threat")
    assert "does not parse as JSON" in problems[2]
    assert problems[3].startswith("label 'toxic|insult' is not one of the model's labels")
    assert read_label_lists(["toxic|insult"], NAMES, separator="|") == ([[0, 1]], {})


def test_nested_lists_and_a_duplicate_label():
    lists, problems = read_label_lists(['[["toxic"]]', '{"a": 1}', '["toxic", "toxic"]'], NAMES)
    assert lists == [None, None, [0]]
    assert "is not a flat JSON list" in problems[0] and "is not one of the model's labels" in problems[1]


def test_single_labels_for_a_multi_label_model_are_refused_in_one_line():
    with pytest.raises(ReportgenError, match=r"one class per row, and a multi-label model needs each row's list "
                                             r"of labels: a JSON list, or names split by --label-separator \(','\)"):
        read_label_lists(["toxic", "insult", 2, None], NAMES)


def test_data_in_which_no_list_can_be_read_is_refused_in_one_line():
    with pytest.raises(ReportgenError, match=r"no row's label list can be read; row 0: label 'rude' is not"):
        read_label_lists(['["rude"]', '["mean"]'], NAMES)
    assert read_label_lists([None, ""], NAMES) == ([None, None], {})  # unlabeled data: nothing to refuse
