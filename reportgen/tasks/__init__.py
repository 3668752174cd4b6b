"""Registered tasks (kinds of model). Importing this package registers every module in it."""

from __future__ import annotations

from typing import Any

from ..errors import ReportgenError
from ..registry import import_modules
from ..results.records import RunResult
from .base import Encoded, Task, tasks

DEFAULT_TASK = "sequence_classification"
AUTO = "auto"
MULTI_LABEL = "multi_label"

import_modules(__name__, __path__)

from .multi_label import MULTI_LABEL_PROBLEM, is_multi_label  # noqa: E402 - registered with the others above


def choose_task(requested: str, config: Any, paired: bool, multi_label: bool = False) -> str:
    """The task ``--task requested`` means: the name itself, or for 'auto' the first task (by order) that
    fits the model's config and the data (``paired``: a second text column was given). ``multi_label``
    (--multi-label) means the multi_label task whatever the config says."""
    if multi_label:
        if requested not in (AUTO, MULTI_LABEL):
            raise ReportgenError(f"--multi-label takes the {MULTI_LABEL} task, and --task asks for {requested!r}; "
                                 "give one of them")
        return MULTI_LABEL
    if requested != AUTO:
        return tasks.get(requested).name
    fitting = [cls for cls in sorted(tasks, key=lambda cls: cls.order) if cls.fits(config, paired)]
    if not fitting:
        kind = getattr(config, "model_type", None) or "unknown"
        raise ReportgenError(f"no task fits a model of type {kind!r} with {'two texts' if paired else 'one text'} "
                             f"per example; choose one with --task ({', '.join(tasks.names())})")
    if is_multi_label(config) and not fitting[0].per_label:
        raise ReportgenError(f"the model's config declares problem_type {MULTI_LABEL_PROBLEM!r} (a sigmoid per "
                             f"label), which the {fitting[0].name} task it would take does not read; choose a task "
                             "with --task")
    return fitting[0].name


def check_segments(task: Task, paired: bool) -> None:
    """Refuse, in one line, data of two texts per example for a task that reads one, and the other way round."""
    readers = ", ".join(cls.name for cls in tasks if cls.reads_pairs)
    if paired and not task.reads_pairs and not task.reads_references:
        raise ReportgenError(f"--text-pair-column gives two texts per example, but the {task.name} task reads one; "
                             f"use --task auto or a task that reads pairs ({readers})")
    if task.reads_pairs and not paired:
        raise ReportgenError(f"the {task.name} task reads two texts per example: name the column of the second "
                             "with --text-pair-column")


def task_of(run: RunResult) -> Task:
    """The task a saved run was made with (results written before tasks existed: sequence classification)."""
    return tasks.get(str(run.model.get("task") or run.config.get("task") or DEFAULT_TASK))()


__all__ = ["AUTO", "DEFAULT_TASK", "check_segments", "choose_task", "Encoded", "Task", "task_of", "tasks"]
