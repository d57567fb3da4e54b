"""The data manager: picks a staging provider for each File an app reads or writes."""
from __future__ import annotations

from typing import List

from parsl.data_provider.file_noop import NoOpFileStaging
from parsl.data_provider.staging import Staging


def _default_staging() -> List[Staging]:
    providers: List[Staging] = [NoOpFileStaging()]
    return providers


default_staging: List[Staging] = _default_staging()


class DataManager:
    def __init__(self, dfk):
        self.dfk = dfk

    def _storage_access(self, executor_label):
        ex = self.dfk.executors[executor_label]
        sa = getattr(ex, "storage_access", None)
        return default_staging if sa is None else sa

    def _provider_for(self, file, executor_label, direction):
        for p in self._storage_access(executor_label):
            if (p.can_stage_in(file) if direction == "in" else p.can_stage_out(file)):
                return p
        raise ValueError(f"Executor {executor_label} cannot stage {direction} file {file.url!r}: "
                         f"no staging provider in its storage_access handles scheme {file.scheme!r}. "
                         "Add one (e.g. default_staging + [GlobusStaging(...)]) to storage_access.")

    def stage_in(self, file, func, executor_label):
        """Returns (replacement argument, possibly wrapped func)."""
        from parsl.app.futures import DataFuture
        if isinstance(file, DataFuture):
            parent = file
            file = file.file_obj
        else:
            parent = None
        p = self._provider_for(file, executor_label, "in")
        if isinstance(p, NoOpFileStaging):
            return (parent if parent is not None else file), func
        executor = self.dfk.executors[executor_label]
        file = file.cleancopy() if parent is None else file
        fut = p.stage_in(self, executor, file, parent)
        newfunc = p.replace_task(self, executor, file, func)
        if newfunc is not None:
            func = newfunc
        if fut is not None:
            return fut, func
        return (parent if parent is not None else file), func

    def stage_out(self, file, executor_label, app_fut):
        p = self._provider_for(file, executor_label, "out")
        if isinstance(p, NoOpFileStaging):
            return None
        return p.stage_out(self, self.dfk.executors[executor_label], file, app_fut)

    def replace_task_stage_out(self, file, func, executor_label):
        p = self._provider_for(file, executor_label, "out")
        if isinstance(p, NoOpFileStaging):
            return func
        newfunc = p.replace_task_stage_out(self, self.dfk.executors[executor_label], file, func)
        return func if newfunc is None else newfunc
