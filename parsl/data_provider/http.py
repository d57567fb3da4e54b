"""HTTP/HTTPS stage-in (``parsl.data_provider.http``).

``HTTPSeparateTaskStaging`` downloads in a task of its own on the app's executor, so the
app's worker must see the same file system (the download lands in ``working_dir``).
``HTTPInTaskStaging`` downloads inside the app's own task, just before the app runs; no
shared file system is needed. Certificates are verified; point ``SSL_CERT_FILE`` at a CA
bundle for self-signed or site certificates.
"""
from __future__ import annotations

from parsl._staging import submit, tasks
from parsl._staging.paths import local_path_for
from parsl.data_provider.staging import Staging

_SCHEMES = ("http", "https")


class HTTPSeparateTaskStaging(Staging):
    """Stage in ``http://``/``https://`` files with a separate download task."""

    def can_stage_in(self, file) -> bool:
        return file.scheme in _SCHEMES

    def stage_in(self, dm, executor, file, parent_fut):
        label, _ = submit.executor_of(dm, executor)
        working_dir = submit.working_dir_of(dm, executor)
        file.local_path = local_path_for(file.filename, working_dir)
        app = submit.staging_app(dm, tasks._http_stage_in, label)
        fut = app(working_dir, outputs=[file], _parsl_staging_inhibit=True, parent_fut=parent_fut)
        return submit.data_future(fut, file)

    def __repr__(self):
        return "HTTPSeparateTaskStaging()"


class HTTPInTaskStaging(Staging):
    """Stage in ``http://``/``https://`` files inside the app's task."""

    def can_stage_in(self, file) -> bool:
        return file.scheme in _SCHEMES

    def stage_in(self, dm, executor, file, parent_fut):
        file.local_path = local_path_for(file.filename, submit.working_dir_of(dm, executor))
        return None

    def replace_task(self, dm, executor, file, func):
        return tasks.StageInThenRun(func, file, submit.working_dir_of(dm, executor))

    def __repr__(self):
        return "HTTPInTaskStaging()"
