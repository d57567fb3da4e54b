"""FTP stage-in (``parsl.data_provider.ftp``): the same two shapes as HTTP, with ``ftplib``.

``ftp://[user[:password]@]host[:port]/path``; anonymous login when no user is given.
"""
from __future__ import annotations

from parsl._staging import submit, tasks
from parsl._staging.paths import local_path_for
from parsl.data_provider.staging import Staging


class FTPSeparateTaskStaging(Staging):
    """Stage in ``ftp://`` files with a separate download task on the app's executor."""

    def can_stage_in(self, file) -> bool:
        return file.scheme == "ftp"

    def stage_in(self, dm, executor, file, parent_fut):
        label, _ = submit.executor_of(dm, executor)
        working_dir = submit.working_dir_of(dm, executor)
        file.local_path = local_path_for(file.filename, working_dir)
        app = submit.staging_app(dm, tasks._ftp_stage_in, label)
        fut = app(working_dir, outputs=[file], _parsl_staging_inhibit=True, parent_fut=parent_fut)
        return submit.data_future(fut, file)

    def __repr__(self):
        return "FTPSeparateTaskStaging()"


class FTPInTaskStaging(Staging):
    """Stage in ``ftp://`` files inside the app's task."""

    def can_stage_in(self, file) -> bool:
        return file.scheme == "ftp"

    def stage_in(self, dm, executor, file, parent_fut):
        file.local_path = local_path_for(file.filename, submit.working_dir_of(dm, executor))
        return None

    def replace_task(self, dm, executor, file, func):
        return tasks.StageInThenRun(func, file, submit.working_dir_of(dm, executor))

    def __repr__(self):
        return "FTPInTaskStaging()"
