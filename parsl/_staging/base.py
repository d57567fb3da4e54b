"""The seams of staging: the ``Staging`` provider interface, and what a provider is handed.

A provider is given ``dm`` (a :class:`StagingContext`: the DFK's data manager) and the
executor *label*, as in Parsl. Through the context it finds the executor, its
``working_dir``, and submits separate staging tasks to the kernel; it never imports the app
layer. Parsl-written providers use ``dm.dfk`` directly, which the context keeps.

Nothing here imports the kernel: the kernel is named only by the :class:`StagingKernel`
protocol (the part of the DataFlowKernel staging uses).
"""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple, Union

from parsl._base.files import File

#: The DFK's executor for its own tasks (joins, lifted operators, Globus transfers).
INTERNAL_EXECUTOR = "_parsl_internal"


class StagingExecutor(Protocol):
    """The part of an executor staging reads (``ParslExecutor`` has all three)."""

    label: str
    storage_access: Optional[List[Staging]]
    working_dir: Optional[str]


class TaskFuture(Protocol):
    """What ``dfk.submit`` returns (an AppFuture), as far as staging uses it."""

    @property
    def tid(self) -> int: ...

    def add_done_callback(self, fn: Callable[[Future], object]) -> None: ...


#: What ``Staging.stage_in``/``stage_out`` may return: any Future, or the kernel's task future.
StagingFuture = Union[Future, TaskFuture]


class StagingKernel(Protocol):
    """The part of the DataFlowKernel staging uses: its executors, and ``submit``."""

    @property
    def executors(self) -> Mapping[str, StagingExecutor]: ...

    def submit(self, func: Callable[..., Any], app_args: Sequence[Any] = (),
               executors: Union[str, Sequence[str]] = "all", cache: bool = False,
               ignore_for_cache: Optional[Sequence[str]] = None,
               app_kwargs: Optional[Dict[str, Any]] = None, join: bool = False) -> TaskFuture: ...


class StagingContext(Protocol):
    """What a provider is handed as ``dm``; ``parsl._staging.manager.DataManager`` is one."""

    @property
    def dfk(self) -> StagingKernel: ...

    def executor(self, executor: Union[str, StagingExecutor]) -> Tuple[str, StagingExecutor]: ...

    def working_dir(self, executor: Union[str, StagingExecutor]) -> Optional[str]: ...

    def submit_task(self, func: Callable[..., Any], executor_label: str,
                    *args: Any, **kwargs: Any) -> TaskFuture: ...


class Staging:
    """Base class: says which files it can stage, and how.

    ``stage_in``/``stage_out`` may return a Future (a separate staging task the app waits for,
    or that must finish before the output counts as done); ``replace_task``/
    ``replace_task_stage_out`` may return a wrapped function that stages inside the task.
    """

    def can_stage_in(self, file: File) -> bool:
        return False

    def can_stage_out(self, file: File) -> bool:
        return False

    def stage_in(self, dm: StagingContext, executor: str, file: File,
                 parent_fut: Optional[Future]) -> Optional[StagingFuture]:
        return None

    def stage_out(self, dm: StagingContext, executor: str, file: File,
                  app_fu: Future) -> Optional[StagingFuture]:
        return None

    def replace_task(self, dm: StagingContext, executor: str, file: File,
                     func: Callable) -> Optional[Callable]:
        return None

    def replace_task_stage_out(self, dm: StagingContext, executor: str, file: File,
                               func: Callable) -> Optional[Callable]:
        return None


def local_path_of(file: File) -> str:
    """``file.local_path``, which the provider set before the file moves."""
    if file.local_path is None:
        raise ValueError(f"{file.url} has no local_path: no staging provider placed it")
    return file.local_path


Staging.__module__ = "parsl.data_provider.staging"
