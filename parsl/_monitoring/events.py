"""Turning monitoring events into database rows (pure: no threads, no I/O).

The hub queues two kinds of item:

* ``(TASK_EVENT, record, state, epoch_ts, try_id, fail_count[, exec_fu])`` from
  ``MonitoringHub.task_state_changed``.  ``try_id``, ``fail_count`` and ``exec_fu`` are
  copied at the moment of the change because the kernel keeps mutating the record (a
  retry replaces ``exec_fu``); fields that don't change after submission (name, deps,
  memo flags, kwargs) are read from the record here.
* ``(MessageType, payload_dict)`` from ``MonitoringHub.send`` (executors, managers,
  workers, remote radios).
* ``(ENCODED_EVENT, executor_label, bytes)`` from ``MonitoringHub.send.encoded_batch``:
  an executor's batch of pickled worker messages, opened only in the writer process
  (``writer_process``), which turns it into ``(MessageType, payload_dict)`` items.

``BatchBuilder`` folds any number of items into one ``db.Batch``: task and try rows are
merged per key so a task that ran start-to-end inside one flush period costs one row
write, not five.
"""
from __future__ import annotations

import datetime
from collections import Counter
from typing import Dict, Iterable, Optional, Tuple

from parsl._monitoring.db import COLUMN_NAMES, FIRST_WINS, Batch
from parsl.monitoring.message_type import MessageType

TASK_EVENT = "task"
ENCODED_EVENT = "encoded"

SUCCESS_STATES = frozenset({"exec_done", "memo_done"})
FAILURE_STATES = frozenset({"failed", "dep_fail"})
FINAL_STATES = SUCCESS_STATES | FAILURE_STATES
# States in which the task has (or had) a try running on an executor.
TRY_STATES = frozenset({"launched", "running", "running_ended", "exec_done", "failed",
                        "fail_retryable"})
# States that end a try.
TRY_END_STATES = frozenset({"exec_done", "failed", "fail_retryable"})

_fromtimestamp = datetime.datetime.fromtimestamp


def to_datetime(value):
    """Timestamps arrive as datetime, epoch seconds or ISO text; the DB wants datetime."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    if isinstance(value, (int, float)):
        return _fromtimestamp(value)
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def state_name(state) -> str:
    return getattr(state, "name", None) or str(state)


def executor_label(executor) -> Optional[str]:
    if executor is None or isinstance(executor, str):
        return executor
    return getattr(executor, "label", str(executor))


_MISSING = object()


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
    if isinstance(depends, str):        # already "1,2,3" (from the writer process's snapshot)
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
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and not (len(value) == 2 and isinstance(value[1], str)
                                                 and value[1] in ("w", "a")):
        return ", ".join(_file_text(v) or "" for v in value) or None
    if isinstance(value, tuple):        # (path, mode) for stdout/stderr
        return str(value[0])
    path = safe_attr(value, "filepath") or safe_attr(value, "url")
    if path is None and safe_attr(value, "tid") is not None:
        return f"<task {safe_attr(value, 'tid')}>"
    return str(path if path is not None else value)


def _merge(into: dict, row: dict) -> None:
    for k, v in row.items():
        if v is None:
            continue
        if k in FIRST_WINS and into.get(k) is not None:
            continue
        into[k] = v


def _pick(table: str, payload: dict) -> dict:
    cols = COLUMN_NAMES[table]
    return {k: v for k, v in payload.items() if k in cols}


class BatchBuilder:
    """Accumulates events of one run into rows; ``take()`` hands over a ``Batch``.

    Also keeps the live count of tasks per state (for the terminal progress view),
    remembering only tasks that have not reached a final state.
    """

    def __init__(self, run_id: str, in_process_executors: Iterable[str] = ()):
        self.run_id = run_id
        #: labels of executors that run tasks in this process (threads): for them
        #: "launched" is "running", since no worker reports a start.
        self.in_process_executors = frozenset(in_process_executors)
        self.state_counts: Counter = Counter()
        self._executor_tasks: Dict[tuple, Tuple[int, int]] = {}
        #: worker messages whose executor task id was not known yet: [rounds, mtype, payload]
        self._unresolved: list = []
        self._live_state: Dict[Tuple[str, int], str] = {}
        self._reset()

    # --- executor task ids ------------------------------------------------------------
    # Workers know only their executor's task id; the DFK's (task_id, try_id) is learnt
    # from the try's future (``exec_fu.parsl_executor_task_id``) when the try launches.
    def _remember_executor_task(self, exec_fu, task_id, label, try_id):
        etid = safe_attr(exec_fu, "parsl_executor_task_id")
        if etid is None:
            return
        ids = (task_id, try_id)
        self._executor_tasks[(label, etid)] = ids
        self._executor_tasks[(None, etid)] = ids
        if len(self._executor_tasks) > self.MAX_EXECUTOR_TASKS:
            # Drop the oldest quarter (dicts keep insertion order): their tries ended long ago.
            for key in list(self._executor_tasks)[: self.MAX_EXECUTOR_TASKS // 4]:
                del self._executor_tasks[key]

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

    MAX_EXECUTOR_TASKS = 400_000
    MAX_UNRESOLVED_ROUNDS = 20

    def _reset(self):
        self._batch = Batch()
        self._tasks: Dict[Tuple[str, int], dict] = {}
        self._tries: Dict[Tuple[str, int, int], dict] = {}
        self._workflows: Dict[str, dict] = {}

    def take(self) -> Batch:
        if self._unresolved:
            waiting, self._unresolved = self._unresolved, []
            for entry in waiting:
                entry[0] += 1
                if self._resolve(entry[2]):
                    self.add_message(entry[1], entry[2])
                elif entry[0] < self.MAX_UNRESOLVED_ROUNDS:
                    self._unresolved.append(entry)
        batch = self._batch
        batch.tasks = list(self._tasks.values())
        batch.tries = list(self._tries.values())
        batch.workflows = list(self._workflows.values())
        self._reset()
        return batch

    def pending(self) -> bool:
        return bool(self._tasks or self._tries or self._workflows or self._unresolved or len(self._batch))

    # --- rows -------------------------------------------------------------------------
    def _task_row(self, run_id, task_id, row):
        key = (run_id, task_id)
        cur = self._tasks.get(key)
        if cur is None:
            row["run_id"], row["task_id"] = run_id, task_id
            self._tasks[key] = {k: v for k, v in row.items() if v is not None}
        else:
            _merge(cur, row)

    def _try_row(self, run_id, task_id, try_id, row):
        key = (run_id, task_id, try_id)
        cur = self._tries.get(key)
        if cur is None:
            row["run_id"], row["task_id"], row["try_id"] = run_id, task_id, try_id
            self._tries[key] = {k: v for k, v in row.items() if v is not None}
        else:
            _merge(cur, row)

    def _count_state(self, run_id, task_id, name):
        key = (run_id, task_id)
        prev = self._live_state.pop(key, None)
        if prev is not None:
            self.state_counts[prev] -= 1
        self.state_counts[name] += 1
        if name not in FINAL_STATES:
            self._live_state[key] = name

    # --- events -----------------------------------------------------------------------
    def add(self, item) -> None:
        kind = item[0]
        if kind is TASK_EVENT:
            self.add_task_event(*item[1:])
        else:
            self.add_message(kind, item[1])

    def add_task_event(self, rec, state, ts: float, try_id: int, fail_count: int, exec_fu=_MISSING) -> None:
        name = state_name(state)
        when = _fromtimestamp(ts)
        run_id, task_id = self.run_id, rec.id
        label = executor_label(rec.executor)
        row = {
            "task_status_name": name,
            "task_fail_count": fail_count,
            "task_executor": label,
        }
        if name == "pending" or task_id not in self._tasks:
            invoked = to_datetime(rec.time_invoked) or when
            kwargs = rec.kwargs or {}
            row.update(
                task_func_name=rec.func_name,
                task_depends=dependency_ids(rec.depends),
                task_memoize=None if rec.memoize is None else str(bool(rec.memoize)),
                task_time_invoked=invoked,
                task_time_submitted=invoked,
                task_inputs=_file_text(kwargs.get("inputs")),
                task_outputs=_file_text(kwargs.get("outputs")),
                task_stdin=_file_text(kwargs.get("stdin")),
                task_stdout=_file_text(kwargs.get("stdout")),
                task_stderr=_file_text(kwargs.get("stderr")),
            )
        if rec.hashsum is not None:
            row["task_hashsum"] = str(rec.hashsum)
        if name in FINAL_STATES:
            row["task_time_returned"] = to_datetime(rec.time_returned) or when
            row["task_fail_cost"] = rec.fail_cost
            if rec.fail_history:
                row["task_fail_history"] = ",".join(map(str, rec.fail_history))
            counter = self._batch.completed if name in SUCCESS_STATES else self._batch.failed
            counter[run_id] = counter.get(run_id, 0) + 1
        if name == "running" or (name == "launched" and label in self.in_process_executors):
            row["task_time_running"] = when
        self._task_row(run_id, task_id, row)

        if name in TRY_STATES and not (name in FINAL_STATES and rec.from_memo):
            if name == "launched" or name in TRY_END_STATES:
                # At launch the executor's task id may not be known yet (the DFK announces
                # the launch before submitting); at the try's end it always is.
                self._remember_executor_task(rec.exec_fu if exec_fu is _MISSING else exec_fu,
                                             rec.id, label, try_id)
            trow = {"task_executor": label}
            if name == "launched":
                trow["task_try_time_launched"] = when
                if label in self.in_process_executors:
                    trow["task_try_time_running"] = when
            elif name == "running":
                trow["task_try_time_running"] = when
            if name in TRY_END_STATES:
                trow["task_try_time_returned"] = when
                if name != "exec_done" and rec.fail_history:
                    trow["task_fail_history"] = str(rec.fail_history[-1])
            if rec.joins is not None:
                trow["task_joins"] = dependency_ids(rec.joins if isinstance(rec.joins, (list, tuple, str))
                                                    else [rec.joins])
            self._try_row(run_id, task_id, try_id, trow)

        self._batch.status.append({"task_id": task_id, "task_status_name": name,
                                   "timestamp": when, "run_id": run_id, "try_id": try_id})
        self._count_state(run_id, task_id, name)

    def add_message(self, mtype, payload: dict) -> None:
        if not isinstance(payload, dict):
            return
        run_id = payload.get("run_id") or self.run_id
        if (mtype is MessageType.RESOURCE_INFO or mtype is MessageType.WORKER_TASK_INFO) \
                and not self._resolve(payload):
            if payload.get("executor_task_id") is not None:
                self._unresolved.append([0, mtype, payload])
            return
        if mtype is MessageType.RESOURCE_INFO:
            row = _pick("resource", payload)
            row["run_id"] = run_id
            row["timestamp"] = to_datetime(row.get("timestamp")) or datetime.datetime.now()
            if row.get("task_id") is not None:
                self._batch.resource.append(row)
        elif mtype is MessageType.WORKER_TASK_INFO:
            self._worker_task_info(run_id, payload)
        elif mtype is MessageType.NODE_INFO:
            row = _pick("node", payload)
            row.pop("id", None)
            row["run_id"] = run_id
            for k in ("timestamp", "last_heartbeat", "reg_time"):
                row[k] = to_datetime(row.get(k))
            row.setdefault("reg_time", row.get("timestamp"))
            if row["reg_time"] is None:
                row["reg_time"] = row["timestamp"]
            self._batch.node.append(row)
        elif mtype is MessageType.BLOCK_INFO:
            row = _pick("block", payload)
            row["run_id"] = run_id
            row["timestamp"] = to_datetime(row.get("timestamp")) or datetime.datetime.now()
            if row.get("status") is not None and not isinstance(row["status"], str):
                row["status"] = state_name(row["status"])
            for k in ("block_id", "job_id"):
                if row.get(k) is not None:
                    row[k] = str(row[k])
            self._batch.block.append(row)
        elif mtype is MessageType.WORKFLOW_INFO:
            row = _pick("workflow", payload)
            row["run_id"] = run_id
            for k in ("time_began", "time_completed"):
                if k in row:
                    row[k] = to_datetime(row[k])
            cur = self._workflows.get(run_id)
            if cur is None:
                self._workflows[run_id] = {k: v for k, v in row.items() if v is not None}
            else:
                _merge(cur, row)
        elif mtype is MessageType.TASK_INFO:
            # Parsl-style task dicts from third-party code: take what matches columns.
            row = _pick("task", payload)
            task_id = row.pop("task_id", None)
            row.pop("run_id", None)
            if task_id is None:
                return
            for k in list(row):
                if k.startswith("task_time"):
                    row[k] = to_datetime(row[k])
            self._task_row(run_id, task_id, row)
            if row.get("task_status_name"):
                self._batch.status.append({
                    "task_id": task_id, "task_status_name": row["task_status_name"],
                    "timestamp": to_datetime(payload.get("timestamp")) or datetime.datetime.now(),
                    "run_id": run_id, "try_id": payload.get("try_id")})

    def _worker_task_info(self, run_id, payload):
        task_id, try_id = payload.get("task_id"), payload.get("try_id") or 0
        if task_id is None:
            return
        when = to_datetime(payload.get("timestamp")) or datetime.datetime.now()
        host, block = payload.get("hostname"), payload.get("block_id")
        block = None if block is None else str(block)
        status = self._batch.status
        if payload.get("first_msg"):
            self._try_row(run_id, task_id, try_id,
                          {"task_try_time_running": when, "hostname": host, "block_id": block})
            trow = {"task_time_running": when, "hostname": host}
            # Only a task still known as launched becomes running: a late start message
            # must not move a finished task back.
            if self._live_state.get((run_id, task_id)) == "launched":
                trow["task_status_name"] = "running"
                self._count_state(run_id, task_id, "running")
            self._task_row(run_id, task_id, trow)
            status.append({"task_id": task_id, "task_status_name": "running", "timestamp": when,
                           "run_id": run_id, "try_id": try_id, "hostname": host})
        if payload.get("last_msg"):
            end = to_datetime(payload.get("end_timestamp")) or when
            status.append({"task_id": task_id, "task_status_name": "running_ended", "timestamp": end,
                           "run_id": run_id, "try_id": try_id, "hostname": host})
        resource = payload.get("resource")
        if isinstance(resource, dict):
            resource = dict(resource, task_id=task_id, try_id=try_id)
            resource.setdefault("hostname", host)
            self.add_message(MessageType.RESOURCE_INFO, resource)
