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


def first_line(err: BaseException) -> str:
    """The first line of an exception's message, for one-line error reports."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
