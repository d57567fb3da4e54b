"""The data manager (``parsl.data_provider.data_manager``): puts staging into the task graph.

For every ``File`` an app reads or writes, the first provider in the executor's
``storage_access`` (``default_staging`` when that is None) that accepts the file decides how
it moves: a separate staging task the app waits for (stage-in) or whose completion marks the
output done (stage-out), and/or a wrapper around the app's own task. ``storage_access=[]``
turns staging off: Files reach the app untouched.

Providers get the executor *label* and this manager (``dm.dfk`` is the DFK), as in Parsl,
so custom ``Staging`` subclasses written for Parsl work unchanged.
"""
from __future__ import annotations

from typing import Dict, List

from parsl.data_provider.file_noop import NoOpFileStaging
from parsl.data_provider.ftp import FTPSeparateTaskStaging
from parsl.data_provider.http import HTTPSeparateTaskStaging
from parsl.data_provider.staging import Staging
from parsl.data_provider.zip import ZipFileStaging


def _default_staging() -> List[Staging]:
    return [NoOpFileStaging(), FTPSeparateTaskStaging(), HTTPSeparateTaskStaging(), ZipFileStaging()]


#: Parsl's default providers: local files as they are; FTP, HTTP(S) and zip in separate tasks.
default_staging: List[Staging] = _default_staging()


class DataManager:
    """Staging for one DFK; the kernel calls it for Files in args, ``inputs`` and ``outputs``."""

    def __init__(self, dfk):
        self.dfk = dfk
        self._local_untouched: Dict[str, bool] = {}

    def _storage_access(self, label: str) -> List[Staging]:
        sa = getattr(self.dfk.executors[label], "storage_access", None)
        return default_staging if sa is None else sa

    def _provider_for(self, file, label: str, direction: str):
        """The first provider that takes ``file``; None when staging is off for ``label``."""
        providers = self._storage_access(label)
        if not providers:
            return None
        for p in providers:
            if p.can_stage_in(file) if direction == "in" else p.can_stage_out(file):
                return p
        raise ValueError(
            f"Executor {label} cannot stage {direction} file {file.url!r}: no provider in its "
            f"storage_access ({', '.join(type(p).__name__ for p in providers)}) handles scheme "
            f"{file.scheme!r}. Add one, e.g. storage_access=default_staging + [GlobusStaging(...)] "
            "for globus:// files.")

    def local_outputs_untouched(self, label: str) -> bool:
        """Whether a local (``file``) output can be handed to the task as the user's own File:
        true when staging is off or ``NoOpFileStaging`` is the first provider, so no provider
        will set its ``local_path``. Otherwise the kernel gives the task a clean copy."""
        known = self._local_untouched.get(label)
        if known is None:
            providers = self._storage_access(label)
            known = not providers or type(providers[0]) is NoOpFileStaging
            self._local_untouched[label] = known
        return known

    # -- stage-in ------------------------------------------------------------------------------
    def stage_in(self, file, func, executor_label):
        """Returns (what the task gets in place of ``file``, the possibly wrapped func).

        ``file`` is a File or a DataFuture (a File some other task produces)."""
        from parsl._base.futures import DataFuture
        parent = file if isinstance(file, DataFuture) else None
        f = parent.file_obj if parent is not None else file
        p = self._provider_for(f, executor_label, "in")
        if p is None or type(p) is NoOpFileStaging:
            return file, func  # nothing moves: keep the user's object (the fast path)
        copy = f.cleancopy()
        # the task sees the copy (with its local_path); the user's File stays as given
        replacement = DataFuture(parent, copy, tid=parent.tid) if parent is not None else copy
        staged = p.stage_in(self, executor_label, copy, replacement if parent is not None else None)
        wrapped = p.replace_task(self, executor_label, copy, func)
        return (staged if staged is not None else replacement), (func if wrapped is None else wrapped)

    # -- stage-out -----------------------------------------------------------------------------
    def stage_out(self, file, executor_label, app_fut):
        """A future for the staged-out file (None: the output is done when the app is)."""
        p = self._provider_for(file, executor_label, "out")
        if p is None or type(p) is NoOpFileStaging:
            return None
        return p.stage_out(self, executor_label, file, app_fut)

    def replace_task_stage_out(self, file, func, executor_label):
        p = self._provider_for(file, executor_label, "out")
        if p is None or type(p) is NoOpFileStaging:
            return func
        wrapped = p.replace_task_stage_out(self, executor_label, file, func)
        return func if wrapped is None else wrapped
