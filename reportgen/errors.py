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


def first_line(err: BaseException) -> str:
    """The first line of an exception's message, for one-line error reports."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def reason(err: BaseException) -> str:
    """Why something failed, for the record of a failed example or plugin: 'TypeName: first line'."""
    return f"{type(err).__name__}: {first_line(err)}"
