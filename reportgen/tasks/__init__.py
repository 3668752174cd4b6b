"""Registered tasks (kinds of model). Importing this package registers every module in it."""

from __future__ import annotations

from ..registry import import_modules
from ..results.records import RunResult
from .base import Encoded, Task, tasks

DEFAULT_TASK = "sequence_classification"

import_modules(__name__, __path__)


def task_of(run: RunResult) -> Task:
    """The task a saved run was made with (results written before tasks existed: sequence classification)."""
    return tasks.get(str(run.config.get("task", DEFAULT_TASK)))()


__all__ = ["DEFAULT_TASK", "Encoded", "Task", "task_of", "tasks"]
