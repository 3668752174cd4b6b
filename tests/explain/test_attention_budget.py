"""Full attention maps within a budget of weights: an example whose maps do not fit in what is left is passed
over for the next one in review order, recorded as such, and the report says how many were."""

from __future__ import annotations

from reportgen.load.data import Dataset
from reportgen.options import RunConfig
from reportgen.report.render import render_html
from reportgen.results import store
from reportgen.results.queries import review_key

from support.runs import measured
from support.tiny_models import CORPUS

TEXTS = list(CORPUS) + ["the film " * 20, "fun"]


def run_with(classifier, budget: int, kept: int = 2, folder=None):
    data = Dataset(TEXTS, [i % 2 for i in range(len(TEXTS))], list(range(len(TEXTS))), info={"name": "tiny"})
    config = RunConfig(methods=["attention"], metrics=[], attention_maps=kept, attention_budget=budget)
    run = measured(classifier, data, config)
    return store.load(store.save(run, folder)) if folder else run


def weights(classifier, ex) -> int:
    config = classifier.model.config
    return config.num_hidden_layers * config.num_attention_heads * len(ex.input_ids) ** 2


def test_maps_are_kept_within_the_budget_and_the_passed_over_are_counted(classifier, tmp_path):
    probe = run_with(classifier, budget=10**9)
    order = sorted((ex for ex in probe.examples if ex.ok), key=review_key)
    sizes = {ex.index: weights(classifier, ex) for ex in order}
    smallest = min(sizes[ex.index] for ex in order[1:])
    second = next(ex for ex in order[1:] if sizes[ex.index] == smallest)
    passed = [ex.index for ex in order[1:order.index(second)]]
    assert passed, "the crafted texts put a larger example before the smallest one"

    run = run_with(classifier, budget=sizes[order[0].index] + smallest, folder=tmp_path / "results")
    scored = run.attributions["attention"]
    assert sorted(i for i, a in scored.items() if a.extra.get("maps")) == sorted([order[0].index, second.index])
    assert {i: a.extra["maps_too_large"] for i, a in scored.items() if "maps_too_large" in a.extra} == {
        i: sizes[i] for i in passed}
    html = render_html(run)
    noun = "examples were" if len(passed) != 1 else "example was"
    assert f"{len(passed)} {noun} passed over" in html
    assert f"at most {sizes[order[0].index] + smallest:,} attention weights in all" in html


def test_a_budget_smaller_than_any_example_keeps_no_map(classifier):
    run = run_with(classifier, budget=1)
    scored = run.attributions["attention"]
    assert not any(a.extra.get("maps") for a in scored.values())
    assert sum("maps_too_large" in a.extra for a in scored.values()) == len([ex for ex in run.examples if ex.ok])


def test_the_default_budget_keeps_the_default_number_of_short_examples(classifier):
    run = run_with(classifier, budget=RunConfig().attention_budget, kept=3)
    assert sum(bool(a.extra.get("maps")) for a in run.attributions["attention"].values()) == 3


def test_the_note_on_kept_maps_reads_a_tampered_budget_as_unknown():
    from types import SimpleNamespace

    from reportgen.report.sections.example_notes import kept_maps_note

    run = SimpleNamespace(config={"attention_maps": 3, "attention_budget": {"a": 1}}, attributions={})
    note = kept_maps_note(run, 2)
    assert "at most 3 examples" in note and "attention weights in all" not in note
    run.config.update(attention_maps="3")
    assert kept_maps_note(run, 0) == ""  # a count that is not a whole number: no claim about bounds
