"""Turning monitoring events into database rows, in the writer process (pure: no
threads, no I/O).

``BatchBuilder`` folds chunk items (``parsl._sampling.records`` defines them; the router
makes them with ``compact.compact_events``, the writer cuts them with
``records.decode_chunk``) into rows, already as tuples in the tables' column order with
timestamps as the text SQLite stores, merging the rows of one task (and of one try) so
that a task seen start to end within one batch is one row write, not five.
``BatchBuilder.add`` also takes queued events directly (``compact`` documents them) and
Parsl's ``(MessageType, payload)`` pairs, for tests and in-process use.
"""
from __future__ import annotations

import datetime
import json
import time
from typing import Dict, Iterable, List, Optional

from parsl._base.message_type import MessageType
from parsl._monitoring.compact import (
    compact,
    dependency_ids,  # noqa: F401  (re-exported)
    state_name,
)
from parsl._monitoring.db import FIRST_WINS, TABLES, Batch, table_columns
from parsl._sampling import records as _rec
from parsl._sampling.records import FILE_KWARGS as _FILE_KWARGS
from parsl._sampling.records import Kind

SUCCESS_STATES = frozenset({"exec_done", "memo_done"})
FAILURE_STATES = frozenset({"failed", "dep_fail"})
FINAL_STATES = SUCCESS_STATES | FAILURE_STATES
# States in which the task has (or had) a try running on an executor.
TRY_STATES = frozenset({"launched", "running", "running_ended", "exec_done", "failed",
                        "fail_retryable"})
# States that end a try.
TRY_END_STATES = frozenset({"exec_done", "failed", "fail_retryable"})

# --- timestamps ---------------------------------------------------------------------------
def _epoch_text_formatter():
    """Epoch seconds as SQLAlchemy's SQLite DateTime text ('YYYY-MM-DD HH:MM:SS.ffffff',
    local time, like ``datetime.fromtimestamp``); the date part is formatted once per
    second.  A closure over locals: it runs ~7 times per task in the writer."""
    cache = [None, ""]

    def epoch_text(ts: float, cache=cache, localtime=time.localtime, strftime=time.strftime) -> str:
        sec = int(ts // 1)
        us = round((ts - sec) * 1e6)
        if us >= 1000000:
            sec += 1
            us -= 1000000
        if sec != cache[0]:
            cache[1] = strftime("%Y-%m-%d %H:%M:%S.", localtime(sec))
            cache[0] = sec
        return cache[1] + f"{us:06d}"

    return epoch_text


epoch_text = _epoch_text_formatter()


def to_text(value) -> Optional[str]:
    """A timestamp (epoch seconds, datetime or ISO text) as the DB stores it; None if not one."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return epoch_text(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ", "microseconds")
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value).isoformat(" ", "microseconds")
        except ValueError:
            return None
    return None


# --- the writer side ------------------------------------------------------------------------
def _index(table: str) -> Dict[str, int]:
    return {c: i for i, c in enumerate(table_columns(table))}


_T = _index("task")
_Y = _index("try")
_S = _index("status")
_R = _index("resource")
_W = _index("workflow")
NT, NY, NW = len(_T), len(_Y), len(_W)
T_DEPENDS, T_FUNC, T_MEMO, T_HASH = _T["task_depends"], _T["task_func_name"], _T["task_memoize"], _T["task_hashsum"]
T_FILES = tuple(_T[f"task_{k}"] for k in _FILE_KWARGS)
T_STDOUT, T_STDERR = _T["task_stdout"], _T["task_stderr"]
T_INVOKED, T_SUBMITTED, T_RETURNED = _T["task_time_invoked"], _T["task_time_submitted"], _T["task_time_returned"]
T_RUNNING, T_HOST, T_EXEC = _T["task_time_running"], _T["hostname"], _T["task_executor"]
T_FAILS, T_COST, T_HISTORY, T_STATUS = (_T["task_fail_count"], _T["task_fail_cost"], _T["task_fail_history"],
                                        _T["task_status_name"])
Y_BLOCK, Y_HOST, Y_EXEC = _Y["block_id"], _Y["hostname"], _Y["task_executor"]
Y_LAUNCHED, Y_RUNNING, Y_RETURNED = (_Y["task_try_time_launched"], _Y["task_try_time_running"],
                                     _Y["task_try_time_returned"])
Y_HISTORY, Y_JOINS = _Y["task_fail_history"], _Y["task_joins"]
_STATUS_COLS = ("task_id", "task_status_name", "timestamp", "run_id", "try_id", "hostname")
_RESOURCE_COLS = ("try_id", "task_id", "run_id", "timestamp", "resource_monitoring_interval", "psutil_process_pid",
                  "psutil_process_cpu_percent", "psutil_process_memory_percent", "psutil_process_children_count",
                  "psutil_process_time_user", "psutil_process_time_system", "psutil_process_memory_virtual",
                  "psutil_process_memory_resident", "psutil_process_disk_read", "psutil_process_disk_write",
                  "psutil_process_status", "psutil_cpu_num", "psutil_process_num_ctx_switches_voluntary",
                  "psutil_process_num_ctx_switches_involuntary", "hostname")
# The builder appends status and resource rows as literal tuples in this order.
assert table_columns("status") == _STATUS_COLS and table_columns("resource") == _RESOURCE_COLS
_FIRST_T = frozenset(_T[c] for c in FIRST_WINS if c in _T)
_FIRST_Y = frozenset(_Y[c] for c in FIRST_WINS if c in _Y)
_FIRST_W = frozenset(_W[c] for c in FIRST_WINS if c in _W)


def _merge(row: list, values: dict, index: Dict[str, int], first: frozenset) -> None:
    for k, v in values.items():
        i = index.get(k)
        if i is None or v is None:
            continue
        if i in first and row[i] is not None:
            continue
        row[i] = v


def _row_tuple(table: str, values: dict) -> tuple:
    """A Parsl message's dict as a row tuple (unknown keys dropped, timestamps as text)."""
    dts = _DATETIME_COLS[table]
    return tuple(to_text(values.get(c)) if c in dts else values.get(c) for c in table_columns(table))


_DATETIME_COLS = {name: frozenset(c.name for c in t.columns if c.type.__class__.__name__ == "DateTime")
                  for name, t in TABLES.items()}


class BatchBuilder:
    """Accumulates the events of one run into rows; ``take()`` hands over a ``Batch``."""

    MAX_EXECUTOR_TASKS = 400_000
    MAX_UNRESOLVED_ROUNDS = 20

    def __init__(self, run_id: str, in_process_executors: Iterable[str] = ()):
        self.run_id = run_id
        #: labels of executors that run tasks in this process (threads): for them
        #: "launched" is "running", since no worker reports a start.
        self.in_process_executors = frozenset(in_process_executors)
        #: (executor_label or None, executor task id) -> (task_id, try_id), learnt when tries launch/end
        self._executor_tasks: Dict[tuple, tuple] = {}
        #: worker reports whose executor task id was not known yet: [rounds, kind, data]
        self._unresolved: list = []
        #: latest state of each task not yet final (a late "running" must not undo a final state)
        self._live_state: Dict[object, str] = {}
        #: HTEX workers' hellos by worker_key (what their packed records leave out)
        self.workers: Dict[int, dict] = {}
        #: worker reports given up on (their try never became known)
        self.dropped = 0
        self._reset()

    def _reset(self):
        self._batch = Batch()
        self._tasks: Dict[object, list] = {}
        self._tries: Dict[tuple, list] = {}
        self._workflows: Dict[str, list] = {}

    def pending(self) -> bool:
        return bool(self._tasks or self._tries or self._workflows or self._unresolved or len(self._batch))

    def take(self) -> Batch:
        if self._unresolved:
            waiting, self._unresolved = self._unresolved, []
            for entry in waiting:
                entry[0] += 1
                before = len(self._unresolved)
                self._retry(entry)
                if len(self._unresolved) > before:          # still unknown: put back, or give up
                    self._unresolved.pop()
                    if entry[0] < self.MAX_UNRESOLVED_ROUNDS:
                        self._unresolved.append(entry)
                    else:
                        self.dropped += 1
        batch = self._batch
        batch.tasks = [tuple(r) for r in self._tasks.values()]
        batch.tries = [tuple(r) for r in self._tries.values()]
        batch.workflows = [tuple(r) for r in self._workflows.values()]
        self._reset()
        return batch

    # --- rows -------------------------------------------------------------------------
    def _task(self, task_id, run_id=None) -> list:
        own = run_id is None or run_id == self.run_id
        key = task_id if own else (run_id, task_id)
        row = self._tasks.get(key)
        if row is None:
            row = self._tasks[key] = [None] * NT
            row[0], row[1] = task_id, self.run_id if own else run_id
        return row

    def _try(self, task_id, try_id, run_id=None) -> list:
        run_id = run_id or self.run_id
        key = (run_id, task_id, try_id)
        row = self._tries.get(key)
        if row is None:
            row = self._tries[key] = [None] * NY
            row[0], row[1], row[2] = try_id, task_id, run_id
        return row

    def _remember_executor_task(self, etid, label, task_id, try_id) -> None:
        if etid is None:
            return
        ids = (task_id, try_id)
        tasks = self._executor_tasks
        tasks[(label, etid)] = ids
        tasks[(None, etid)] = ids
        if len(tasks) > self.MAX_EXECUTOR_TASKS:
            # Drop the oldest quarter (dicts keep insertion order): their tries ended long ago.
            for key in list(tasks)[: self.MAX_EXECUTOR_TASKS // 4]:
                del tasks[key]

    def restore_states(self, states) -> None:
        """A replacement writer's start: the latest state of each task, from the database."""
        for task_id, name in states:
            if name not in FINAL_STATES:
                self._live_state[task_id] = name

    def _state(self, task_id, name) -> None:
        if name in FINAL_STATES:
            self._live_state.pop(task_id, None)
        else:
            self._live_state[task_id] = name

    # --- events -----------------------------------------------------------------------
    def add(self, item) -> None:
        """A queued event (``compact`` documents them; a task event may leave out
        ``exec_fu``), or a Parsl message ``(MessageType, payload)``."""
        first = item[0]
        if isinstance(first, (MessageType, str)):
            self.add_message(first, item[1])
        else:
            self.add_wire(compact(item))

    def add_wire(self, w) -> None:
        """A chunk item (``records.Kind``)."""
        code = w[0]
        if code == Kind.TASK_ENDS:
            self.add_task_ends(w[1], w[2])
        elif code == Kind.LAUNCHED:
            self._launched(*w[1:])
        elif code == Kind.ENDED:
            self._ended(*w[1:])
        elif code == Kind.PENDING:
            self._pending(*w[1:])
        elif code == Kind.STATE:
            self._other_state(*w[1:])
        elif code == Kind.WORKER_BATCH:
            self.add_worker_batch(w[1], w[2])
        elif code == Kind.MESSAGE:
            self.add_message(MessageType(w[1]), w[2])

    def _status(self, task_id, name, when, try_id, host=None) -> None:
        self._batch.status.append((task_id, name, when, self.run_id, try_id, host))

    def _task_state(self, task_id, name, ts, fail_count, label=None):
        """What every state change writes into the task's row; (row, timestamp text)."""
        row = self._task(task_id)
        row[T_STATUS] = name
        row[T_FAILS] = fail_count
        if label is not None:
            row[T_EXEC] = label
        return row, epoch_text(ts)

    def _pending(self, task_id, ts, fail_count, label, func_name, memoize, time_invoked, depends, files):
        row, when = self._task_state(task_id, "pending", ts, fail_count, label)
        row[T_FUNC] = func_name
        if depends is not None:
            row[T_DEPENDS] = depends
        elif row[T_DEPENDS] is None:
            row[T_DEPENDS] = ""                 # Parsl: '' for a task that waits on none
        if memoize is not None:
            row[T_MEMO] = "1" if memoize else "0"   # as Parsl's column holds its boolean
        invoked = to_text(time_invoked) or when
        if row[T_INVOKED] is None:
            row[T_INVOKED] = invoked
        if row[T_SUBMITTED] is None:
            row[T_SUBMITTED] = invoked
        if files is not None:
            for i, v in zip(T_FILES, files):
                if v is not None:
                    row[i] = v
        # Parsl records a task without stdout/stderr as '' (not NULL).
        if row[T_STDOUT] is None:
            row[T_STDOUT] = ""
        if row[T_STDERR] is None:
            row[T_STDERR] = ""
        self._status(task_id, "pending", when, 0)
        self._live_state[task_id] = "pending"

    def _launched(self, task_id, ts, try_id, fail_count, label, etid):
        row, when = self._task_state(task_id, "launched", ts, fail_count, label)
        trow = self._try(task_id, try_id)
        trow[Y_EXEC] = label
        if trow[Y_LAUNCHED] is None:
            trow[Y_LAUNCHED] = when
        self._remember_executor_task(etid, label, task_id, try_id)
        self._status(task_id, "launched", when, try_id)
        self._live_state[task_id] = "launched"
        if label in self.in_process_executors:
            # No worker reports a start here (a thread runs the task at once): "running" at
            # the launch, as the try's running time; Parsl's thread pool also records it.
            if row[T_RUNNING] is None:
                row[T_RUNNING] = when
            if trow[Y_RUNNING] is None:
                trow[Y_RUNNING] = when
            self._status(task_id, "running", when, try_id)
            row[T_STATUS] = "running"
            self._live_state[task_id] = "running"

    def _ended(self, task_id, name, ts, try_id, fail_count, label, time_returned, fail_cost, from_memo, etid,
               history, joins, hashsum):
        ran_in_process = (label in self.in_process_executors and name in TRY_END_STATES
                          and self._live_state.get(task_id) == "running")
        row, when = self._task_state(task_id, name, ts, fail_count, label)
        if hashsum is not None:
            row[T_HASH] = hashsum
        if name in FINAL_STATES:
            row[T_RETURNED] = to_text(time_returned) or when
            row[T_COST] = fail_cost
            if history:
                row[T_HISTORY] = ",".join(history)
            counter = self._batch.completed if name in SUCCESS_STATES else self._batch.failed
            counter[self.run_id] = counter.get(self.run_id, 0) + 1
        self._state(task_id, name)
        if name in TRY_END_STATES and not (from_memo and name in FINAL_STATES):
            self._remember_executor_task(etid, label, task_id, try_id)
            trow = self._try(task_id, try_id)
            if label is not None:
                trow[Y_EXEC] = label
            trow[Y_RETURNED] = when
            if name != "exec_done" and history:
                trow[Y_HISTORY] = history[-1]
            if joins is not None:
                trow[Y_JOINS] = joins
        if ran_in_process:
            self._status(task_id, "running_ended", when, try_id)   # the pair of "running" above
        self._status(task_id, name, when, try_id)

    def _other_state(self, task_id, name, ts, try_id, fail_count):
        row, when = self._task_state(task_id, name, ts, fail_count)
        if name == "running":
            if row[T_RUNNING] is None:
                row[T_RUNNING] = when
            trow = self._try(task_id, try_id)
            if trow[Y_RUNNING] is None:
                trow[Y_RUNNING] = when
        elif name in TRY_STATES:
            self._try(task_id, try_id)
        self._status(task_id, name, when, try_id)
        self._state(task_id, name)

    # --- worker reports ---------------------------------------------------------------
    def add_task_ends(self, label, blob) -> None:
        """Packed end-of-task records of HTEX workers (``records.TASK_END``)."""
        for fields in _rec.iter_task_ends(blob):
            self._task_end(label, fields)

    def _task_end(self, label, fields) -> None:
        (etid, key, start, end, user, system, pct, rss, vms, rd, wr, vol, invol, cpu_num, children,
         flags, status) = fields
        ids = self._executor_tasks.get((label, etid))
        w = self.workers.get(key)
        if ids is None or w is None:
            self._unresolved.append([0, "end", (label, fields)])
            return
        task_id, try_id = ids
        host = w.get("hostname")
        run_id = self.run_id
        end_t = epoch_text(end)
        if flags & _rec.FIRST_MSG:
            self._started(task_id, try_id, epoch_text(start), host, w.get("block_id"))
        self._batch.status.append((task_id, "running_ended", end_t, run_id, try_id, host))
        if flags & _rec.NO_SAMPLE:
            return
        self._batch.resource.append((
            try_id, task_id, run_id, end_t, w.get("resource_monitoring_interval"), w.get("pid"), pct,
            100.0 * rss / (w.get("total_memory") or 1), children, user, system, vms, rss, rd, wr,
            _rec.status_name(status), None if cpu_num < 0 else str(cpu_num), vol, invol, host))

    def _started(self, task_id, try_id, when, host, block_id) -> None:
        trow = self._try(task_id, try_id)
        if trow[Y_RUNNING] is None:
            trow[Y_RUNNING] = when
        if host is not None:
            trow[Y_HOST] = host
        if block_id is not None:
            trow[Y_BLOCK] = str(block_id)
        row = self._task(task_id)
        if row[T_RUNNING] is None:
            row[T_RUNNING] = when
        if host is not None:
            row[T_HOST] = host
        # Only a task still known as launched becomes running: a late start report must not
        # move a finished task back.
        if self._live_state.get(task_id) == "launched":
            row[T_STATUS] = "running"
            self._live_state[task_id] = "running"
        self._batch.status.append((task_id, "running", when, self.run_id, try_id, host))

    def add_worker_batch(self, executor_label, data) -> None:
        """Framed worker messages (``records.WORKER_BATCH``), e.g. an HTEX manager's batch."""
        decode = _rec.decode_message
        for m in _rec.split_frames(data):
            try:
                kind, body = decode(m)
            except Exception:
                continue
            if kind == _rec.WORKER_HELLO:
                if isinstance(body, dict) and "worker_key" in body:
                    self._hello(body)
                continue
            if isinstance(body, dict):
                body.setdefault("executor_label", executor_label)   # workers know only their task ids
            self.add_message(kind, body)

    def _hello(self, body: dict) -> None:
        """A worker's description; also written (``Batch.hellos``) so that a replacement
        writer process still knows the workers that said hello to the one that died."""
        self.workers[body["worker_key"]] = body
        self._batch.hellos.append((self.run_id, body["worker_key"], json.dumps(body, default=str)))

    def restore_workers(self, hellos) -> None:
        for body in hellos:
            if isinstance(body, dict) and "worker_key" in body:
                self.workers[body["worker_key"]] = body

    def _resolve(self, payload) -> bool:
        """Fill task_id/try_id of a worker message from its executor task id; False if unknown yet."""
        if payload.get("task_id") is not None:
            return True
        etid = payload.get("executor_task_id")
        if etid is None:
            return False
        ids = self._executor_tasks.get((payload.get("executor_label"), etid))
        if ids is None:
            return False
        payload["task_id"], payload["try_id"] = ids
        return True

    def _retry(self, entry) -> None:
        kind, data = entry[1], entry[2]
        if kind == "end":
            self._task_end(*data)
        else:
            self.add_message(kind, data)

    # --- Parsl's messages -----------------------------------------------------------------
    def add_message(self, mtype, payload: dict) -> None:
        if not isinstance(payload, dict):
            return
        if mtype == _rec.WORKER_HELLO:
            if "worker_key" in payload:
                self._hello(payload)
            return
        run_id = payload.get("run_id") or self.run_id
        if (mtype is MessageType.RESOURCE_INFO or mtype is MessageType.WORKER_TASK_INFO) \
                and not self._resolve(payload):
            if payload.get("executor_task_id") is not None:
                self._unresolved.append([0, mtype, payload])
            return
        batch = self._batch
        if mtype is MessageType.RESOURCE_INFO:
            if payload.get("task_id") is None:
                return
            row = dict(payload, run_id=run_id)
            row["timestamp"] = to_text(payload.get("timestamp")) or epoch_text(time.time())
            batch.resource.append(_row_tuple("resource", row))
        elif mtype is MessageType.WORKER_TASK_INFO:
            self._worker_task_info(run_id, payload)
        elif mtype is MessageType.NODE_INFO:
            row = dict(payload, run_id=run_id)
            if row.get("reg_time") is None:
                row["reg_time"] = row.get("timestamp")
            batch.node.append(_row_tuple("node", row))
        elif mtype is MessageType.BLOCK_INFO:
            row = dict(payload, run_id=run_id)
            row["timestamp"] = payload.get("timestamp") or time.time()
            if row.get("status") is not None and not isinstance(row["status"], str):
                row["status"] = state_name(row["status"])
            for k in ("block_id", "job_id"):
                if row.get(k) is not None:
                    row[k] = str(row[k])
            batch.block.append(_row_tuple("block", row))
        elif mtype is MessageType.WORKFLOW_INFO:
            values = {k: (to_text(v) if k in _DATETIME_COLS["workflow"] else v) for k, v in payload.items()}
            cur = self._workflows.get(run_id)
            if cur is None:
                cur = self._workflows[run_id] = [None] * NW
                cur[_W["run_id"]] = run_id
            _merge(cur, values, _W, _FIRST_W)
        elif mtype is MessageType.TASK_INFO:
            # Parsl-style task dicts from third-party code: take what matches columns.
            task_id = payload.get("task_id")
            if task_id is None:
                return
            values = {k: (to_text(v) if k.startswith("task_time") else v) for k, v in payload.items()
                      if k not in ("task_id", "run_id")}
            _merge(self._task(task_id, run_id), values, _T, _FIRST_T)
            name = payload.get("task_status_name")
            if name:
                batch.status.append((task_id, name, to_text(payload.get("timestamp")) or epoch_text(time.time()),
                                     run_id, payload.get("try_id"), None))

    def _worker_task_info(self, run_id, payload):
        task_id, try_id = payload.get("task_id"), payload.get("try_id") or 0
        if task_id is None:
            return
        when = to_text(payload.get("timestamp")) or epoch_text(time.time())
        host = payload.get("hostname")
        if payload.get("first_msg"):
            self._started(task_id, try_id, when, host, payload.get("block_id"))
        if payload.get("last_msg"):
            end = to_text(payload.get("end_timestamp")) or when
            self._batch.status.append((task_id, "running_ended", end, run_id, try_id, host))
        resource = payload.get("resource")
        if isinstance(resource, dict):
            resource = dict(resource, task_id=task_id, try_id=try_id)
            resource.setdefault("hostname", host)
            self.add_message(MessageType.RESOURCE_INFO, resource)


def rows_as_dicts(table: str, rows: List[tuple]) -> List[dict]:
    """Row tuples as dicts without the NULL columns (for tests and readers of a Batch)."""
    cols = table_columns(table)
    return [{c: v for c, v in zip(cols, r) if v is not None} for r in rows]
