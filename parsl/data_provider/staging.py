"""The ``Staging`` interface a staging provider implements (``parsl.data_provider.staging``)."""
from __future__ import annotations


class Staging:
    """Base class: says which files it can stage, and how.

    ``stage_in``/``stage_out`` may return a Future (a separate staging task the app waits for,
    or that must finish before the output counts as done); ``replace_task``/
    ``replace_task_stage_out`` may return a wrapped function that stages inside the task.
    """

    def can_stage_in(self, file) -> bool:
        return False

    def can_stage_out(self, file) -> bool:
        return False

    def stage_in(self, dm, executor, file, parent_fut):
        return None

    def stage_out(self, dm, executor, file, app_fu):
        return None

    def replace_task(self, dm, executor, file, func):
        return None

    def replace_task_stage_out(self, dm, executor, file, func):
        return None
