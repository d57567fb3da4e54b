"""Task state changes and hub events as chunk items (``parsl._sampling.records``), in the
user process (the hub's router thread).

Imports nothing heavy (no SQLAlchemy: its ~30,000 objects would burden every full
garbage collection of the workflow's process).  ``compact_events`` turns queued events
into one flat list of plain values per flush, reading from a task record only what is
new in that state (static fields when the task is first pending, the executor's task id
at launch and at the try's end, the outcome when it ends).  The writer process cuts the
list back into items (``records.decode_chunk``) and ``events.BatchBuilder`` turns them
into rows.

Queued events (``MonitoringRouter.queue``: six entries each, added by one ``extend``):

* ``(task_record, new_state, epoch_ts, try_id, fail_count, exec_fu)``: a state change
  (``parsl._base.monitoring_sink.TaskEvent``, as the kernel reports it);
* ``(kind, a, b, None, None, None)`` with ``kind`` a ``records.Kind`` code:
  ``(MESSAGE, message_type, payload)``, ``(WORKER_BATCH, executor_label, bytes)`` or
  ``(TASK_ENDS, executor_label, bytes)``, put there by ``router.QueueSink``.

Task records are read by duck typing (the fields of ``docs/ARCHITECTURE.md``'s task
record), never through ``__getattr__``: an AppFuture lifts unknown attribute reads into
new tasks, and monitoring must never create tasks.
"""
from __future__ import annotations

import os
from typing import Optional

from parsl._base.files import File
from parsl._base.futures import DataFuture, LightFuture
from parsl._sampling.records import Kind

#: queue entries per event
WIDTH = 6
PENDING, LAUNCHED, ENDED, STATE, MESSAGE = Kind.PENDING, Kind.LAUNCHED, Kind.ENDED, Kind.STATE, Kind.MESSAGE

# States whose compact event carries the try's outcome.
_ENDED = frozenset({"exec_done", "memo_done", "failed", "dep_fail", "fail_retryable"})


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
    """``stdin``/``stdout``/``stderr`` as Parsl records them: a path as given (``os.PathLike``
    through ``fspath``, bytes decoded), a ``File`` as its URL, a ``(path, mode)`` pair as its
    path; ``None`` when not given."""
    if value is None:
        return None
    if isinstance(value, tuple) and value:      # (path, mode)
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
    return str(value)


_NO_KWARGS: dict = {}

#: values whose repr is the same in Chervil and Parsl and reaches no user code
_PLAIN = frozenset({int, float, str, bytes, bool, type(None), complex})


def _py_repr(value, depth: int = 0) -> str:
    """``repr(value)`` as it reads in Parsl: Parsl's reprs for a ``File``, an ``AppFuture``
    and a ``DataFuture`` (Chervil's own carry more), Python's for the rest; containers
    element by element, as ``str(list)`` does."""
    cls = value.__class__
    if cls in _PLAIN:
        return repr(value)
    if depth > 50:
        return "..."
    if cls is list:
        return "[" + ", ".join([_py_repr(v, depth + 1) for v in value]) + "]"
    if cls is tuple:
        if len(value) == 1:
            return "(" + _py_repr(value[0], depth + 1) + ",)"
        return "(" + ", ".join([_py_repr(v, depth + 1) for v in value]) + ")"
    if cls is dict:
        return "{" + ", ".join([f"{_py_repr(k, depth + 1)}: {_py_repr(v, depth + 1)}"
                                for k, v in value.items()]) + "}"
    if isinstance(value, File):
        return File.__repr__(value)
    if isinstance(value, DataFuture):
        done = "done" if value.done() else "not done"
        return (f"<parsl.app.futures.DataFuture object at {id(value):#x} representing"
                f" {_py_repr(value.file_obj, depth + 1)} {done}>")
    if isinstance(value, LightFuture):
        return LightFuture.__repr__(value)      # concurrent.futures' form, as Parsl's AppFuture
    return repr(value)


def _args_text(value) -> str:
    """``inputs``/``outputs`` as Parsl records them: ``str()`` of the argument as the task
    was submitted (``'None'`` when the app has none)."""
    if value is None:
        return "None"
    if value.__class__ is str:
        return value
    if isinstance(value, File):
        try:
            return value.filepath
        except ValueError:
            return value.url
    return _py_repr(value)


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


def compact(event) -> list:
    """One queued event as its chunk item (user-process side: reads the task record).  A
    task event may leave out ``exec_fu`` (the record's is taken then)."""
    if event[0].__class__ is not int and len(event) < WIDTH:
        event = tuple(event) + (event[0].exec_fu,)
    out: list = []
    compact_events(out, tuple(event) + (None,) * (WIDTH - len(event)))
    return out


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
    """Append the chunk items of queued events (see above) to the flat list ``out``.

    ``flat`` holds whole events back to back, ``WIDTH`` entries each (the router's queue).
    Both sides are flat (one list of plain values per flush, see ``records.WIDTHS``) so the
    user process allocates no tuple per event.  An event that cannot be read is passed to
    ``on_error(event, exc)`` and skipped (re-raised when there is no ``on_error``)."""
    extend = out.extend
    kinds = _KINDS
    plain_classes = _PLAIN_CLASSES
    it = iter(flat)
    for rec, state, ts, try_id, fail_count, exec_fu in zip(it, it, it, it, it, it):
        try:
            if rec.__class__ is int:          # a records.Kind code: not a task record
                if rec == MESSAGE:
                    # MessageType by value: the writer process need not unpickle an enum
                    extend((MESSAGE, getattr(state, "value", state), ts))
                else:
                    extend((rec, state, ts))
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
                extend((LAUNCHED, rec.id, ts, try_id, fail_count, label, etid))
            elif kind == _K_ENDED:
                history = rec.fail_history
                joins = rec.joins
                hashsum = rec.hashsum
                extend((ENDED, rec.id, name, ts, try_id, fail_count, label, rec.time_returned,
                        rec.fail_cost, bool(rec.from_memo), etid,
                        [str(x) for x in history] if history else None,
                        None if joins is None
                        else dependency_ids(joins if isinstance(joins, (list, tuple)) else [joins]),
                        None if hashsum is None else str(hashsum)))
            elif kind == _K_PENDING and try_id == 0:
                kwargs = rec.kwargs or _NO_KWARGS
                get = kwargs.get
                files = (_args_text(get("inputs")), _args_text(get("outputs")), _file_text(get("stdin")),
                         _file_text(get("stdout")), _file_text(get("stderr")))
                extend((PENDING, rec.id, ts, fail_count, label, rec.func_name, rec.memoize,
                        rec.time_invoked, dependency_ids(rec.depends) if rec.depends else None, files))
            else:
                extend((STATE, rec.id, name, ts, try_id, fail_count))
        except Exception as e:
            if on_error is None:
                raise
            on_error((rec, state, ts, try_id, fail_count, exec_fu), e)
