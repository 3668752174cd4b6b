"""Progress in a log: plain lines at a steady interval (stage, done/total, rate, time left, the slowest method),
no cursor codes; a bar on a terminal; --progress and --quiet choose."""

from __future__ import annotations

import io

from reportgen.explain.lines import ProgressLines, duration, progress_mode
from reportgen.explain.progress import ProgressBars

from support.cli import invoke


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_lines_come_at_the_interval_with_rate_and_time_left():
    clock, stream = Clock(), io.StringIO()
    lines = ProgressLines("explain", 100, stream, clock, interval=10)
    clock.now += 4
    lines.advance("saliency", 1.0, 10)
    assert stream.getvalue() == ""  # not yet 10 s
    clock.now += 6
    lines.advance("lime", 8.0, 20)
    clock.now += 30
    lines.close()
    first, last = stream.getvalue().splitlines()
    assert first == ("[reportgen] explain: 20/100 examples (20%), 2.0 ex/s, about 40 s left; "
                     "slowest method so far: lime (8 s)")
    assert last == "[reportgen] explain: 20 of 100 examples in 40 s"
    assert duration(185) == "3 min 05 s" and duration(7620) == "2 h 07 min"


def test_the_mode_follows_the_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert progress_mode("auto") == "lines" and progress_mode(True) == "lines"
    assert progress_mode(False) == "none" and progress_mode("bar") == "bar"


def test_the_bars_in_lines_mode_print_lines(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    with ProgressBars(["saliency", "occlusion"], 4, "lines") as bars:
        for _ in range(4):
            bars.advance("saliency", 1, 0.1)
            bars.advance("occlusion", 1, 0.2)
    out = stream.getvalue()
    assert out.splitlines()[-1].startswith("[reportgen] explain: 4 of 4 examples in ")
    assert "\r" not in out and "\x1b" not in out


def test_a_run_in_a_log_prints_lines_and_quiet_prints_none(bert_dir, tmp_path, csv_file):
    def run(name, *flags):
        result = invoke("run", "--model", bert_dir, "--data", csv_file, "--out", tmp_path / name / "report.html",
                        "--methods", "saliency", *flags)
        assert result.exit_code == 0, result.output
        return result.stderr

    logged = run("a")  # the runner's standard error is no terminal: lines, no bars
    assert "[reportgen] explain: " in logged and "\r" not in logged and "\x1b" not in logged
    assert "[reportgen]" not in run("b", "--quiet") and "[reportgen]" not in run("c", "--progress", "none")
    assert "[reportgen]" not in run("d", "--progress", "bar")  # a bar, as asked
