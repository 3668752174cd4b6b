import math

from reportgen.report.render import render_html
from reportgen.results import store

from support.runs import small_run


def test_save_load_round_trip_is_exact(classifier, tmp_path):
    run = small_run(classifier)
    loaded = store.load(store.save(run, tmp_path / "results"))
    assert loaded == run
    assert loaded.attributions["saliency"][0].tokens == run.attributions["saliency"][0].tokens
    assert [f.reason for f in loaded.failures] == ["text is empty"]


def test_render_from_loaded_results_equals_render_from_memory(classifier, tmp_path):
    run = small_run(classifier)
    loaded = store.load(store.save(run, tmp_path / "results"))
    assert render_html(loaded) == render_html(run)


def test_saving_again_drops_methods_no_longer_in_the_run(classifier, tmp_path):
    run = small_run(classifier)
    store.save(run, tmp_path / "r")
    del run.attributions["attention"], run.methods["attention"]
    assert sorted(store.load(store.save(run, tmp_path / "r")).attributions) == ["grad_x_input", "saliency"]


def test_scores_are_real_and_one_per_token_and_word(classifier):
    run = small_run(classifier)
    for method, by_example in run.attributions.items():
        for index, attribution in by_example.items():
            ex = run.example(index)
            assert len(attribution.tokens) == len(ex.tokens)
            assert len(attribution.words) == len(ex.words)
            assert all(math.isfinite(v) for v in attribution.tokens)
    assert any(abs(v) > 1e-6 for v in run.attributions["grad_x_input"][0].tokens)
