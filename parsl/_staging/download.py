"""The two shapes of download staging that HTTP(S) and FTP share.

A subclass names its URL schemes and, for the separate-task shape, the module-level task
that fetches one file (it must pickle by reference to run on any worker).
"""
from __future__ import annotations

from parsl._staging import submit, tasks
from parsl._staging.paths import local_path_for
from parsl.data_provider.staging import Staging


class SeparateTaskDownload(Staging):
    """Stage in with a separate download task on the app's executor."""

    schemes: tuple = ()
    fetch_task = None  # a function in parsl._staging.tasks

    def can_stage_in(self, file) -> bool:
        return file.scheme in self.schemes

    def stage_in(self, dm, executor, file, parent_fut):
        label, _ = submit.executor_of(dm, executor)
        working_dir = submit.working_dir_of(dm, executor)
        file.local_path = local_path_for(file.filename, working_dir)
        app = submit.staging_app(dm, type(self).fetch_task, label)
        fut = app(working_dir, outputs=[file], _parsl_staging_inhibit=True, parent_fut=parent_fut)
        return submit.data_future(fut, file)

    def __repr__(self):
        return f"{type(self).__name__}()"


class InTaskDownload(Staging):
    """Stage in inside the app's own task (no shared file system needed)."""

    schemes: tuple = ()

    def can_stage_in(self, file) -> bool:
        return file.scheme in self.schemes

    def stage_in(self, dm, executor, file, parent_fut):
        file.local_path = local_path_for(file.filename, submit.working_dir_of(dm, executor))
        return None

    def replace_task(self, dm, executor, file, func):
        return tasks.StageInThenRun(func, file, submit.working_dir_of(dm, executor))

    def __repr__(self):
        return f"{type(self).__name__}()"
