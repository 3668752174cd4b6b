"""Translation and summarization: how close the model's greedy outputs come to the references (BLEU and chrF
by sacrebleu, ROUGE by rouge-score; the optional extra reportgen[generation])."""

from __future__ import annotations

from typing import Any

from ..errors import ReportgenError
from ..ops.stats import mean, standard_error
from ..results.queries import input_rows
from ..results.records import RunResult
from ..tasks import task_of
from .base import Column, Metric, Panel, Table, defined, metrics

DEFINITIONS = {
    "outputs": (
        "Each row with a reference (--target-column) is explained on its reference; the model's greedy output for "
        "the same source (transformers' generate, no sampling or beams) is made beside it and scored against the "
        "reference, decoded without special tokens."
    ),
    "translation": (
        "Translation: corpus BLEU and chrF of the greedy outputs against the references, as sacrebleu computes "
        "them with its defaults (BLEU: 13a tokenisation, 4-grams, exponential smoothing; chrF: character 6-grams, "
        "beta 2), on a 0-100 scale."
    ),
    "summarization": (
        "Summarization: ROUGE-1, ROUGE-2 and ROUGE-L F-measures per row (rouge-score, with its Porter stemmer), "
        "their mean over the rows and its standard error, on a 0-1 scale."
    ),
}
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
NEEDS = "pip install 'reportgen[generation]' (sacrebleu and rouge-score)"


@metrics.register
class OutputQuality(Metric):
    name = "output_quality"
    order = 11
    description = ("BLEU and chrF (translation) or ROUGE-1, ROUGE-2 and ROUGE-L (summarization) of the model's greedy "
                   "outputs against the references.")
    defaults: dict[str, Any] = {}
    section = "performance"
    title = "Output quality against the references"
    tasks = ("translation", "summarization")

    def compute(self, run: RunResult, runner: Any) -> dict[str, Any]:
        pairs = [(ex.generated["greedy"], ex.text_pair) for ex in input_rows(run)
                 if ex.ok and ex.generated and ex.generated.get("greedy") is not None and ex.text_pair is not None]
        scores = translation_scores(pairs) if task_of(run).name == "translation" else summary_scores(pairs)
        return {**defined(DEFINITIONS), "rows": len(pairs), "scores": scores}

    @classmethod
    def present(cls, result: dict[str, Any]) -> Panel:
        return Panel(Table(COLUMNS, result["scores"], css="output-quality"), None, "", dict(result["definitions"]))


COLUMNS = [Column("score", "score", "name"), Column("value", "value", "number", 3),
           Column("standard error", "se", "number", 3)]


def translation_scores(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Corpus BLEU and chrF of the outputs against the references (none without rows)."""
    if not pairs:
        return []
    sacrebleu = _imported("sacrebleu")
    outputs, references = [output for output, _ in pairs], [reference for _, reference in pairs]
    return [{"score": "BLEU", "value": sacrebleu.corpus_bleu(outputs, [references]).score, "se": None},
            {"score": "chrF", "value": sacrebleu.corpus_chrf(outputs, [references]).score, "se": None}]


def summary_scores(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Mean ROUGE F-measures over the rows, with their standard errors (none without rows)."""
    if not pairs:
        return []
    scorer = _imported("rouge_score.rouge_scorer").RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    per_row = [scorer.score(reference, output) for output, reference in pairs]
    return [{"score": f"ROUGE-{kind[5:]}", "value": mean(row[kind].fmeasure for row in per_row),
             "se": standard_error(row[kind].fmeasure for row in per_row)} for kind in ROUGE_TYPES]


def _imported(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ReportgenError(f"output quality needs {module.split('.')[0]}: {NEEDS}") from None
