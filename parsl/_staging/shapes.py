"""The shapes of staging every download scheme shares.

- :class:`SeparateTaskDownload`: a download task of its own on the app's executor, which the
  app waits for (the app's worker must see the same file system: the file lands in
  ``working_dir``).
- :class:`InTaskDownload`: the download runs inside the app's own task, just before the app
  (:class:`StageInThenRun` wraps the app's function); no shared file system is needed.

A scheme subclasses them and lists its URL schemes; the functions come from the registry.
``_Wrapper`` is the base of every in-task wrapper (rsync's too): picklable, and it keeps the
wrapped function's name and ``__wrapped__`` so memo keys and monitoring see the user's function.
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import Future
from typing import Any, Callable, Optional, Tuple, cast

from parsl._base.files import File
from parsl._base.futures import DataFuture
from parsl._staging.base import Staging, StagingContext, StagingFuture, TaskFuture
from parsl._staging.registry import Move, transfer_for


def local_path_for(filename: str, working_dir: Optional[str]) -> str:
    """Where a downloaded file is placed: ``working_dir/filename``, else ``filename``
    (relative to the task's current directory), as Parsl does."""
    if working_dir:
        return os.path.join(working_dir, filename)
    return filename


def data_future(task_fut: TaskFuture, file: File) -> DataFuture:
    """A DataFuture for ``file`` that completes when the staging task ``task_fut`` does."""
    # the kernel's task future (an AppFuture) is a concurrent.futures.Future with a task id
    return DataFuture(cast("Future[Any]", task_fut), file, tid=task_fut.tid)


# -- in-task wrappers ----------------------------------------------------------------------

class _Wrapper:
    """A picklable function wrapper that keeps the wrapped function's name and docs."""

    def __init__(self, func: Callable):
        # updated=(): copying the wrapped object's __dict__ would, for a wrapper of a
        # wrapper, overwrite our own fields with the inner wrapper's
        functools.update_wrapper(cast(Callable, self), func, updated=())
        self.func = func

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        # update_wrapper copies __dict__ and __wrapped__; rebuild from the fields instead
        return (type(self), self._fields())

    def _fields(self) -> Tuple[Any, ...]:
        return (self.func,)


class StageInThenRun(_Wrapper):
    """Fetch one input into place with ``fetch`` (a module-level function of its scheme,
    pickled by reference), then run the task."""

    def __init__(self, func: Callable, file: File, working_dir: Optional[str], fetch: Move):
        super().__init__(func)
        self.file = file
        self.working_dir = working_dir
        self.fetch = fetch

    def _fields(self) -> Tuple[Any, ...]:
        return (self.func, self.file, self.working_dir, self.fetch)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.working_dir:
            os.makedirs(self.working_dir, exist_ok=True)
        self.fetch(self.file)
        return self.func(*args, **kwargs)


# -- the two download shapes -------------------------------------------------------------------

class SeparateTaskDownload(Staging):
    """Stage in with a separate download task (the scheme's ``stage_in_task``) on the app's
    executor."""

    schemes: Tuple[str, ...] = ()

    def can_stage_in(self, file: File) -> bool:
        return file.scheme in self.schemes

    def stage_in(self, dm: StagingContext, executor: str, file: File,
                 parent_fut: Optional[Future]) -> Optional[StagingFuture]:
        label, _ = dm.executor(executor)
        working_dir = dm.working_dir(executor)
        file.local_path = local_path_for(file.filename, working_dir)
        task = transfer_for(file.scheme).stage_in_task
        if task is None:
            raise ValueError(f"URL scheme {file.scheme!r} registered no separate stage-in task")
        fut = dm.submit_task(task, label, working_dir, outputs=[file], _parsl_staging_inhibit=True,
                             parent_fut=parent_fut)
        return data_future(fut, file)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class InTaskDownload(Staging):
    """Stage in inside the app's own task with the scheme's ``fetch``."""

    schemes: Tuple[str, ...] = ()

    def can_stage_in(self, file: File) -> bool:
        return file.scheme in self.schemes

    def stage_in(self, dm: StagingContext, executor: str, file: File,
                 parent_fut: Optional[Future]) -> Optional[StagingFuture]:
        file.local_path = local_path_for(file.filename, dm.working_dir(executor))
        return None

    def replace_task(self, dm: StagingContext, executor: str, file: File,
                     func: Callable) -> Optional[Callable]:
        fetch = transfer_for(file.scheme).fetch
        if fetch is None:
            raise ValueError(f"URL scheme {file.scheme!r} registered no fetch")
        return StageInThenRun(func, file, dm.working_dir(executor), fetch)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
