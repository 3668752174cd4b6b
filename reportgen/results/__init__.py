"""The results of a run: the records, their folder on disk, and the questions later stages ask of them."""

from .records import Attribution, Example, Failure, MethodInfo, RunResult
from .store import FORMAT_VERSION, load, save

__all__ = ["Attribution", "Example", "FORMAT_VERSION", "Failure", "MethodInfo", "RunResult", "load", "save"]
