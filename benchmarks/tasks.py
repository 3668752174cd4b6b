"""What the newer ways of reading a model cost, per example and method, on the tiny test models (issue 15).

    python benchmarks/tasks.py                       # writes benchmarks/tasks.txt
    python benchmarks/tasks.py --windows 1,2,4 --out /tmp/tasks.txt

(a) --long-text window: the tiny test BERT read 32 tokens at a time, on documents of 1, 2, 4, 8 and 16 windows
    (stride: half a window). Per method: seconds and model evaluations per document, and their ratio to the
    one-window documents. A method whose cost stays linear in the number of windows has ratios near the
    windows' count, not its square.
(b) --predict: a black-box function (tests/support/black_box_models.py, word counting, no model) with the tiny
    BERT's tokenizer, on 24 texts of 12 words. Per method: seconds and calls of the function per example.
(c) --zero-shot-labels: the tiny NLI BERT (tests/support/pair_models.py) with three candidate labels, on the same
    24 texts. Per method: seconds and model calls per example.
(d) every task at the default budgets (`--methods all`), on the tiny test models and corpora of tests/support:
    seconds per explanation (a row, or a unit: one label of a multi-label row, one entity) per method.
(e) generation: GPT-2 and Llama language models, T5, BART and Marian encoder-decoders (tests/support), the
    references of tests/support/generation_models.py under teacher forcing, `--methods all` at the default
    budgets: seconds per explained output token per method, and the seconds per row that answering took.

Every figure comes from the run's own record (run.methods: seconds, model_evaluations, examples), one run per
setting after one warm-up run, in one process, nothing else running. On a model this small a call costs little
more for more sequences, so seconds grow slower than calls. Timings on the shared machine drift 10-20% between runs.
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WINDOW = 32
BUDGETS = {"lime": {"num_samples": 200}, "shap": {"max_evals": 128}, "integrated_gradients": {"n_steps": 16},
           "layer_integrated_gradients": {"n_steps": 8}}
DOCUMENTS = 4  # per length


def write_rows(path: Path, texts: list[str], label: str = "negative") -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([text, label] for text in texts)
    return path


def documents(windows: int, room: int, stride: int, seed: int) -> list[str]:
    """Texts of one-token words that fill ``windows`` windows exactly."""
    import random

    from support.tiny_models import WORDS

    single = [word for word in WORDS if len(word) <= 5]
    rng = random.Random(seed)
    words = room + (windows - 1) * stride
    return [" ".join(rng.choice(single) for _ in range(words)) for _ in range(DOCUMENTS)]


def per_method(run) -> dict[str, tuple[float, float]]:
    """Per method, seconds and model evaluations per explained example."""
    return {name: (info.seconds / max(info.examples, 1), info.model_evaluations / max(info.examples, 1))
            for name, info in run.methods.items()}


def windows_table(folder: Path, counts: list[int], work: Path) -> list[str]:
    from reportgen.api import explain
    from reportgen.explain.windows import Windows
    from reportgen.load.model import load_classifier

    model = load_classifier(folder, device="cpu", max_length=WINDOW)
    windows = Windows.for_model(model.tokenizer, WINDOW, None, max(counts))
    measured = {}
    warm_up = write_rows(work / "warm_up.csv", documents(2, windows.room, windows.stride, 0)[:1])
    explain(model, warm_up, methods="all", long_text="window", progress=False, method_params=BUDGETS)  # imports, caches
    for count in counts:
        data = write_rows(work / f"windows{count}.csv", documents(count, windows.room, windows.stride, count))
        run = explain(model, data, methods="all", long_text="window", max_windows=max(counts), progress=False,
                      method_params=BUDGETS)
        read = run.dataset["long_text"]
        assert read["windows"] == (count * DOCUMENTS if count > 1 else 0), read
        measured[count] = per_method(run)
    lines = [f"(a) --long-text window, {WINDOW} tokens per window ({windows.room} of text), stride {windows.stride}, "
             f"{DOCUMENTS} documents per length", "",
             "| method | " + " | ".join(f"{c} window{'s' * (c > 1)}: s/doc (calls)" for c in counts)
             + f" | ratio s, {counts[-1]} vs 1 | ratio calls |",
             "|---|" + "---|" * (len(counts) + 2)]
    for name in measured[counts[0]]:
        cells = [f"{measured[c][name][0]:.4f} ({measured[c][name][1]:.0f})" for c in counts]
        first, last = measured[counts[0]][name], measured[counts[-1]][name]
        ratio = lambda a, b: f"{a / b:.1f}" if b else "-"  # noqa: E731
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio(last[0], first[0])} | {ratio(last[1], first[1])} |")
    return lines


def black_box_table(folder: Path, work: Path) -> list[str]:
    from reportgen.api import explain
    from reportgen.load.black_box import load_model
    model = load_model(None, predict=f"{HERE.parent / 'tests/support/black_box_models.py'}:keyword_probabilities",
                       tokenizer=str(folder))
    texts = [text for seed in range(6) for text in documents(1, 12, 1, seed)]  # 24 texts of 12 words
    params = {k: v for k, v in BUDGETS.items() if k in ("lime", "shap")}
    explain(model, write_rows(work / "warm_up.csv", texts[:1]), methods="all", progress=False, method_params=params)
    run = explain(model, write_rows(work / "black_box.csv", texts), methods="all", progress=False, method_params=params)
    lines = [f"(b) --predict, a word-counting function with the tiny BERT's tokenizer, {len(run.examples)} examples", "",
             "| method | s/example | function calls/example |", "|---|---|---|"]
    for name, (seconds, calls) in per_method(run).items():
        lines.append(f"| {name} | {seconds:.4f} | {calls:.0f} |")
    lines.append("")
    lines.append("left out, with the reason the report gives: "
                 + ", ".join(sorted(run.model.get("methods_not_applicable", {}))))
    return lines


def zero_shot_table(work: Path) -> list[str]:
    from reportgen.api import explain
    from reportgen.load.model import load_classifier
    from support.pair_models import build_pair_folder

    model = load_classifier(build_pair_folder(work / "nli", "bert"), device="cpu", zero_shot_labels="good,bad,fun")
    texts = [text for seed in range(6) for text in documents(1, 12, 1, seed)]
    explain(model, write_rows(work / "warm_up.csv", texts[:1], "good"), methods="all", progress=False,
            method_params=BUDGETS)
    run = explain(model, write_rows(work / "zero_shot.csv", texts, "good"), methods="all", progress=False,
                  method_params=BUDGETS)
    lines = [f"(c) --zero-shot-labels good,bad,fun, the tiny NLI BERT, {len(run.examples)} texts of 12 words "
             f"(predicting them took {run.timings.get('predict', 0) / len(run.examples):.4f} s per text: 3 pairs each)",
             "", "| method | s/example | model calls/example |", "|---|---|---|"]
    for name, (seconds, calls) in per_method(run).items():
        lines.append(f"| {name} | {seconds:.4f} | {calls:.0f} |")
    return lines


def task_runs(work: Path) -> dict[str, tuple[str, Path, dict]]:
    """Per task: its column title, its model folder and the explain() arguments of its data."""
    import pandas as pd

    from support.decoder_models import build_decoder_folder
    from support.multi_label_models import build_multi_label_folder, write_multi_label_data
    from support.pair_models import build_pair_folder, pair_rows
    from support.tiny_models import CORPUS, build_model_folder
    from support.token_models import build_token_folder, write_tagged_data

    single = write_rows(work / "single.csv", CORPUS * 2)
    pairs = work / "pairs.csv"
    pd.DataFrame(pair_rows(2)).to_csv(pairs, index=False)
    paired = {"text_column": "premise", "text_pair_column": "hypothesis"}
    return {
        "sequence": ("single text, BERT", build_model_folder(work / "t_bert", "bert"), {"data": single}),
        "pair": ("pair, BERT", build_pair_folder(work / "t_pair", "bert"), {"data": pairs, **paired}),
        "multi_label": ("multi-label, RoBERTa", build_multi_label_folder(work / "t_multi", "roberta"),
                        {"data": write_multi_label_data(work / "multi.jsonl", 2)}),
        "token": ("NER, BERT", build_token_folder(work / "t_ner", "bert"),
                  {"data": write_tagged_data(work / "tags.jsonl", 2), "label_column": "tags"}),
        "gpt2": ("decoder, GPT-2", build_decoder_folder(work / "t_gpt2", "gpt2"), {"data": single}),
        "llama": ("decoder, Llama", build_decoder_folder(work / "t_llama", "llama"), {"data": single}),
    }


def timed_runs(runs: dict[str, tuple[Path, dict]]) -> dict[str, Any]:
    """Per column title, the run of --methods all on its (model folder, explain() arguments), after a warm-up."""
    from reportgen.api import explain
    from reportgen.load.model import load_classifier

    done = {}
    for title, (folder, arguments) in runs.items():
        arguments = dict(arguments)
        model = load_classifier(folder, device="cpu", paired="text_pair_column" in arguments)
        data = arguments.pop("data")
        explain(model, data, methods="all", progress=False, limit=2, **arguments)  # imports, caches
        done[title] = explain(model, data, methods="all", progress=False, **arguments)
    return done


def method_table(heading: str, runs: dict[str, Any]) -> list[str]:
    """Seconds per explanation of every method (rows) in every run (columns: its title and explanations)."""
    measured = {title: per_method(run) for title, run in runs.items()}
    methods = list(dict.fromkeys(m for table in measured.values() for m in table))
    lines = [heading, "", "| method | " + " | ".join(f"{t} ({len(runs[t].examples)})" for t in runs) + " |",
             "|---|" + "---|" * len(runs)]
    for method in methods:
        cells = [f"{measured[t][method][0]:.5f}" if method in measured[t] else "does not apply" for t in runs]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def every_task_table(work: Path) -> list[str]:
    runs = timed_runs({title: (folder, arguments) for title, folder, arguments in task_runs(work).values()})
    return method_table("(d) every task, --methods all at the default budgets, seconds per explanation "
                        "(explanations per run in brackets)", runs)


def generation_table(work: Path) -> list[str]:
    from support.generation_models import build_lm_folder, write_generation_data
    from support.seq2seq_models import build_seq2seq_folder

    arguments = {"data": write_generation_data(work / "references.jsonl", repeat=3), "source_column": "source",
                 "target_column": "reference"}
    folders = {"GPT-2": build_lm_folder(work / "g_gpt2", "gpt2"), "Llama": build_lm_folder(work / "g_llama", "llama"),
               "T5": build_seq2seq_folder(work / "g_t5", "t5"), "BART": build_seq2seq_folder(work / "g_bart", "bart"),
               "Marian": build_seq2seq_folder(work / "g_marian", "marian")}
    runs = timed_runs({title: (folder, arguments) for title, folder in folders.items()})
    lines = method_table("(e) generation, --methods all at the default budgets, seconds per explained output token "
                         "(output tokens per run in brackets)", runs)
    answering = [run.timings.get("predict", 0.0) / max(run.dataset.get("explained", 1), 1) for run in runs.values()]
    lines.append("| answering, s per row | " + " | ".join(f"{seconds:.4f}" for seconds in answering) + " |")
    lines.append("")
    lines.append("left out for every model: " + ", ".join(sorted(set.intersection(*(
        set(run.model.get("methods_not_applicable", {})) for run in runs.values())))))
    return lines


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", default="1,2,4,8,16", help="window counts of the documents")
    parser.add_argument("--out", type=Path, default=HERE / "tasks.txt")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "tests"))
    import torch

    from support.tiny_models import build_model_folder

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        folder = build_model_folder(work / "bert", "bert")
        lines = [f"# benchmarks/tasks.py on {platform.machine()}, {torch.get_num_threads()} torch threads, "
                 f"torch {torch.__version__}", ""]
        lines += windows_table(folder, [int(c) for c in args.windows.split(",")], work)
        lines += [""] + black_box_table(folder, work)
        lines += [""] + zero_shot_table(work)
        lines += [""] + every_task_table(work)
        lines += [""] + generation_table(work)
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return text


if __name__ == "__main__":
    main()
