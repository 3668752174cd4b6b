"""Every option of a run, defined once.

The command line's flags (:mod:`reportgen.cli`), the keyword arguments of :func:`reportgen.explain`
and :func:`reportgen.demo`, and :class:`RunConfig` (the settings that decide the scores, recorded in
the results and listed in the report's methodology) are all made from ``OPTIONS``.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ReportgenError, UnknownParameterError
from .explain.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS
from .explain.explainer import explainers
from .explain.lines import MODES
from .explain.maps import ATTENTION_BUDGET
from .load.model import PRECISIONS
from .tasks.generation import DEFAULT_NEW_TOKENS, DEFAULT_PROMPT
from .tasks.zero_shot import DEFAULT_TEMPLATE

# What an option configures, which decides where api.explain hands it.
MODEL = "model"  # load.model.load_classifier
DATA = "data"  # load.data.load_dataset
SAMPLE = "sample"  # which rows of the data are explained
SETTING = "setting"  # RunConfig: decides the scores, recorded in the results
OUTPUT = "output"  # where the results and the report go
COMMAND = "command"  # how the command or function behaves

TARGETS = ("pred", "label")
LONG_TEXT = ("truncate", "window")
SEEDS = range(2**32)  # what numpy's and lime's seeded generators take
NO_FLAG = "no flag"  # an option of the Python API only


@dataclass(frozen=True)
class Option:
    """One option: ``name`` is the keyword argument (and, for a setting, the RunConfig field and its key in
    the results); ``kind`` is text, int, number, choice, flag, file, folder, path, params or repeat."""

    name: str
    default: Any
    help: str
    group: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    allowed: range | None = None  # whole numbers checked here, not by click, so that the error is one line
    between: tuple[float, float] | None = None  # a number's open interval
    flag: str | None = None  # the command-line flag when it is not --name-with-dashes (NO_FLAG: none)
    commands: tuple[str, ...] = ("run",)
    metavar: str | None = None
    required: bool = False
    demo_help: str | None = None  # the help of the demo's flag, where it differs
    also: tuple[Any, ...] = ()  # values the Python API takes besides the choices (not offered on the command line)

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def on_command_line(self) -> bool:
        return self.flag != NO_FLAG

    @property
    def shown_name(self) -> str:
        """How an error message names the option: its flag, or its keyword when it has none."""
        return self.cli_flag if self.on_command_line else self.name

    def help_for(self, command: str) -> str:
        return self.demo_help if command == "demo" and self.demo_help else self.help

    def fresh_default(self) -> Any:
        return copy.deepcopy(self.default)

    def check(self, value: Any) -> None:
        """One line naming the problem when ``value`` does not fit the option."""
        if self.choices and value not in self.choices and not any(value is other for other in self.also):
            raise ReportgenError(f"{self.shown_name} must be one of {', '.join(self.choices)}, not {value!r}")
        if self.kind == "int" and value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ReportgenError(f"{self.shown_name} must be a whole number, not {value!r}")
            if self.minimum is not None and value < self.minimum:
                raise ReportgenError(f"{self.shown_name} must be at least {self.minimum}, not {value}")
            if self.allowed is not None and value not in self.allowed:
                raise ReportgenError(f"{self.shown_name} must be a whole number from {self.allowed.start} to "
                                     f"{self.allowed.stop - 1}, not {value}")
        if self.kind == "number" and self.between is not None:
            low, high = self.between
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not low < value < high:
                raise ReportgenError(f"{self.shown_name} must be a number between {low:g} and {high:g}, not {value!r}")
        if self.kind == "params" and not isinstance(value, dict):
            raise ReportgenError(f"{self.shown_name} must map names to their parameters, not {value!r}")


BOTH = ("run", "demo")
OPTIONS: tuple[Option, ...] = (
    Option("model", None, "Model folder, or a Hugging Face hub id (needs internet); or a black-box model with "
           "--predict.", MODEL),
    Option("task", "auto", "The kind of model (see `reportgen methods`) [default: chosen from the model's config "
           "and the data options].", MODEL),
    Option("multi_label", False, "Read the model as multi-label (a sigmoid per label: the multi_label task) "
           "whatever its config's problem_type says.", MODEL, kind="flag"),
    Option("text_column", "text", "Column that holds the texts.", DATA),
    Option("text_pair_column", None, "Column that holds each example's second text (sentence pairs: NLI, "
           "paraphrase, relevance); --task auto then picks the sentence_pair task.", DATA),
    Option("label_column", "label", "Labels as names (matched to the model's id2label, any case) or ids; a list "
           "per row for multi-label models, a tag per word for token classifiers; 'none' for data without labels.",
           DATA),
    Option("label_separator", ",", "Multi-label data: what separates the label names in a cell (a cell may "
           "also hold a JSON list).", DATA),
    Option("group_column", None, "Optional column for per-group metrics.", DATA),
    Option("rationale_column", None, "Optional column of human rationales, scored by the plausibility statistic: "
           "per row the evidence as word indices ('[0, 3]'), character spans ('[[0, 5], [10, 14]]') or the text with "
           "it marked ('the [[very good]] film'); a cell that cannot be read is counted, not fatal.", DATA),
    Option("source_column", None, "Generation: the column of each row's source text (the prompt's {source}) "
           "[default: --text-column].", DATA),
    Option("target_column", None, "Generation: the column of each row's reference output, explained under teacher "
           "forcing [default: none; the model's greedy output is explained].", DATA),
    Option("alignment_column", None, "Generation: the column of each row's gold word alignment in Pharaoh format "
           "('0-0 1-2 ...': source word - reference word, whitespace words from 0; 'i?j' a possible link), scored "
           "by alignment error rate; needs --target-column.", DATA),
    Option("encoding", "utf-8", "Text encoding of CSV/TSV/JSONL files.", DATA),
    Option("limit", None, "Explain a seeded, class-stratified sample of this many rows.", SAMPLE, kind="int",
           minimum=1, commands=BOTH,
           demo_help="Held-out reviews to explain, a seeded class-stratified sample [default: 50]."),
    Option("methods", "all", "Comma-separated method names, or 'all' (see `reportgen methods`).", SETTING,
           commands=BOTH),
    Option("target", "pred", "Explain the predicted class or the true label.", SETTING, kind="choice",
           choices=TARGETS),
    Option("threshold", 0.5, "Multi-label: a label is predicted when its probability reaches this.", SETTING,
           kind="number", between=(0.0, 1.0)),
    Option("seed", 0, "Seed for the --limit sample and the random methods (random, lime, shap).", SETTING,
           kind="int", allowed=SEEDS, commands=BOTH, demo_help="Seed for sampling and random methods."),
    Option("max_batch_tokens", None, "Most padded tokens in one model batch [default: "
           f"{DEFAULT_MAX_BATCH_TOKENS['cpu']:,} on CPU, {DEFAULT_MAX_BATCH_TOKENS['cuda']:,} on CUDA].", SETTING,
           kind="int", minimum=1),
    Option("max_batch_size", DEFAULT_MAX_BATCH_SIZE, "Most sequences in one model batch.", SETTING, kind="int",
           minimum=1, flag="--batch-size"),
    Option("precision", "float32", "bfloat16 runs the model under bfloat16 autocast: scores within the tolerance "
           "the README states; faster where the hardware has native bfloat16, slower where it is emulated.",
           SETTING, kind="choice", choices=PRECISIONS, commands=BOTH),
    Option("method_params", {}, "Set a method's parameter, e.g. lime.num_samples=1000 (value read as JSON, else "
           "text). Repeatable.", SETTING, kind="params", flag="--param", metavar="METHOD.KEY=VALUE", commands=BOTH),
    Option("attention_maps", 10, "Examples whose full attention maps the explorer shows: the first of its review "
           "order (errors, then the least confident).",
           SETTING, kind="int", minimum=0, flag=NO_FLAG),
    Option("attention_budget", ATTENTION_BUDGET, "Attention weights the kept maps hold in all (layers x heads x "
           "tokens squared per example): an example whose maps do not fit in what is left is passed over for the "
           "next one in the review order.", SETTING, kind="int", minimum=0, flag=NO_FLAG),
    Option("contrast", True, "Also explain each misclassified example for its true class (with --target label: its "
           "predicted class), with every method whose scores depend on the class.", SETTING, kind="flag",
           flag="--no-contrast", commands=BOTH),
    Option("sanity_examples", None, "Sanity checks: explain this many sampled examples again with the model's "
           "parameters randomised, layer after layer from the head down and each layer alone; 0 skips them "
           "[default: as many as cost at most a quarter of the main pass, at most 100].", SETTING,
           kind="int", minimum=0, commands=BOTH, demo_help="Sanity checks: explain this many sampled examples "
           "again with the model's parameters randomised; 0 skips them [default: 2]."),
    Option("metrics", "all", "Statistics to compute: comma-separated metric names, or 'all'.", SETTING,
           flag=NO_FLAG),
    Option("metric_params", {}, "Set a statistic's parameter, e.g. faithfulness.keep_entity=true (value read as "
           "JSON, else text; see each statistic's parameters in the report's methodology). Repeatable.", SETTING,
           kind="params", flag="--metric-param", metavar="METRIC.KEY=VALUE"),
    Option("replacement", "auto", "The token that stands for a removed one in occlusion and faithfulness: mask, "
           "pad, eos, unk or a token of the vocabulary [default: the mask token, else the padding token].", MODEL),
    Option("long_text", "truncate", "Texts longer than the model reads: truncate (what the model sees) or window "
           "(overlapping windows of the model's length; the prediction is the mean of the windows' logits, and "
           "each token's score the mean over the windows that hold it).", SETTING, kind="choice", choices=LONG_TEXT),
    Option("window_stride", None, "--long-text window: the most tokens between the starts of two windows (each "
           "starts at a word) [default: half of a window's text].", SETTING, kind="int", minimum=1),
    Option("max_windows", 16, "--long-text window: a document is read up to the tokens this many windows cover; "
           "the rest is cut (and counted as truncated).", SETTING, kind="int", minimum=1),
    Option("device", None, "torch device [default: cuda when present, else cpu].", MODEL),
    Option("max_length", None, "Truncate texts to this many tokens [default: the model's maximum].", MODEL,
           kind="int", minimum=2),
    Option("allow_pickle", False, "Allow pickled weights (pytorch_model.bin): they can run code.", MODEL,
           kind="flag"),
    Option("trust_remote_code", False, "Allow model code from the model's folder or hub repo.", MODEL, kind="flag"),
    Option("zero_shot_labels", None, "Zero-shot classification with an NLI model: the candidate labels, "
           "comma-separated; each text is paired with one hypothesis per label (the zero_shot task).", MODEL),
    Option("hypothesis_template", DEFAULT_TEMPLATE, "With --zero-shot-labels: the hypothesis, {} standing for "
           "the label.", MODEL),
    Option("prompt_template", DEFAULT_PROMPT, "Generation: the prompt, {source} standing for the row's source text.",
           MODEL),
    Option("chat_template", False, "Generation with a causal language model: put each prompt in the tokenizer's "
           "chat template as one user message, the assistant's turn opened.", MODEL, kind="flag"),
    Option("max_new_tokens", DEFAULT_NEW_TOKENS, "Generation without --target-column: the most tokens of greedy output.", MODEL,
           kind="int", minimum=1),
    Option("predict", None, "A black-box model instead of --model: module:function or file.py:function, a function "
           "from a list of texts to class probabilities (one row per text, summing to 1), e.g. a TensorFlow, JAX, "
           "ONNX or served model. Explained by removing words: occlusion, lime, shap, random.", MODEL,
           metavar="MODULE:FUNCTION"),
    Option("tokenizer", None, "With --predict: the tokenizer folder or hub id that cuts its texts into words.",
           MODEL),
    Option("class_names", None, "With --predict: the class names in the order of its columns, comma-separated "
           "[default: the id2label of a config.json in the tokenizer folder, else 0, 1, ...].", MODEL),
    Option("data", None, "CSV, TSV, JSONL, Parquet file, or a saved Hugging Face datasets folder.", DATA,
           kind="path", required=True),
    Option("out", Path("report.html"), "Where to write the HTML report.", OUTPUT, kind="file", commands=BOTH),
    Option("results", None, "Folder for the machine-readable results [default: results/ beside the report].",
           OUTPUT, kind="folder", commands=BOTH),
    Option("overwrite", False, "Replace the previous run in the results folder (its own files only; a folder "
           "holding a reportgen run of other model, data or settings is refused without it).", OUTPUT, kind="flag",
           commands=BOTH),
    Option("keep_checkpoint", False, "Keep the checkpoint (RESULTS/partial) of a finished run, so that a rerun "
           "with a method changed recomputes only that method.", OUTPUT, kind="flag", commands=BOTH),
    Option("default_budgets", False, "Run layer IG, LIME and SHAP at their default budgets instead of the demo's "
           "smaller ones.", COMMAND, kind="flag", commands=("demo",)),
    Option("plugins", (), "Register a custom explainer (module or .py file, then ':' and the class). Repeatable.",
           COMMAND, kind="repeat", flag="--plugin", metavar="MODULE:ATTR"),
    Option("progress", "auto", "Progress on standard error: a bar on a terminal, plain lines now and then "
           "elsewhere (a log, CI), or none.", COMMAND, kind="choice", choices=MODES, also=(True, False),
           commands=BOTH),
    Option("quiet", False, "No progress (--progress none).", COMMAND, kind="flag", commands=BOTH),
)
BY_NAME = {option.name: option for option in OPTIONS}
SETTINGS = tuple(option for option in OPTIONS if option.group == SETTING)
COMMAND_LINE_ONLY = ("out", "plugins")  # the Python API writes its outputs with write_outputs, plugins by import


def for_command(command: str) -> list[Option]:
    """The options a command (run, demo) takes, in table order."""
    return [option for option in OPTIONS if command in option.commands]


def api_options(command: str) -> list[Option]:
    """The keyword arguments of the Python function behind a command."""
    return [option for option in for_command(command)
            if option.name not in COMMAND_LINE_ONLY and option.name not in ("model", "data")]


def chosen(command: str, given: dict[str, Any]) -> dict[str, Any]:
    """Every option of ``command`` with its given value or its default, each checked."""
    known = {option.name: option for option in api_options(command)}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise UnknownParameterError("function", command if command != "run" else "explain", unknown, list(known))
    values = {name: given[name] if name in given else option.fresh_default() for name, option in known.items()}
    for name, value in values.items():
        known[name].check(value)
    return values


def of_group(values: dict[str, Any], group: str) -> dict[str, Any]:
    return {name: value for name, value in values.items() if BY_NAME[name].group == group}


def signature(command: str, *leading: str) -> inspect.Signature:
    """The signature of the Python function behind ``command``: ``leading`` positional, the options by keyword."""
    first = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in leading]
    rest = [inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY, default=option.default)
            for option in api_options(command)]
    return inspect.Signature(first + rest)


def described(command: str) -> str:
    """The options of ``command`` as a docstring section."""
    return "\n".join(f"    {option.name} (default {option.default!r}): {option.help_for(command)}"
                     for option in api_options(command))


def _check_config(config: Any) -> None:
    for option in SETTINGS:
        option.check(getattr(config, option.name))
    config.methods = explainers.resolve(config.methods)
    for name in config.method_params:
        if name not in config.methods:
            raise ReportgenError(f"parameters given for {name!r}, which is not among the methods run")


RunConfig = dataclasses.make_dataclass(
    "RunConfig",
    [(option.name, Any, dataclasses.field(default_factory=option.fresh_default)) for option in SETTINGS],
    namespace={"__post_init__": _check_config,
               "__doc__": "Everything that decides the scores of a run: the SETTING options of ``OPTIONS``."},
)
RunConfig.__module__ = __name__
