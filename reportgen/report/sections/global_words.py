"""4. Global explanations: the top words per class of every method, and the words of the errors."""

from __future__ import annotations

from typing import Any

from ...results.queries import methods_with_scores
from ...results.records import RunResult
from ...ops.function_words import FUNCTION_WORDS, LANGUAGES, NO_LIST
from ...tasks import task_of
from ..charts.global_words import top_words_chart
from ..figures import metric, metric_error
from ..format import fmt, pct, shown, shown_class_names, signed
from ..word_links import linked_words


CLASS_BY_WORDS = {"target": "explained class", "prediction": "predicted class", "label": "true class"}


def faithfulness_order(run: RunResult, methods: list[str]) -> list[str]:
    """``methods`` ordered by comprehensiveness lift over the random control, best first; the control and
    methods without a faithfulness figure keep their order after the others."""
    faithfulness = metric(run, "faithfulness")
    lifts = {r["method"]: r["comprehensiveness_lift"] for r in (faithfulness or {}).get("summary", [])
             if not r.get("is_control") and r.get("comprehensiveness_lift") is not None}
    ranked = sorted((m for m in methods if m in lifts), key=lambda m: -lifts[m])
    return ranked + [m for m in methods if m not in lifts]


def listing_note(top: dict[str, Any]) -> str:
    """The sentence that states the bound on the classes whose top words are listed; empty within it."""
    classes, limit, listed = top.get("classes"), top.get("class_limit"), top.get("listed_classes")
    if not (isinstance(classes, int) and isinstance(limit, int) and isinstance(listed, list) and classes > limit):
        return ""
    counted_by = CLASS_BY_WORDS.get(str(top.get("class_by")), "explained class")
    return (f"This model has {fmt(classes)} classes and top words are listed for at most {fmt(limit)} of them "
            f"(here {fmt(len(listed))}): those with the most explained examples, each example counted for its "
            f"{counted_by} (ties: the lower class id). The examples of the other {fmt(classes - len(listed))} "
            "classes are not pooled into any list.")


def class_filter(run: RunResult, top: dict[str, Any]) -> str:
    """The explorer filter that holds a top-word list's class (its examples are pooled by class_by): the
    prediction's or the true label's; none for token classification, whose classes are entity tags."""
    if task_of(run).reads_tags:
        return ""
    by = str(top.get("class_by", "target"))
    if by == "target":
        by = "label" if run.config.get("target") == "label" else "prediction"
    return "label" if by == "label" else "prediction"


def function_word_list(top: dict[str, Any] | None) -> tuple[str, list[str]]:
    """The language of the function words the "hide function words" box hides (its name, or "" for none) and
    the words, as the results recorded them; results written before the choice hid the English list."""
    top = top or {}
    words = top.get("function_words")
    if not isinstance(words, list):
        return LANGUAGES["en"], sorted(FUNCTION_WORDS["en"])
    language = str(top.get("function_words_language", ""))
    name = "" if language == NO_LIST else LANGUAGES.get(language, shown(language))
    return name, sorted({str(w) for w in words})


def global_explanations(run: RunResult) -> dict[str, Any]:
    context: dict[str, Any] = {"missing": metric_error(run, "top_words"),
                               "errors_missing": metric_error(run, "error_words")}
    keys = linked_words(run)
    top = metric(run, "top_words")
    if top:
        methods = [m for m in methods_with_scores(run) if any(r["method"] == m for r in top["words"])]
        methods += sorted({r["method"] for r in top["words"]} - set(methods))
        methods = faithfulness_order(run, methods)
        faithfulness = metric(run, "faithfulness")
        lifts = {r["method"]: r.get("comprehensiveness_lift") for r in (faithfulness or {}).get("summary", [])}
        names = shown_class_names(run)
        common = set(top.get("common_words") or [])
        language, listed = function_word_list(top)
        hidden = common | set(listed)
        by_class = class_filter(run, top)
        words = [{**r, "word": shown(r["word"]), "function_word": r["word"].strip().lower() in hidden,
                  "key": keys.get(str(r["word"]), "")} for r in top["words"]]
        tables = []
        for ci in sorted({r["class_id"] for r in words}):
            # The ranks that occur (each method's run 1..n): a rank far beyond them adds one row, not a range.
            ranks = sorted({r["rank"] for r in words if r["class_id"] == ci})
            grid = {(r["method"], r["rank"]): r for r in words if r["class_id"] == ci}
            rows = [{"rank": rank, "cells": [grid.get((m, rank), {"word": "", "function_word": False, "key": ""})
                                             for m in methods]}
                    for rank in ranks]
            tables.append({"class": names[ci] if ci < len(names) else str(ci), "class_id": ci, "rows": rows})
        default = methods[0] if methods and lifts.get(methods[0]) is not None else None
        context.update(definition=top["definition"], class_note=listing_note(top), methods=methods,
                       tables=tables, default_method=default, class_filter=by_class,
                       default_lift=signed(lifts.get(default)) if default else None,
                       function_language=language,
                       common_words=", ".join(shown(w) for w in sorted(common)),
                       common_share=pct(top.get("common_share")),
                       chart=top_words_chart("chart-top-words", words, methods, names, by_class)
                       if words else None)
    errors = metric(run, "error_words")
    if errors:
        tested = "threshold_z" in errors  # results written before the test list every word with z > 0
        standing = [r for r in errors["words"] if r.get("stands_out", not tested)]
        context.update(
            error_definition=errors["definition"],
            error_rate=pct(errors.get("error_rate"), 1),
            error_counts=(errors["misclassified_examples"], errors["correct_examples"]),
            error_test=error_test(errors) if tested else "",
            error_rows=[{"rank": r["rank"], "word": shown(r["word"]), "key": keys.get(str(r["word"]), ""),
                         "misclassified": r["misclassified"],
                         "correct": r["correct"], "error_rate": pct(r["error_rate"]),
                         "lor": fmt(r["log_odds_ratio"], 2), "z": fmt(r["z"], 2)} for r in standing],
        )
    return context


def error_test(errors: dict[str, Any]) -> str:
    """The test a word passes to be listed as over-represented in the errors, in a sentence."""
    return (f"A word is listed when its z exceeds {fmt(errors['threshold_z'], 2)}: a one-sided test at 5% after "
            f"Bonferroni's correction for the {fmt(errors.get('tested'))} words tested.")
