"""rsync: copy one file over ssh inside the app's task (``RSyncStaging(hostname)``).

For workers that do not share a file system with the submitting host: a ``file`` path
names a file on ``hostname`` (usually the submit host, ``user@host``); the app's task pulls
it with rsync before running and pushes outputs back after. ssh must reach ``hostname``
from the workers without a password; ``RSYNC_RSH`` (rsync's own variable) chooses the ssh
command, e.g. ``ssh -F /path/ssh_config``; otherwise ssh reads ``~/.ssh/config`` as usual.
Put it before ``NoOpFileStaging`` in ``storage_access`` (the first provider that accepts a
file wins), e.g. ``storage_access=[RSyncStaging('me@login1')]``.

Its moves depend on the provider's ``hostname``, so it registers no transfer for ``file``
URLs (which, without it, need none): the wrappers carry everything they need.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import Future
from typing import Any, Callable, List, Optional, Tuple, Type

from parsl._base.files import File
from parsl._staging.base import Staging, StagingContext, StagingFuture, local_path_of
from parsl._staging.shapes import _Wrapper, local_path_for

TIMEOUT_S = 600.0


def command(source: str, dest: str) -> List[str]:
    """The rsync argv: archive mode keeps times and permissions; no recursion surprises
    because a staged ``File`` is one file."""
    return ["rsync", "-a", "--", source, dest]


def copy(source: str, dest: str, url: str, direction: str) -> None:
    """Run rsync from ``source`` to ``dest``; ``FileNotFoundError`` naming ``url`` and rsync's
    own error output on failure."""
    if shutil.which("rsync") is None:
        raise FileNotFoundError(f"Could not stage {direction} {url}: the rsync command is not "
                                "installed on this host; install rsync (e.g. apt-get install rsync)")
    if direction == "in":
        parent = os.path.dirname(os.path.abspath(dest))
        os.makedirs(parent, exist_ok=True)
    try:
        run = subprocess.run(command(source, dest), stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FileNotFoundError(f"Could not stage {direction} {url}: rsync {source} {dest} "
                                f"took longer than {TIMEOUT_S:.0f} s") from exc
    if run.returncode != 0:
        detail = (run.stderr or run.stdout).strip().splitlines()
        raise FileNotFoundError(f"Could not stage {direction} {url}: rsync {source} {dest} exited "
                                f"with {run.returncode}: {' | '.join(detail[-3:])}")


# -- in-task wrappers ----------------------------------------------------------------------

class RsyncInThenRun(_Wrapper):
    """Pull ``hostname:remote_path`` to ``local_path``, then run the task.

    Paths are plain strings fixed at submit time (not read from the File on the worker), so
    they survive pickling to another process unchanged.
    """

    def __init__(self, func: Callable, url: str, remote: str, local_path: str,
                 working_dir: Optional[str]):
        super().__init__(func)
        self.url, self.remote, self.local_path, self.working_dir = url, remote, local_path, working_dir

    def _fields(self) -> Tuple[Any, ...]:
        return (self.func, self.url, self.remote, self.local_path, self.working_dir)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.working_dir:
            os.makedirs(self.working_dir, exist_ok=True)
        copy(self.remote, self.local_path, self.url, "in")
        return self.func(*args, **kwargs)


class RunThenRsyncOut(RsyncInThenRun):
    """Run the task, then push ``local_path`` to ``hostname:remote_path``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.working_dir:
            os.makedirs(self.working_dir, exist_ok=True)
        result = self.func(*args, **kwargs)
        copy(self.local_path, self.remote, self.url, "out")
        return result


# -- the provider ------------------------------------------------------------------------------

class RSyncStaging(Staging):
    """Move ``file`` URLs to and from ``hostname`` with rsync inside the app's task."""

    def __init__(self, hostname: str):
        if not hostname or not isinstance(hostname, str):
            raise ValueError(f"RSyncStaging(hostname=...) needs the rsync host, e.g. 'user@login1'; got {hostname!r}")
        self.hostname = hostname

    def can_stage_in(self, file: File) -> bool:
        return file.scheme == "file"

    def can_stage_out(self, file: File) -> bool:
        return file.scheme == "file"

    def _localize(self, dm: StagingContext, executor: str, file: File) -> None:
        # the remote side of rsync needs an absolute path: relative paths would be taken
        # relative to the login directory on hostname, not to where the user ran the script
        file.path = os.path.abspath(file.path)
        file.local_path = local_path_for(file.filename, dm.working_dir(executor))

    def stage_in(self, dm: StagingContext, executor: str, file: File,
                 parent_fut: Optional[Future]) -> Optional[StagingFuture]:
        self._localize(dm, executor, file)
        return None

    def stage_out(self, dm: StagingContext, executor: str, file: File,
                  app_fu: Future) -> Optional[StagingFuture]:
        self._localize(dm, executor, file)
        return None

    def _wrap(self, cls: Type[RsyncInThenRun], dm: StagingContext, executor: str, file: File,
              func: Callable) -> RsyncInThenRun:
        return cls(func, file.url, f"{self.hostname}:{file.path}", local_path_of(file),
                   dm.working_dir(executor))

    def replace_task(self, dm: StagingContext, executor: str, file: File,
                     func: Callable) -> Optional[Callable]:
        return self._wrap(RsyncInThenRun, dm, executor, file, func)

    def replace_task_stage_out(self, dm: StagingContext, executor: str, file: File,
                               func: Callable) -> Optional[Callable]:
        return self._wrap(RunThenRsyncOut, dm, executor, file, func)

    def __repr__(self) -> str:
        return f"RSyncStaging({self.hostname!r})"


RSyncStaging.__module__ = "parsl.data_provider.rsync"
