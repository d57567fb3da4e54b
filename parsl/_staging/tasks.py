"""Code that runs where the data goes: staging tasks, and wrappers around an app's task.

Everything here is module-level (or an instance of a module-level class) so that it pickles
by reference and runs on any worker that can ``import parsl``.

Separate staging tasks take the ``File`` to fill in ``outputs`` (stage-in) or ``inputs``
(stage-out), ``_parsl_staging_inhibit`` (tells the kernel not to stage these Files again), and
``parent_fut``: the future that must finish first (the producer of the
file, or the app whose output is being staged out). The kernel waits on it like any
dependency and passes its result, which the task ignores.
"""
from __future__ import annotations

import functools
import os
from typing import Callable, Optional

from parsl._staging import ftp, http, rsync, zipfiles
from parsl._staging.paths import split_zip_path


def _ensure_parent(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)


# -- what one transfer does, by scheme ----------------------------------------------------

def fetch(file) -> None:
    """Bring ``file`` (a File whose ``local_path`` is set) from its URL to ``local_path``."""
    scheme = file.scheme
    if scheme in ("http", "https"):
        http.download(file.url, file.local_path)
    elif scheme == "ftp":
        ftp.download(file.url, file.local_path)
    elif scheme == "zip":
        archive, member = split_zip_path(file.path)
        zipfiles.extract(archive, member, file.local_path, file.url)
    else:
        raise ValueError(f"no fetch for scheme {scheme!r} of {file.url}")


# -- separate tasks --------------------------------------------------------------------------
# Distinct names so monitoring and logs show which kind of staging a task was.

def _http_stage_in(working_dir=None, parent_fut=None, outputs=(), _parsl_staging_inhibit=True):
    fetch(outputs[0])


def _ftp_stage_in(working_dir=None, parent_fut=None, outputs=(), _parsl_staging_inhibit=True):
    fetch(outputs[0])


def _zip_stage_in(working_dir=None, parent_fut=None, outputs=(), _parsl_staging_inhibit=True):
    fetch(outputs[0])


def _zip_stage_out(working_dir=None, parent_fut=None, inputs=(), _parsl_staging_inhibit=True):
    file = inputs[0]
    archive, member = split_zip_path(file.path)
    if not os.path.exists(file.local_path):
        raise FileNotFoundError(f"Could not stage out {file.url}: the app did not create "
                                f"{file.local_path}")
    zipfiles.append(archive, member, file.local_path, file.url)


SEPARATE_STAGE_IN = {"http": _http_stage_in, "https": _http_stage_in,
                     "ftp": _ftp_stage_in, "zip": _zip_stage_in}


# -- in-task wrappers ----------------------------------------------------------------------

class _Wrapper:
    """A picklable function wrapper that keeps the wrapped function's name and docs."""

    def __init__(self, func: Callable):
        # updated=(): copying the wrapped object's __dict__ would, for a wrapper of a
        # wrapper, overwrite our own fields with the inner wrapper's
        functools.update_wrapper(self, func, updated=())
        self.func = func

    def __reduce__(self):
        # update_wrapper copies __dict__ and __wrapped__; rebuild from the fields instead
        return (type(self), self._fields())

    def _fields(self):
        return (self.func,)


class StageInThenRun(_Wrapper):
    """Fetch one input into place, then run the task."""

    def __init__(self, func: Callable, file, working_dir: Optional[str]):
        super().__init__(func)
        self.file = file
        self.working_dir = working_dir

    def _fields(self):
        return (self.func, self.file, self.working_dir)

    def __call__(self, *args, **kwargs):
        if self.working_dir:
            os.makedirs(self.working_dir, exist_ok=True)
        fetch(self.file)
        return self.func(*args, **kwargs)


class RsyncInThenRun(_Wrapper):
    """Pull ``hostname:remote_path`` to ``local_path``, then run the task.

    Paths are plain strings fixed at submit time (not read from the File on the worker), so
    they survive pickling to another process unchanged.
    """

    def __init__(self, func: Callable, url: str, remote: str, local_path: str,
                 working_dir: Optional[str]):
        super().__init__(func)
        self.url, self.remote, self.local_path, self.working_dir = url, remote, local_path, working_dir

    def _fields(self):
        return (self.func, self.url, self.remote, self.local_path, self.working_dir)

    def __call__(self, *args, **kwargs):
        if self.working_dir:
            os.makedirs(self.working_dir, exist_ok=True)
        rsync.copy(self.remote, self.local_path, self.url, "in")
        return self.func(*args, **kwargs)


class RunThenRsyncOut(RsyncInThenRun):
    """Run the task, then push ``local_path`` to ``hostname:remote_path``."""

    def __call__(self, *args, **kwargs):
        if self.working_dir:
            os.makedirs(self.working_dir, exist_ok=True)
        result = self.func(*args, **kwargs)
        rsync.copy(self.local_path, self.remote, self.url, "out")
        return result
