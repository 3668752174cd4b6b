"""Progress as plain lines, for a log: when standard error is not a terminal (CI, a batch job, a file) a bar
full of cursor codes is unreadable, so the explain stage prints one line at a steady interval instead."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

INTERVAL = 15.0  # seconds between two lines
MODES = ("auto", "bar", "lines", "none")


def progress_mode(progress: str | bool) -> str:
    """bar, lines or none: ``auto`` is a bar on a terminal, lines elsewhere (True, as the Python API took before,
    is auto; False is none)."""
    if progress is True or progress == "auto":
        return "bar" if sys.stderr.isatty() else "lines"
    return "none" if progress is False else str(progress)


def duration(seconds: float) -> str:
    """``seconds`` as a reader says it: 42 s, 3 min 05 s, 2 h 07 min."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class ProgressLines:
    """One line per INTERVAL seconds (and one at the end) on ``stream``: the stage, examples done of all, the
    rate, the time left and the method taking the longest so far."""

    def __init__(self, stage: str, total: int, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, interval: float = INTERVAL):
        self.stage, self.total, self.stream, self.clock, self.interval = stage, total, stream, clock, interval
        self.started = self.last = clock()
        self.done = 0
        self.seconds: dict[str, float] = {}

    def advance(self, method: str, seconds: float, finished_examples: int) -> None:
        """``method`` has spent ``seconds`` in all; ``finished_examples`` are done by every method."""
        self.seconds[method] = seconds
        self.done = finished_examples
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self._print(self._line(now))

    def close(self) -> None:
        elapsed = self.clock() - self.started
        self._print(f"[reportgen] {self.stage}: {self.done:,} of {self.total:,} examples in {duration(elapsed)}")

    def _line(self, now: float) -> str:
        elapsed = now - self.started
        share = self.done / self.total if self.total else 1.0
        line = f"[reportgen] {self.stage}: {self.done:,}/{self.total:,} examples ({share:.0%})"
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            line += f", {rate:.1f} ex/s, about {duration((self.total - self.done) / rate)} left"
        if self.seconds:
            slowest = max(self.seconds, key=self.seconds.get)
            line += f"; slowest method so far: {slowest} ({duration(self.seconds[slowest])})"
        return line

    def _print(self, line: str) -> None:
        stream = self.stream or sys.stderr
        print(line, file=stream, flush=True)
