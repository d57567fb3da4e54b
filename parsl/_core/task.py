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


class _NoKwargs(Dict[str, Any]):
    """The ``kwargs`` of every task called without keyword arguments: one shared, read-only
    empty dict instead of one per pending task (64 B each)."""

    __slots__ = ()

    def _refuse(self, *_a: Any, **_k: Any) -> Any:
        raise TypeError("this task was called without keyword arguments and its kwargs is a shared "
                        "empty dict; assign a new one instead: task_record['kwargs'] = {...}")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _refuse
    __ior__ = _refuse

    def __reduce__(self) -> Any:
        return (dict, ())

    def copy(self) -> Dict[str, Any]:
        return {}


NO_KWARGS: Dict[str, Any] = _NoKwargs()
#: the resource specification of every task that gives none
EMPTY_SPEC: Dict[str, Any] = {}


class TaskExtras:
    """The fields of a task record that most tasks never set (~25 B per field saved on
    every pending task): created on the first write of a non-default value."""

    __slots__ = ("fail_cost", "fail_history", "from_memo", "memoize", "ignore_for_cache", "hashsum",
                 "join", "joins", "memo_miss_reason", "fn_hash", "checkpoint", "pending_deps",
                 "resource_specification", "app_outputs", "extra")

    def __init__(self) -> None:
        self.fail_cost = 0.0
        self.fail_history: Sequence[str] = ()
        self.from_memo: Optional[bool] = None
        self.memoize = False
        self.ignore_for_cache: Sequence[str] = ()
        self.hashsum: Optional[str] = None
        self.join = False
        self.joins: Any = None
        self.memo_miss_reason: Any = None
        self.fn_hash: Optional[str] = None
        self.checkpoint = False
        self.pending_deps = 0
        self.resource_specification: Dict[str, Any] = EMPTY_SPEC
        self.app_outputs: Optional[List[DataFuture]] = None   # AppFuture.outputs
        self.extra: Optional[Dict[str, Any]] = None


#: defaults of the fields kept in ``TaskExtras`` (what a record without extras answers)
_EXTRAS_DEFAULTS = TaskExtras()


def _extras_field(name: str) -> property:
    """A record attribute stored in its ``TaskExtras``; writing the default to a record
    without extras creates nothing."""
    default = getattr(_EXTRAS_DEFAULTS, name)
    get_field = getattr(TaskExtras, name).__get__
    set_field = getattr(TaskExtras, name).__set__

    def fget(rec: TaskRecord) -> Any:
        x = rec._x
        return default if x is None else get_field(x)

    def fset(rec: TaskRecord, value: Any) -> None:
        x = rec._x
        if x is None:
            if value is default or (type(value) is type(default) and value == default):
                return
            x = rec._extras()
        set_field(x, value)

    return property(fget, fset, doc=f"``{name}`` (kept in the record's TaskExtras)")


class TaskRecord:
    """Everything the kernel knows about one task."""

    # Hot fields are slots; rarely set ones live in ``_x`` (a TaskExtras, made on first
    # write) behind properties, so a pending task costs ~180 B here instead of ~280.
    __slots__ = (
        "id", "func", "func_name", "args", "kwargs", "executor", "status", "depends",
        "app_fu", "exec_fu", "fail_count", "try_id",
        "time_invoked", "time_returned", "try_time_launched", "try_time_returned",
        "dfk", "_x",
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
    try_id: int
    time_invoked: Optional[float]
    time_returned: Optional[float]
    try_time_launched: Optional[float]
    try_time_returned: Optional[float]
    dfk: Optional[Kernel]
    _x: Optional[TaskExtras]

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
        self.try_id = 0
        self.time_invoked = None
        self.time_returned = None
        self.try_time_launched = None
        self.try_time_returned = None
        self._x = None

    fail_cost = _extras_field("fail_cost")
    fail_history = _extras_field("fail_history")   # () until the first failure, then a list
    from_memo = _extras_field("from_memo")
    memoize = _extras_field("memoize")
    ignore_for_cache = _extras_field("ignore_for_cache")
    hashsum = _extras_field("hashsum")
    join = _extras_field("join")
    joins = _extras_field("joins")                 # what a join app returned: futures
    memo_miss_reason = _extras_field("memo_miss_reason")
    fn_hash = _extras_field("fn_hash")
    checkpoint = _extras_field("checkpoint")
    pending_deps = _extras_field("pending_deps")
    resource_specification = _extras_field("resource_specification")

    def __call__(self, _fut: Future[Any]) -> None:
        """The callback of a task with a single dependency, registered on that future
        (the record itself, so a pending task needs no callback object): launch it."""
        dfk = self.dfk
        if dfk is not None:
            dfk._schedule_launch(self)  # type: ignore[attr-defined]

    def _extras(self) -> TaskExtras:
        """The record's TaskExtras, made now if this is the first non-default write."""
        x = self._x
        if x is None:
            x = self._x = TaskExtras()
        return x

    # dict-style access, for code written against Parsl's TypedDict record
    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            x = self._x
            if x is not None and x.extra is not None and key in x.extra:
                return x.extra[key]
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        try:
            setattr(self, key, value)
        except AttributeError:
            x = self._extras()
            if x.extra is None:
                x.extra = {}
            x.extra[key] = value

    def __contains__(self, key: object) -> bool:
        if key in _RECORD_KEYS or key == "dfk" or key == "pending_deps":
            return True
        x = self._x
        return x is not None and x.extra is not None and key in x.extra

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> List[str]:
        ks = list(_RECORD_KEYS)
        x = self._x
        if x is not None and x.extra:
            ks.extend(x.extra)
        return ks

    @property
    def retries_left(self) -> int:
        dfk = self.dfk
        return (dfk.config.retries - self.fail_count) if dfk is not None else 0

    def __repr__(self) -> str:
        return f"<TaskRecord {self.id} {self.func_name} {self.status!s}>"


#: the keys a record answers (Parsl's names, in the order Parsl's TypedDict lists most of them)
_RECORD_KEYS = (
    "id", "func", "func_name", "args", "kwargs", "executor", "status", "depends", "app_fu", "exec_fu",
    "fail_count", "fail_cost", "fail_history", "from_memo", "memoize", "ignore_for_cache", "hashsum",
    "join", "joins", "try_id", "time_invoked", "time_returned", "try_time_launched",
    "try_time_returned", "resource_specification", "memo_miss_reason", "fn_hash", "checkpoint",
)


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

    __slots__ = ("task_record",)

    def __init__(self, task_record: TaskRecord) -> None:
        LightFuture.__init__(self)
        self.task_record = task_record

    @property
    def tid(self) -> int:
        return self.task_record.id

    # Parsl's pre-2023 name
    @property
    def task_def(self) -> TaskRecord:
        return self.task_record

    @property
    def outputs(self) -> List[DataFuture]:
        x = self.task_record._x
        return x.app_outputs if x is not None and x.app_outputs is not None else []

    @outputs.setter
    def outputs(self, value: List[DataFuture]) -> None:
        self.task_record._extras().app_outputs = value

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
