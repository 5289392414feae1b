"""The task runner the parse tasks run on, chosen once for every flow."""

from __future__ import annotations

from typing import Any, cast

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner

from pipeline.ingest import default_workers


def parse_task_runner() -> TaskRunner[Any]:
    """Processes: the parsers are pure Python and hold the GIL, so threads would not run them in
    parallel. (Prefect types each runner with its own future class, hence the cast.)"""
    return cast("TaskRunner[Any]", ProcessPoolTaskRunner(max_workers=default_workers()))
