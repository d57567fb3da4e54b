"""The database writer as its own process, so building rows and SQL never take the user
process's GIL away from the DFK and the HTEX interchange.

Parent side (``WriterProcessClient``, owned by the hub's ``MonitoringRouter``): every
flush period the router turns queued events into compact picklable items (``compact``)
and sends one length-prefixed pickle per period down a pipe.

Child side (``main``, run as ``python -m parsl._monitoring.writer_process``): reads
chunks, folds each into a ``Batch`` with the same ``BatchBuilder`` as ever, writes it in
one transaction.  It ignores Ctrl-C (the parent decides), and on EOF (parent closed the
pipe, or died) it writes what it has, does the end-of-run upkeep and exits.
"""
from __future__ import annotations

import json
import os
import pickle
import signal
import struct
import subprocess
import sys
from typing import Optional

from parsl._monitoring.events import _file_text, safe_attr as _safe_attr
from parsl._monitoring.events import dependency_ids as _deps, executor_label as _label
from parsl.monitoring.message_type import MessageType

HEAD = struct.Struct("!Q")
TASK = 0     # compact task event: (TASK, task_id, state_name, ts, try_id, fail_count, fields-or-None)
MSG = 1      # message: (MSG, message_type_value, payload)
ENC = 2      # executor's batch of pickled worker messages: (ENC, executor_label, bytes)

_FINAL = frozenset({"exec_done", "memo_done", "failed", "dep_fail", "fail_retryable"})


class Snapshot:
    """What ``BatchBuilder.add_task_event`` reads from a task record, as plain values."""

    __slots__ = ("id", "executor", "func_name", "depends", "memoize", "time_invoked", "kwargs", "hashsum",
                 "time_returned", "fail_cost", "fail_history", "from_memo", "joins", "exec_fu")

    def __init__(self, task_id, fields):
        self.id = task_id
        f = fields or {}
        self.executor = f.get("executor")
        self.func_name = f.get("func_name")
        self.depends = f.get("depends")
        self.memoize = f.get("memoize")
        self.time_invoked = f.get("time_invoked")
        self.kwargs = f.get("kwargs")
        self.hashsum = f.get("hashsum")
        self.time_returned = f.get("time_returned")
        self.fail_cost = f.get("fail_cost")
        self.fail_history = f.get("fail_history")
        self.from_memo = f.get("from_memo")
        self.joins = f.get("joins")
        etid = f.get("etid")
        self.exec_fu = _Etid(etid) if etid is not None else None


class _Etid:
    __slots__ = ("parsl_executor_task_id",)

    def __init__(self, etid):
        self.parsl_executor_task_id = etid


_NAMES: dict = {}


def _state_name(state) -> str:
    name = _NAMES.get(state)
    if name is None:
        name = _NAMES[state] = getattr(state, "name", None) or str(state)
    return name


def _etid(fu):
    """The executor's task id on a try's future (read without ``__getattr__``)."""
    try:
        return object.__getattribute__(fu, "__dict__").get("parsl_executor_task_id")
    except AttributeError:
        return _safe_attr(fu, "parsl_executor_task_id")


def compact(item):
    """Turn one queued hub item into a picklable tuple (parent side; reads the record).

    This runs in the user process for every state change, so it does the least it can:
    record fields are read only in the states where they are new (static fields at the
    first pending, the executor's task id at launch and at the try's end, outcome fields
    when final)."""
    kind = item[0]
    if kind != "task":
        if kind == "encoded":
            return (ENC, item[1], item[2])
        return (MSG, getattr(kind, "value", kind), item[1])
    rec, state, ts, try_id, fail_count = item[1:6]
    name = _NAMES.get(state) or _state_name(state)
    if name == "launched":
        # The DFK announces the launch before it submits: the future is read here, later,
        # and only if the record is still on this try (else the try's end event has it).
        fields = {"executor": _label(rec.executor)}
        if rec.try_id == try_id:
            fields["etid"] = _etid(rec.exec_fu)
    elif name in _FINAL:
        fields = {"executor": _label(rec.executor), "time_returned": rec.time_returned,
                  "fail_cost": rec.fail_cost, "from_memo": bool(rec.from_memo),
                  "etid": _etid(item[6] if len(item) > 6 else rec.exec_fu)}
        if rec.fail_history:
            fields["fail_history"] = [str(x) for x in rec.fail_history]
        joins = rec.joins
        if joins is not None:
            fields["joins"] = _deps(joins if isinstance(joins, (list, tuple)) else [joins])
        if rec.hashsum is not None:
            fields["hashsum"] = str(rec.hashsum)
    elif name == "pending" and try_id == 0:
        kwargs = rec.kwargs
        fields = {"executor": _label(rec.executor), "func_name": rec.func_name,
                  "memoize": rec.memoize, "time_invoked": rec.time_invoked}
        if rec.depends:
            fields["depends"] = _deps(rec.depends)
        if kwargs:
            files = {k: _file_text(kwargs[k]) for k in _FILE_KWARGS if kwargs.get(k) is not None}
            if files:
                fields["kwargs"] = files
    else:
        fields = None
    return (TASK, rec.id, name, ts, try_id, fail_count, fields)


_FILE_KWARGS = ("inputs", "outputs", "stdin", "stdout", "stderr")


def expand(item):
    """Child side: a compact tuple back into what ``BatchBuilder.add`` takes (a list)."""
    if item[0] == TASK:
        _, task_id, name, ts, try_id, fail_count, fields = item
        return [("task", Snapshot(task_id, fields), name, ts, try_id, fail_count)]
    if item[0] == ENC:
        return decode_encoded_batch(item[1], item[2])
    return [(MessageType(item[1]), item[2])]


def decode_encoded_batch(executor_label, data) -> list:
    """An executor's batch of pickled worker messages (HTEX: ``protocol.monitoring_batch``'s
    payload) as ``(MessageType, payload)`` items."""
    from parsl._htex.protocol import split_monitoring_batch
    from parsl._monitoring.resources import expand_message
    out = []
    loads = pickle.loads
    for m in split_monitoring_batch(data):
        try:
            kind, body = expand_message(*loads(m))
        except Exception:
            continue
        if isinstance(body, dict):
            body.setdefault("executor_label", executor_label)   # workers know only their task ids
        out.append((kind, body))
    return out


class WriterProcessClient:
    """Starts the writer process and sends it chunks.  ``close()`` is idempotent."""

    def __init__(self, url: str, run_id: str, in_process_executors=(), log_path: Optional[str] = None):
        r, self._w = os.pipe()
        cfg = {"fd": r, "url": url, "run_id": run_id, "in_process": list(in_process_executors),
               "log": log_path}
        self.proc = subprocess.Popen([sys.executable, "-m", "parsl._monitoring.writer_process", json.dumps(cfg)],
                                     pass_fds=(r,), stdin=subprocess.DEVNULL, start_new_session=True)
        os.close(r)
        self._closed = False
        self.broken = False

    def send(self, items) -> None:
        if self.broken or not items:
            return
        data = pickle.dumps(items, protocol=5)
        try:
            _write_all(self._w, HEAD.pack(len(data)) + data)
        except OSError:
            self.broken = True
            raise

    def close(self, timeout: float = 60.0) -> Optional[int]:
        if self._closed:
            return self.proc.returncode
        self._closed = True
        try:
            os.close(self._w)      # EOF: the child writes what it has and exits
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                return self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()


def lower_priority() -> None:
    """Run only on CPU nobody else wants: during a burst the writer falls behind (coalescing
    rows meanwhile) and catches up afterwards, so it never slows the workflow's own work.

    SCHED_IDLE (Linux) is stronger than nice 19: a nice-19 process still gets a slice of
    a busy core and is not always preempted at once when a worker or the DFK wakes up."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
    try:
        os.nice(19)
    except (AttributeError, OSError):
        pass


def _write_all(fd, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(f, n) -> Optional[bytes]:
    buf = f.read(n)
    return buf if buf is not None and len(buf) == n else None


def main(argv=None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is for the parent to handle
    lower_priority()
    cfg = json.loads((argv or sys.argv[1:])[0])
    import logging
    logger = logging.getLogger("parsl.monitoring")
    if cfg.get("log"):
        logging.basicConfig(filename=cfg["log"], level=logging.INFO,
                            format="%(asctime)s %(name)s [%(levelname)s] %(message)s")
    from parsl._monitoring.db import Database
    from parsl._monitoring.events import BatchBuilder
    from parsl._monitoring.router import write_with_retries
    db = Database(cfg["url"])
    builder = BatchBuilder(cfg["run_id"], in_process_executors=cfg["in_process"])
    f = os.fdopen(cfg["fd"], "rb", buffering=1 << 20)
    while True:
        head = _read_exact(f, HEAD.size)
        if head is None:
            break
        data = _read_exact(f, HEAD.unpack(head)[0])
        if data is None:
            break
        for item in pickle.loads(data):
            try:
                for event in expand(item):
                    builder.add(event)
            except Exception:
                logger.exception("Monitoring: could not interpret an event; skipping it")
        if builder.pending():
            write_with_retries(db, builder.take())
    # Worker messages whose try was never announced get a bounded number of chances.
    for _ in range(builder.MAX_UNRESOLVED_ROUNDS + 1):
        if not builder.pending():
            break
        write_with_retries(db, builder.take())
    try:
        db.fill_running_fallback(cfg["run_id"])
        db.optimize()
    except Exception:
        logger.exception("Monitoring: end-of-run database upkeep failed (data is already written)")
    db.close()


if __name__ == "__main__":
    main()
    os._exit(0)
