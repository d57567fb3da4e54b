"""A task: its record, its future, and the one function that moves it between states.

``TaskRecord`` is slotted (the kernel may hold 100,000s of pending tasks) and also answers
``rec['key']`` and ``rec['key'] = v``, because Parsl's task record is a dict and users'
retry handlers index it that way.

``AppFuture`` is what an app call returns. ``fut[key]`` and ``fut.attr`` are lifted: they
submit a tiny task on the kernel's internal executor that computes the item or attribute
once this future completes.

States (Parsl's names and values, ``parsl._base.task_states``) change only through
``set_state``, which follows ``LEGAL`` and refuses anything else. Final states have no
way out::

    None -> pending -> launched -> exec_done | failed | fail_retryable | joining
                    -> dep_fail | memo_done | failed (cancelled, or failed before launch)
                    -> fail_retryable                (failed before launch, will retry)
    fail_retryable -> pending;   joining -> exec_done | failed
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from concurrent.futures._base import CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Protocol, Sequence, Tuple, Union, cast

from parsl._base.errors import InternalConsistencyError
from parsl._base.futures import DataFuture, LightFuture
from parsl._base.task_states import States
from parsl._core import registry

logger = logging.getLogger("parsl.dataflow.dflow")
_time = time.time

#: Legal state moves. Everything else is a bug and raises InternalConsistencyError.
LEGAL: Dict[Optional[States], FrozenSet[States]] = {
    None: frozenset({States.pending}),
    States.pending: frozenset({States.launched, States.dep_fail, States.memo_done, States.failed,
                               States.fail_retryable}),
    States.launched: frozenset({States.exec_done, States.failed, States.fail_retryable, States.joining}),
    States.fail_retryable: frozenset({States.pending}),
    States.joining: frozenset({States.exec_done, States.failed}),
}

#: A state change as the monitoring hub takes it (one ``list.extend``, no call): the kernel's
#: typed view of ``parsl._base.monitoring_sink.TaskEvent``.
StateEvent = Tuple["TaskRecord", States, float, int, int, Any]


class _RetriesConfig(Protocol):
    retries: int


class Kernel(Protocol):
    """What a task and its future need from the DataFlowKernel that owns them."""

    @property
    def config(self) -> _RetriesConfig: ...

    def cancel_task(self, rec: TaskRecord) -> bool: ...

    def submit(self, func: Callable[..., Any], app_args: Sequence[Any] = ...,
               executors: Union[str, Sequence[str]] = ..., cache: bool = ...,
               ignore_for_cache: Optional[Sequence[str]] = ...,
               app_kwargs: Optional[Dict[str, Any]] = ..., join: bool = ...) -> AppFuture: ...


class StateObservers(Protocol):
    """What ``set_state`` updates besides the record: counters and the monitoring observers."""

    task_state_counts: Dict[States, int]
    _task_events: Optional[Callable[[StateEvent], None]]
    _observe: Optional[Callable[[TaskRecord, States], None]]


class TaskRecord:
    """Everything the kernel knows about one task."""

    __slots__ = (
        "id", "func", "func_name", "args", "kwargs", "executor", "status", "depends",
        "app_fu", "exec_fu", "fail_count", "fail_cost", "fail_history", "from_memo",
        "memoize", "ignore_for_cache", "hashsum", "join", "joins", "try_id",
        "time_invoked", "time_returned", "try_time_launched", "try_time_returned",
        "resource_specification", "pending_deps", "dfk", "memo_miss_reason",
        "fn_hash", "checkpoint", "_extra",
    )

    id: int
    func: Callable[..., Any]
    func_name: str
    args: Sequence[Any]
    kwargs: Dict[str, Any]
    executor: str
    status: Optional[States]
    depends: Sequence[Future[Any]]
    app_fu: AppFuture
    exec_fu: Any                 # the executor's future, or a marker while claimed/cancelled
    fail_count: int
    fail_cost: float
    fail_history: Sequence[str]   # () until the first failure, then a list
    from_memo: Optional[bool]
    memoize: bool
    ignore_for_cache: Sequence[str]
    hashsum: Optional[str]
    join: bool
    joins: Any                   # what a join app returned: a Future or a list of them
    try_id: int
    time_invoked: Optional[float]
    time_returned: Optional[float]
    try_time_launched: Optional[float]
    try_time_returned: Optional[float]
    resource_specification: Dict[str, Any]
    pending_deps: int
    dfk: Optional[Kernel]
    memo_miss_reason: Any
    fn_hash: Optional[str]
    checkpoint: bool
    _extra: Optional[Dict[str, Any]]

    def __init__(self, tid: int, func: Callable[..., Any], func_name: str, args: Sequence[Any],
                 kwargs: Dict[str, Any], executor: str, dfk: Optional[Kernel]) -> None:
        self.id = tid
        self.func = func
        self.func_name = func_name
        self.args = args
        self.kwargs = kwargs
        self.executor = executor
        self.dfk = dfk
        self.status = None
        self.depends = ()
        self.app_fu = None  # type: ignore[assignment]  # set right after the future is made
        self.exec_fu = None
        self.fail_count = 0
        self.fail_cost = 0.0
        self.fail_history = ()      # the kernel keeps () until the first failure, then a list
        self.from_memo = None
        self.memoize = False
        self.ignore_for_cache = ()
        self.hashsum = None
        self.join = False
        self.joins = None
        self.try_id = 0
        self.time_invoked = None
        self.time_returned = None
        self.try_time_launched = None
        self.try_time_returned = None
        self.resource_specification = None  # type: ignore[assignment]  # set at submit
        self.pending_deps = 0
        self.memo_miss_reason = None
        self.fn_hash = None
        self.checkpoint = False
        self._extra = None

    # dict-style access, for code written against Parsl's TypedDict record
    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            if self._extra is not None and key in self._extra:
                return self._extra[key]
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        try:
            setattr(self, key, value)
        except AttributeError:
            if self._extra is None:
                self._extra = {}
            self._extra[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self.__slots__ or (self._extra is not None and key in self._extra)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> List[str]:
        ks = [k for k in self.__slots__ if not k.startswith("_") and k not in ("dfk", "pending_deps")]
        if self._extra:
            ks.extend(self._extra)
        return ks

    @property
    def retries_left(self) -> int:
        dfk = self.dfk
        return (dfk.config.retries - self.fail_count) if dfk is not None else 0

    def __repr__(self) -> str:
        return f"<TaskRecord {self.id} {self.func_name} {self.status!s}>"


def set_state(kernel: StateObservers, rec: TaskRecord, new: States) -> None:
    """Move ``rec`` to state ``new``, or raise InternalConsistencyError if the move is illegal.

    The kernel binds this as its ``_set_state`` method (no extra call per change). Counters
    and monitoring observe the change here, and nowhere else.
    """
    old = rec.status
    if new not in LEGAL.get(old, ()):
        raise InternalConsistencyError(f"Task {rec.id}: illegal state change {old} -> {new}")
    rec.status = new
    counts = kernel.task_state_counts
    if old is not None:
        counts[old] -= 1
    counts[new] += 1
    events = kernel._task_events
    if events is not None:
        events((rec, new, _time(), rec.try_id, rec.fail_count, rec.exec_fu))
        return
    obs = kernel._observe
    if obs is not None:
        try:
            obs(rec, new)
        except Exception:
            logger.exception("monitoring failed to record a state change of task %s", rec.id)


class AppFuture(LightFuture):
    """The future of one app invocation.

    Beyond Parsl: ``cancel()`` works for a task that has not started running; its
    dependents then fail with a ``DependencyError`` saying the upstream task was cancelled.
    ``fut[key]`` and ``fut.attr`` are lifted: they return new AppFutures computed once this
    one completes.
    """

    __slots__ = ("task_record", "_outputs")

    def __init__(self, task_record: TaskRecord) -> None:
        LightFuture.__init__(self)
        self.task_record = task_record
        self._outputs: Optional[List[DataFuture]] = None

    @property
    def tid(self) -> int:
        return self.task_record.id

    # Parsl's pre-2023 name
    @property
    def task_def(self) -> TaskRecord:
        return self.task_record

    @property
    def outputs(self) -> List[DataFuture]:
        return self._outputs if self._outputs is not None else []

    @outputs.setter
    def outputs(self, value: List[DataFuture]) -> None:
        self._outputs = value

    @property
    def stdout(self) -> Any:
        rec = self.task_record
        return rec.get("_stdout_datafuture") or rec.kwargs.get("stdout")

    @property
    def stderr(self) -> Any:
        rec = self.task_record
        return rec.get("_stderr_datafuture") or rec.kwargs.get("stderr")

    def task_status(self) -> str:
        st = self.task_record.status
        return st.name if st is not None else "unsched"

    def cancel(self) -> bool:
        """Cancel the task if it has not started; returns whether it is cancelled."""
        if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
            return True
        if self._state == FINISHED:
            return False
        dfk = self.task_record.dfk
        if dfk is None:
            return False
        return dfk.cancel_task(self.task_record)

    def __repr__(self) -> str:
        rec = self.task_record
        base = LightFuture.__repr__(self)[:-1]
        return f"{base} task_id={rec.id} func={rec.func_name}>"

    # -- lifted operators -------------------------------------------------------
    def __getitem__(self, key: Any) -> AppFuture:
        return lifted_getitem(self, key)

    def __getattr__(self, name: str) -> AppFuture:
        # only reached for names the future itself does not have
        if name.startswith("_"):
            raise AttributeError(name)
        return lifted_getattr(self, name)


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _getattr(obj: Any, name: str) -> Any:
    return getattr(obj, name)


def _submit_internal(func: Callable[..., Any], args: Tuple[AppFuture, Any]) -> AppFuture:
    fut = args[0]
    dfk = fut.task_record.dfk or cast(Kernel, registry.dfk())
    return dfk.submit(func, app_args=args, executors=["_parsl_internal"], cache=False,
                      ignore_for_cache=[], app_kwargs={})


def lifted_getitem(fut: AppFuture, key: Any) -> AppFuture:
    """``fut[key]``: a future of the item, computed once ``fut`` completes."""
    return _submit_internal(_getitem, (fut, key))


def lifted_getattr(fut: AppFuture, name: str) -> AppFuture:
    """``fut.name``: a future of the attribute, computed once ``fut`` completes."""
    return _submit_internal(_getattr, (fut, name))


def describe_future(f: Future[Any]) -> str:
    """How errors name a future: its task, its file's task, or its repr."""
    if isinstance(f, AppFuture):
        return f"task {f.task_record.id}"
    if isinstance(f, DataFuture):
        return f"DataFuture from task {f.tid}"
    return repr(f)


TaskRecord.__module__ = "parsl.dataflow.taskrecord"
AppFuture.__module__ = "parsl.dataflow.futures"
