"""Progress of the explain stage: bars on a terminal, plain lines in a log (explain/lines.py), or nothing."""

from __future__ import annotations

from tqdm.auto import tqdm

from .lines import ProgressLines, progress_mode


class ProgressBars:
    """An overall bar (examples/s and time left), then one bar per method; or, in ``lines`` mode, a line now
    and then (``progress``: auto, bar, lines or none; True and False as auto and none).

    Methods take turns on every batch, so a method's bar moves when it finishes its share
    of a batch, and its rate is its own: examples done / seconds spent in that method.
    """

    def __init__(self, methods: list[str], total: int, progress: str | bool, stage: str = "explain"):
        mode = progress_mode(progress)
        shown = mode == "bar"
        self.lines = ProgressLines(stage, total) if mode == "lines" else None
        self.finished = 0
        self.overall = tqdm(total=total, desc=f"{'all methods':>26}", unit="ex", position=0, disable=not shown)
        self.bars = {name: tqdm(total=total, desc=f"{name:>26}", position=i + 1, disable=not shown,
                                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix}")
                     for i, name in enumerate(methods)}

    def __enter__(self) -> "ProgressBars":
        return self

    def advance(self, method: str, count: int, seconds: float) -> None:
        bar = self.bars[method]
        done = bar.n + count
        rate = f"{done / seconds:.1f} ex/s, " if seconds > 0 else ""
        bar.set_postfix_str(f"{rate}{seconds:.1f} s in this method", refresh=False)
        bar.update(count)
        if method == list(self.bars)[-1]:
            self.overall.update(count)
            self.finished += count
        if self.lines is not None:
            self.lines.advance(method, seconds, self.finished)

    def __exit__(self, *exc) -> None:
        for bar in [self.overall, *self.bars.values()]:
            bar.close()
        if self.lines is not None:
            self.lines.close()
