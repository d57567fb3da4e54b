"""The data manager: puts staging into the task graph (``DataManager(dfk)``, made by the kernel).

For every ``File`` an app reads or writes, the first provider in the executor's
``storage_access`` (``default_staging`` when that is None) that accepts the file decides how
it moves: a separate staging task the app waits for (stage-in) or whose completion marks the
output done (stage-out), and/or a wrapper around the app's own task. ``storage_access=[]``
turns staging off: Files reach the app untouched.

Providers get the executor *label* and this manager, which is their
:class:`~parsl._staging.base.StagingContext`: it finds executors and their ``working_dir``
and submits staging tasks through the DFK it was made with (``dm.dfk``, which Parsl-written
``Staging`` subclasses use directly). It imports nothing of the kernel or the app layer.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from parsl._base.files import File
from parsl._base.futures import DataFuture
from parsl._staging.base import Staging, StagingExecutor, StagingKernel, TaskFuture
from parsl._staging.schemes.ftp import FTPSeparateTaskStaging
from parsl._staging.schemes.http import HTTPSeparateTaskStaging
from parsl._staging.schemes.noop import NoOpFileStaging
from parsl._staging.schemes.zip import ZipFileStaging


def _default_staging() -> List[Staging]:
    return [NoOpFileStaging(), FTPSeparateTaskStaging(), HTTPSeparateTaskStaging(), ZipFileStaging()]


#: Parsl's default providers: local files as they are; FTP, HTTP(S) and zip in separate tasks.
default_staging: List[Staging] = _default_staging()


class DataManager:
    """Staging for one DFK; the kernel calls it for Files in args, ``inputs`` and ``outputs``."""

    def __init__(self, dfk: StagingKernel):
        self.dfk = dfk
        self._local_untouched: Dict[str, bool] = {}

    # -- the context providers use ---------------------------------------------------------------
    def executor(self, executor: Union[str, StagingExecutor]) -> Tuple[str, StagingExecutor]:
        """(label, executor object) from what a provider was given: the data manager passes the
        label, as Parsl does; a provider written against an executor object gets that too."""
        if isinstance(executor, str):
            return executor, self.dfk.executors[executor]
        return executor.label, executor

    def working_dir(self, executor: Union[str, StagingExecutor]) -> Optional[str]:
        return self.executor(executor)[1].working_dir

    def submit_task(self, func: Callable[..., Any], executor_label: str,
                    *args: Any, **kwargs: Any) -> TaskFuture:
        """Submit ``func(*args, **kwargs)`` as a staging task on ``executor_label``.

        An ordinary task of the DFK, as a ``python_app`` call makes it (retries, monitoring
        under ``func.__name__``, a place in the graph; never memoized). None of the app
        layer's wrappers apply: staging functions declare every keyword they are given
        (``outputs``/``inputs``, ``parent_fut``, ``_parsl_staging_inhibit``), and take no
        ``walltime``.
        """
        return self.dfk.submit(func, app_args=args, executors=[executor_label], cache=False,
                               ignore_for_cache=None, app_kwargs=kwargs)

    # -- provider choice -------------------------------------------------------------------------
    def _storage_access(self, label: str) -> List[Staging]:
        sa = self.dfk.executors[label].storage_access
        return default_staging if sa is None else sa

    def _provider_for(self, file: File, label: str, direction: str) -> Optional[Staging]:
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
    def stage_in(self, file: Union[File, DataFuture], func: Callable,
                 executor_label: str) -> Tuple[Any, Callable]:
        """Returns (what the task gets in place of ``file``, the possibly wrapped func).

        ``file`` is a File or a DataFuture (a File some other task produces)."""
        f: File = file.file_obj if isinstance(file, DataFuture) else file
        p = self._provider_for(f, executor_label, "in")
        if p is None or type(p) is NoOpFileStaging:
            return file, func  # nothing moves: keep the user's object (the fast path)
        copy = f.cleancopy()
        # the task sees the copy (with its local_path); the user's File stays as given
        replacement: Union[File, DataFuture] = copy
        if isinstance(file, DataFuture):
            replacement = parent = DataFuture(file, copy, tid=file.tid)
            staged = p.stage_in(self, executor_label, copy, parent)
        else:
            staged = p.stage_in(self, executor_label, copy, None)
        wrapped = p.replace_task(self, executor_label, copy, func)
        return (staged if staged is not None else replacement), (func if wrapped is None else wrapped)

    # -- stage-out -----------------------------------------------------------------------------
    def stage_out(self, file: File, executor_label: str, app_fut: Any) -> Any:
        """A future for the staged-out file (None: the output is done when the app is)."""
        p = self._provider_for(file, executor_label, "out")
        if p is None or type(p) is NoOpFileStaging:
            return None
        return p.stage_out(self, executor_label, file, app_fut)

    def replace_task_stage_out(self, file: File, func: Callable, executor_label: str) -> Callable:
        p = self._provider_for(file, executor_label, "out")
        if p is None or type(p) is NoOpFileStaging:
            return func
        wrapped = p.replace_task_stage_out(self, executor_label, file, func)
        return func if wrapped is None else wrapped


DataManager.__module__ = "parsl.data_provider.data_manager"
