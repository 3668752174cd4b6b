"""Errors that reach the user as one line and exit code 2."""


class ReportgenError(Exception):
    """A problem with the user's input or setup, explained in one line."""

    exit_code = 2


class UnknownNameError(ReportgenError, KeyError):
    """A registry lookup for a name nobody registered."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        self.kind, self.name, self.valid = kind, name, valid
        super().__init__(f"unknown {kind} {name!r}; valid names: {', '.join(valid)}")

    def __str__(self) -> str:
        return self.args[0]


class UnknownParameterError(ReportgenError, TypeError):
    """A parameter that a method or a metric does not take."""

    def __init__(self, kind: str, name: str, unknown: list[str], valid: list[str]):
        self.kind, self.name, self.unknown, self.valid = kind, name, unknown, valid
        known = f"valid parameters: {', '.join(valid)}" if valid else "it takes no parameters"
        super().__init__(f"{kind} {name!r} has no parameter {', '.join(map(repr, unknown))}; {known}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so that it unwinds (and saves) like Ctrl-C does."""


class Interrupted(ReportgenError):
    """A run stopped by Ctrl-C (exit 130) or SIGTERM (exit 143), with what it saved for a rerun."""

    def __init__(self, signal_name: str, saved_units: int | None):
        self.exit_code = 143 if signal_name == "SIGTERM" else 130
        saved = (f"{saved_units} units saved, rerun the same command to resume" if saved_units is not None
                 else "what the results folder holds is kept: rerun the same command to resume")
        super().__init__(f"interrupted; {saved}")


def interrupted(err: KeyboardInterrupt, saved_units: int | None) -> Interrupted:
    return Interrupted("SIGTERM" if isinstance(err, Terminated) else "SIGINT", saved_units)


def first_line(err: BaseException) -> str:
    """The first line of an exception's message, for one-line error reports."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def reason(err: BaseException) -> str:
    """Why something failed, for the record of a failed example or plugin: 'TypeName: first line'."""
    return f"{type(err).__name__}: {first_line(err)}"


def printable(text: str, limit: int = 120) -> str:
    """``text`` for a one-line terminal message: control and format characters escaped, cut at ``limit``."""
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                    for c in str(text))
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
