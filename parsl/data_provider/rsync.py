"""rsync staging (``parsl.data_provider.rsync``): ``RSyncStaging(hostname)``.

For workers that do not share a file system with the submitting host: a ``file`` path
names a file on ``hostname`` (usually the submit host, ``user@host``); the app's task pulls
it with rsync before running and pushes outputs back after. ssh must reach ``hostname``
from the workers without a password; ``RSYNC_RSH`` selects the ssh command.
Put it before ``NoOpFileStaging`` in ``storage_access`` (the first provider that accepts a
file wins), e.g. ``storage_access=[RSyncStaging('me@login1')]``.
"""
from __future__ import annotations

import os

from parsl._staging import submit, tasks
from parsl._staging.paths import local_path_for
from parsl.data_provider.staging import Staging


class RSyncStaging(Staging):
    """Move ``file`` URLs to and from ``hostname`` with rsync inside the app's task."""

    def __init__(self, hostname: str):
        if not hostname or not isinstance(hostname, str):
            raise ValueError(f"RSyncStaging(hostname=...) needs the rsync host, e.g. 'user@login1'; got {hostname!r}")
        self.hostname = hostname

    def can_stage_in(self, file) -> bool:
        return file.scheme == "file"

    def can_stage_out(self, file) -> bool:
        return file.scheme == "file"

    def _localize(self, dm, executor, file):
        # the remote side of rsync needs an absolute path: relative paths would be taken
        # relative to the login directory on hostname, not to where the user ran the script
        file.path = os.path.abspath(file.path)
        file.local_path = local_path_for(file.filename, submit.working_dir_of(dm, executor))

    def stage_in(self, dm, executor, file, parent_fut):
        self._localize(dm, executor, file)
        return None

    def stage_out(self, dm, executor, file, app_fu):
        self._localize(dm, executor, file)
        return None

    def _wrap(self, cls, dm, executor, file, func):
        return cls(func, file.url, f"{self.hostname}:{file.path}", file.local_path,
                   submit.working_dir_of(dm, executor))

    def replace_task(self, dm, executor, file, func):
        return self._wrap(tasks.RsyncInThenRun, dm, executor, file, func)

    def replace_task_stage_out(self, dm, executor, file, func):
        return self._wrap(tasks.RunThenRsyncOut, dm, executor, file, func)

    def __repr__(self):
        return f"RSyncStaging({self.hostname!r})"
