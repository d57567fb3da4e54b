"""The monitoring wire between the workflow's process and the writer process.

This half runs in the user process (the hub's router thread) and imports nothing heavy
(no SQLAlchemy: its ~30,000 objects would burden every full garbage collection of the
workflow's process).  ``compact_events`` turns queued events into one flat list of plain
values per flush, reading from a task record only what is new in that state (static
fields when the task is first pending, the executor's task id at launch and at the try's
end, the outcome when it ends); ``split_wire`` cuts the list back into items in the
writer process, where ``events.BatchBuilder`` turns them into rows.

Hub items (``MonitoringHub``):

* ``(TASK_EVENT, record, state, epoch_ts, try_id, fail_count[, exec_fu])``: a state change.
  ``try_id``, ``fail_count`` and ``exec_fu`` are taken at the moment of the change, since
  the kernel keeps mutating the record (a retry replaces ``exec_fu``).
* ``(MessageType, payload_dict)``: Parsl's messages (blocks, nodes, workflow, foreign tasks,
  a worker's long-task reports).
* ``(ENCODED_EVENT, executor_label, bytes)``: an HTEX manager's batch of pickled worker
  messages, opened only in the writer.
* ``(TASK_ENDS_EVENT, executor_label, bytes)``: packed end-of-task records
  (``task_end.TASK_END``), read with one ``struct.iter_unpack``.
"""
from __future__ import annotations

import os
from enum import Enum
from typing import Optional

from parsl.dataflow.taskrecord import TaskRecord as _TaskRecord

TASK_EVENT = "task"
ENCODED_EVENT = "encoded"
TASK_ENDS_EVENT = "task_ends"

# States whose compact event carries the try's outcome.
_ENDED = frozenset({"exec_done", "memo_done", "failed", "dep_fail", "fail_retryable"})

# --- the wire format between the router and the writer --------------------------------------
W_PENDING = 0   # (W_PENDING, task_id, ts, fail_count, label, func_name, memoize, time_invoked, depends, files)
W_LAUNCHED = 1  # (W_LAUNCHED, task_id, ts, try_id, fail_count, label, executor_task_id)
W_ENDED = 2     # (W_ENDED, task_id, state, ts, try_id, fail_count, label, time_returned, fail_cost,
#                  from_memo, executor_task_id, fail_history, joins, hashsum)
W_STATE = 3     # (W_STATE, task_id, state, ts, try_id, fail_count)
W_MSG = 4       # (W_MSG, message_type_value, payload)
W_ENCODED = 5   # (W_ENCODED, executor_label, bytes)
W_TASK_ENDS = 6  # (W_TASK_ENDS, executor_label, bytes)
#: fields per wire item, by code (the wire is one flat list)
WIDTHS = {W_PENDING: 10, W_LAUNCHED: 7, W_ENDED: 14, W_STATE: 6, W_MSG: 3, W_ENCODED: 3, W_TASK_ENDS: 3}

_FILE_KWARGS = ("inputs", "outputs", "stdin", "stdout", "stderr")


# --- reading kernel objects without side effects ---------------------------------------------
def state_name(state) -> str:
    return getattr(state, "name", None) or str(state)


def executor_label(executor) -> Optional[str]:
    if executor is None or isinstance(executor, str):
        return executor
    return getattr(executor, "label", str(executor))


def safe_attr(obj, name, default=None):
    """An attribute the object really has (class attribute, property, slot or instance
    dict), without calling ``__getattr__``: an AppFuture lifts unknown attribute reads
    into new tasks, and monitoring must never create tasks."""
    for klass in type(obj).__mro__:
        if name in klass.__dict__:
            try:
                return getattr(obj, name)
            except Exception:
                return default
    try:
        d = object.__getattribute__(obj, "__dict__")   # never falls back to __getattr__
    except AttributeError:
        return default
    return d.get(name, default)


def dependency_ids(depends) -> Optional[str]:
    """Comma-separated ids of the tasks a task waits on (Parsl's ``task_depends``)."""
    if not depends:
        return None
    if isinstance(depends, str):
        return depends
    ids = []
    for dep in depends:
        tid = safe_attr(dep, "tid")
        if tid is None:
            rec = safe_attr(dep, "task_record") or safe_attr(dep, "task_def")
            if rec is not None:
                try:
                    tid = rec["id"]
                except (KeyError, TypeError):
                    tid = None
        if tid is None and isinstance(dep, int):
            tid = dep
        if tid is not None:
            ids.append(str(tid))
    return ",".join(ids) or None


def _file_text(value) -> Optional[str]:
    """How a task's file argument reads in the task table (as Parsl records it): a path as
    given (``os.PathLike`` through ``fspath``, bytes decoded), a ``File`` as its URL, a
    ``(path, mode)`` stdout/stderr pair as its path, a list as comma-separated items."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and not (len(value) == 2 and isinstance(value[1], str)
                                                 and value[1] in ("w", "a")):
        return ", ".join(_file_text(v) or "" for v in value) or None
    if isinstance(value, tuple):        # (path, mode) for stdout/stderr
        value = value[0]
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return os.fsdecode(value)
    url = safe_attr(value, "url")               # a File (also path-like: its URL is what counts)
    if isinstance(url, str):
        return url
    if isinstance(value, os.PathLike):
        try:
            path = os.fspath(value)
        except TypeError:
            return str(value)
        return os.fsdecode(path) if isinstance(path, bytes) else path
    path = safe_attr(value, "filepath")
    if path is None and safe_attr(value, "tid") is not None:
        return f"<task {safe_attr(value, 'tid')}>"
    return str(path if path is not None else value)


#: future class -> True when a plain getattr is safe on it (no ``__getattr__`` hook)
_PLAIN_CLASSES: dict = {}


def _etid(fu):
    """The executor's task id on a try's future (never through a ``__getattr__`` hook)."""
    if fu is None:
        return None
    cls = fu.__class__
    plain = _PLAIN_CLASSES.get(cls)
    if plain is None:
        plain = _PLAIN_CLASSES[cls] = not hasattr(cls, "__getattr__")
    if plain:
        return getattr(fu, "parsl_executor_task_id", None)
    return safe_attr(fu, "parsl_executor_task_id")


def event_of(item) -> tuple:
    """A hub item (see above) as the router's six-entry event."""
    if item[0] == TASK_EVENT:
        event = tuple(item[1:7])
        if len(event) < 6:
            event += (event[0].exec_fu,)
        return event
    return (item[0], item[1], item[2] if len(item) > 2 else None, None, None, None)


def compact(item) -> tuple:
    """One hub item as a wire tuple (user-process side: reads the task record)."""
    out: list = []
    compact_events(out, event_of(item))
    return tuple(out)


#: state -> what its wire item carries (one dict lookup per event instead of name tests)
_KINDS: dict = {}
_K_LAUNCHED, _K_ENDED, _K_PENDING, _K_STATE = range(4)


def _kind(state) -> tuple:
    name = state_name(state)
    kind = (_K_LAUNCHED if name == "launched" else _K_ENDED if name in _ENDED
            else _K_PENDING if name == "pending" else _K_STATE)
    _KINDS[state] = (kind, name)
    return kind, name


def compact_events(out: list, flat, on_error=None) -> None:
    """Append the wire fields of queued events to the flat list ``out``.

    ``flat`` holds whole events back to back, six entries each (the router's queue):
    ``record, state, epoch_ts, try_id, fail_count, exec_fu`` for a task state change, or
    ``kind, a, b, ...`` for anything else.  Both sides are flat (one list of plain values
    per flush, see ``WIDTHS``) so the user process allocates no tuple per event.  An event
    that cannot be read is passed to ``on_error(event, exc)`` and skipped (re-raised when
    there is no ``on_error``)."""
    extend = out.extend
    kinds = _KINDS
    plain_classes = _PLAIN_CLASSES
    it = iter(flat)
    for rec, state, ts, try_id, fail_count, exec_fu in zip(it, it, it, it, it, it):
        try:
            if rec.__class__ is not _TaskRecord and isinstance(rec, (str, Enum)):
                if rec == TASK_ENDS_EVENT:
                    extend((W_TASK_ENDS, state, ts))
                elif rec == ENCODED_EVENT:
                    extend((W_ENCODED, state, ts))
                else:
                    extend((W_MSG, getattr(rec, "value", rec), state))
                continue
            kind, name = kinds.get(state) or _kind(state)
            # This loop runs for every event of a workflow: the executor's label and task id
            # are read inline (a Python-level call costs more than the rest of an event);
            # only unusual futures go through _etid.
            label = rec.executor
            if label.__class__ is not str:
                label = executor_label(label)
            if kind == _K_LAUNCHED:
                # The DFK announces the launch before it submits: the future is read here,
                # later, and only if the record is still on this try (else the try's end
                # event has it).
                fu = rec.exec_fu if rec.try_id == try_id else None
            elif kind == _K_ENDED:
                fu = exec_fu
            else:
                fu = None
            etid = (None if fu is None else getattr(fu, "parsl_executor_task_id", None)
                    if plain_classes.get(fu.__class__) else _etid(fu))
            if kind == _K_LAUNCHED:
                extend((W_LAUNCHED, rec.id, ts, try_id, fail_count, label, etid))
            elif kind == _K_ENDED:
                history = rec.fail_history
                joins = rec.joins
                hashsum = rec.hashsum
                extend((W_ENDED, rec.id, name, ts, try_id, fail_count, label, rec.time_returned,
                        rec.fail_cost, bool(rec.from_memo), etid,
                        [str(x) for x in history] if history else None,
                        None if joins is None
                        else dependency_ids(joins if isinstance(joins, (list, tuple)) else [joins]),
                        None if hashsum is None else str(hashsum)))
            elif kind == _K_PENDING and try_id == 0:
                kwargs = rec.kwargs
                files = None
                if kwargs:
                    files = tuple(_file_text(kwargs.get(k)) for k in _FILE_KWARGS)
                    if not any(files):
                        files = None
                extend((W_PENDING, rec.id, ts, fail_count, label, rec.func_name, rec.memoize,
                        rec.time_invoked, dependency_ids(rec.depends) if rec.depends else None, files))
            else:
                extend((W_STATE, rec.id, name, ts, try_id, fail_count))
        except Exception as e:
            if on_error is None:
                raise
            on_error((rec, state, ts, try_id, fail_count, exec_fu), e)


def split_wire(flat: list):
    """The wire tuples in a flat list made by ``compact_events`` (writer side)."""
    i, n = 0, len(flat)
    widths = WIDTHS
    while i < n:
        w = widths[flat[i]]
        yield flat[i:i + w]
        i += w
