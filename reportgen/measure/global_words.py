"""Dataset-level word statistics: what each method finds important per class, and what goes wrong."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from statistics import NormalDist
from typing import Any

import numpy as np

from ..ops.function_words import LANGUAGES, NO_LIST, function_words
from ..ops.params import MAX_WORDS, Choice, Flag, Number, Whole
from ..ops.words import joined_contractions
from ..results.queries import class_names, explained, methods_with_scores, scored
from ..results.records import Example, RunResult
from .base import Metric, metrics
from .performance import MAX_CLASSES

CLASS_BY = ("target", "prediction", "label")


def normal_word(word: str) -> str:
    """The word as counted: lower-cased, surrounding white space removed."""
    return word.strip().lower()


def is_counted(word: str, skip_punctuation: bool) -> bool:
    return bool(word) and (not skip_punctuation or any(ch.isalnum() for ch in word))


def listed_word_classes(examples: list[Example], class_by: str, n_classes: int) -> list[int]:
    """The classes whose words are listed: all in id order when there are at most MAX_CLASSES, else the
    MAX_CLASSES with the most examples by ``class_by`` (ties: the lower id)."""
    if n_classes <= MAX_CLASSES:
        return list(range(n_classes))
    counts = Counter(getattr(ex, class_by) for ex in examples if getattr(ex, class_by) is not None)
    return sorted(counts, key=lambda c: (-counts[c], c))[:MAX_CLASSES]


def listing_definition(class_by: str, n_classes: int, n_listed: int) -> str:
    if n_classes <= MAX_CLASSES:
        return ""
    return (f" This model has {n_classes:,} classes: words are listed for the {n_listed} with the most "
            f"explained examples by {class_by} (at most {MAX_CLASSES}; ties: the lower class id), and the "
            "examples of the other classes are not pooled.")


@metrics.register
class TopWords(Metric):
    name = "top_words"
    order = 60
    description = "Per method and class, the words with the highest mean attribution over their occurrences."
    parameters = {"min_count": Whole(3, low=1), "top_n": Whole(15, low=1, high=MAX_WORDS),
                  "class_by": Choice("target", choices=CLASS_BY), "normalize": Choice("none", choices=("none", "l1")),
                  "skip_punctuation": Flag(True), "common_share": Number(0.1, low=0, high=1, low_open=True),
                  "function_words": Choice("en", choices=(*LANGUAGES, NO_LIST), what="function-word language")}

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        class_by, normalize = self.params["class_by"], self.params["normalize"]
        labels = class_names(run)
        min_count, top_n = int(self.params["min_count"]), int(self.params["top_n"])
        examples = explained(run)
        listed = listed_word_classes(examples, class_by, len(labels))
        kept = set(listed)
        records = []
        for method in methods_with_scores(run):
            # (class, word) -> [sum of scores, occurrences, examples]
            stats: dict[tuple[int, str], list] = defaultdict(lambda: [0.0, 0, set()])
            for ex in examples:
                cls = getattr(ex, class_by)
                attribution = run.attributions[method].get(ex.index)
                if cls not in kept or attribution is None or len(attribution.words) != len(ex.words):
                    continue
                scores = np.asarray(attribution.words, dtype=np.float64)
                if normalize == "l1":
                    total = np.abs(scores[np.isfinite(scores)]).sum()
                    scores = scores / total if total > 0 else scores * 0.0
                own = range(*ex.entity["words"]) if ex.entity else range(0)  # an entity's context, not itself
                for word, positions in joined_contractions(ex.words):
                    if any(position in own for position in positions):
                        continue
                    word, score = normal_word(word), float(scores[positions].sum())
                    if not is_counted(word, self.params["skip_punctuation"]) or not math.isfinite(score):
                        continue
                    entry = stats[(cls, word)]
                    entry[0] += float(score)
                    entry[1] += 1
                    entry[2].add(ex.index)
            by_class: dict[int, list[tuple[str, float, int, int]]] = defaultdict(list)
            for (cls, word), (score_sum, n, where) in stats.items():
                if n >= min_count:
                    by_class[cls].append((word, score_sum / n, n, len(where)))
            for cls in listed:
                rows = sorted(by_class[cls], key=lambda r: (-r[1], -r[2], r[0]))
                for rank, (word, avg, count, n_examples) in enumerate(rows[:top_n], start=1):
                    records.append({"method": method, "class": labels[cls], "class_id": cls, "rank": rank,
                                    "word": word, "mean": avg, "count": count, "examples": n_examples})
        definition = (
            f"For each method and class c, the examples whose {class_by} is c (explained examples only) "
            "are pooled; a word is its text lower-cased, an English contraction the tokenizer split at its "
            "apostrophe (don ' t) joined again (don't, its parts' scores summed)"
            + (" and words without a letter or digit (punctuation) are skipped" if self.params["skip_punctuation"] else "")
            + ". mean = the mean of the method's word score (sum of the word's token scores, for the "
            "target class) over all occurrences of the word in those examples"
            + (", after dividing each example's word scores by the sum of their absolute values" if normalize == "l1" else "")
            + f"; count = occurrences, examples = examples containing it. Words with count >= {min_count} "
            f"(min_count) are ranked by mean, highest first (ties: higher count, then alphabetical), and "
            f"the first {top_n} (top_n) are kept. Scales differ between methods: compare ranks, not values, "
            "across methods."
            + listing_definition(class_by, len(labels), len(listed))
            + (" For token classification a class is an entity's first tag (B-PER, ...), and each entity's own "
               "words are left out: the words listed are the context that drives the entity type."
               if any(ex.entity for ex in examples) else "")
        )
        share = float(self.params["common_share"])
        definition += (f" common_words: the words in at least {share:.0%} (common_share) of the examples of every "
                       "listed class (with two classes or more), the data's own function words, whatever its "
                       "language; the report can hide them, and the function_words list of the language named by "
                       "function_words (none: no list).")
        common = common_words(examples, class_by, listed, share, self.params["skip_punctuation"])
        return {"definition": definition, "class_by": class_by, "min_count": min_count, "top_n": top_n,
                "normalize": normalize, "class_limit": MAX_CLASSES, "classes": len(labels),
                "listed_classes": [labels[c] for c in listed], "common_share": share, "common_words": common,
                **function_word_list(self.params["function_words"]), "words": records}


def function_word_list(language: str) -> dict[str, Any]:
    """The function words the report may hide, recorded with the results: the language and its list."""
    return {"function_words_language": language, "function_words": sorted(function_words(language))}


@metrics.register
class ErrorWords(Metric):
    name = "error_words"
    order = 61
    description = "Words over-represented in misclassified examples (smoothed log odds ratio and its z-score)."
    parameters = {"min_count": Whole(3, low=1), "top_n": Whole(25, low=1, high=MAX_WORDS),
                  "smoothing": Number(0.5, low=0, low_open=True), "skip_punctuation": Flag(True)}

    def compute(self, run: RunResult, runner) -> dict[str, Any]:
        alpha, min_count, top_n = float(self.params["smoothing"]), int(self.params["min_count"]), int(self.params["top_n"])
        examples = scored(run)
        wrong = [ex for ex in examples if ex.prediction != ex.label]
        right = [ex for ex in examples if ex.prediction == ex.label]
        in_wrong, in_right = self._document_counts(wrong), self._document_counts(right)
        n_wrong, n_right = len(wrong), len(right)
        rows = []
        for word in set(in_wrong) | set(in_right):
            a, b = in_wrong.get(word, 0), in_right.get(word, 0)
            if a + b < min_count:
                continue
            lor, z = log_odds_ratio(a, n_wrong, b, n_right, alpha)
            rows.append({"word": word, "misclassified": a, "correct": b, "examples": a + b,
                         "error_rate": a / (a + b), "log_odds_ratio": lor, "z": z})
        rows.sort(key=lambda r: (-r["z"], -r["examples"], r["word"]))
        threshold = bonferroni_z(len(rows), SIGNIFICANCE)
        over = [row for row in rows if row["z"] > 0][:top_n]
        for rank, row in enumerate(over, start=1):
            row.update(rank=rank, stands_out=bool(row["z"] > threshold))
        definition = (
            "Compares misclassified with correctly classified examples (labeled, predicted). A word is its "
            "text lower-cased, a split English contraction joined again (don't)"
            + (", punctuation skipped" if self.params["skip_punctuation"] else "") + "; "
            "counts are documents: a = misclassified examples containing the word (of N_m), b = correct "
            "examples containing it (of N_c). log_odds_ratio = ln((a+s)/(N_m-a+s)) - ln((b+s)/(N_c-b+s)) "
            f"with smoothing s = {alpha} (Haldane-Anscombe at 0.5), its standard error = "
            "sqrt(1/(a+s) + 1/(N_m-a+s) + 1/(b+s) + 1/(N_c-b+s)), z = log_odds_ratio / standard error. "
            f"Words in at least {min_count} examples (min_count) with z > 0 are ranked by z, highest first, "
            f"and the first {top_n} (top_n) kept; error_rate = a / (a + b), against the overall error rate. "
            f"A word stands out when its z exceeds z* = {threshold:.2f}: the one-sided test at "
            f"{SIGNIFICANCE:.0%} after Bonferroni's correction for the {len(rows)} words tested "
            "(threshold_z, tested); the report lists only those, and says so when none does."
        )
        return {"definition": definition, "min_count": min_count, "smoothing": alpha, "top_n": top_n,
                "tested": len(rows), "threshold_z": threshold,
                "misclassified_examples": n_wrong, "correct_examples": n_right,
                "error_rate": n_wrong / len(examples) if examples else None, "words": over}

    def _document_counts(self, examples: list[Example]) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for ex in examples:
            for word in {normal_word(w) for w, _ in joined_contractions(ex.words)}:
                if is_counted(word, self.params["skip_punctuation"]):
                    counts[word] += 1
        return counts


def common_words(examples: list[Example], class_by: str, listed: list[int], share: float,
                 skip_punctuation: bool) -> list[str]:
    """The words in at least ``share`` of the examples of every class of ``listed`` (none below two classes)."""
    if len(listed) < 2:
        return []
    sizes: Counter = Counter()
    holding: dict[int, Counter] = defaultdict(Counter)
    for ex in examples:
        cls = getattr(ex, class_by)
        if cls not in listed:
            continue
        sizes[cls] += 1
        present = {normal_word(w) for w, _ in joined_contractions(ex.words)}
        holding[cls].update(w for w in present if is_counted(w, skip_punctuation))
    if any(not sizes[cls] for cls in listed):
        return []
    return sorted(set.intersection(*({w for w, n in holding[cls].items() if n >= share * sizes[cls]}
                                     for cls in listed)))


SIGNIFICANCE = 0.05  # the error words' family-wise error rate


def bonferroni_z(tests: int, level: float) -> float:
    """The z a one-sided test of ``tests`` hypotheses at family-wise ``level`` must exceed (Bonferroni)."""
    return NormalDist().inv_cdf(1 - level / max(tests, 1))


def log_odds_ratio(a: int, n_a: int, b: int, n_b: int, smoothing: float) -> tuple[float, float]:
    """Smoothed log odds ratio of a 2x2 table (a of n_a vs b of n_b) and its z-score."""
    s = smoothing
    lor = math.log((a + s) / (n_a - a + s)) - math.log((b + s) / (n_b - b + s))
    se = math.sqrt(1 / (a + s) + 1 / (n_a - a + s) + 1 / (b + s) + 1 / (n_b - b + s))
    return lor, lor / se
