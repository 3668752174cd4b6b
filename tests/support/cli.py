"""Running the command line in-process, and the shape every bad-input error must have."""

import re

from click.testing import CliRunner

from reportgen.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def run_args(model, data, out, methods, *extra):
    """Arguments of a quiet `reportgen run` writing its report to ``out``."""
    return ["run", "--model", model, "--data", data, "--out", out, "--methods", methods, "--quiet", *extra]


def assert_one_line_error(result, pattern):
    """Exit code 2 and one printable line 'error: ...' that matches ``pattern``, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    assert lines[0].startswith("error: ") and lines[0].isprintable(), lines[0]
    assert re.search(pattern, lines[0]), lines[0]


def wait_for_rows(child, rows, count, seconds=120):
    """Wait while ``child`` runs until the checkpoint file ``rows`` holds ``count`` lines (or time runs out)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and child.poll() is None:
        if rows.is_file() and rows.read_text().count("\n") >= count:
            return
        time.sleep(0.05)
