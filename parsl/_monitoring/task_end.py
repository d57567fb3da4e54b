"""The end-of-task monitoring record: a fixed-size binary struct an HTEX worker puts inside
the task's result record.

Why this shape: with monitoring on, every task yields one end-of-task message (its start,
its end and the final resource sample).  As a pickled dict it cost the worker ~12 us, the
manager a second record to parse and re-batch, and the writer a dict to unpickle and
re-shape; on a busy 2-core node that was a third of the throughput.  As ~100 packed bytes
riding in the result record (outcome flag ``protocol.OUTCOME_TASK_END_FLAG``) it costs the
worker one ``struct.pack``, the manager nothing (the result passes through unchanged), the
user process one slice, and the writer one ``struct.iter_unpack`` over all of a batch.

What does not change per task (host, block, pid, interval, machine memory) is sent once
per worker, before its first task, as a ``WORKER_HELLO`` message keyed by a random
``worker_key`` that every record repeats.

Values are final per-task figures computed by the worker: CPU and I/O are deltas since the
task began; memory is the current size; ``cpu_percent`` is CPU over wall time since the
previous sample of the task (Parsl's ``psutil_process_cpu_percent``).
"""
from __future__ import annotations

import struct
from typing import Dict, Optional

from parsl._base.message_type import MessageType

#: Message kind of the once-per-worker description (a dict, see ``TaskResourceMonitor.hello``).
WORKER_HELLO = "chervil.worker_hello"

#: etid, worker_key, start, end, time_user, time_system, cpu_percent, rss, vms, disk_read,
#: disk_write, ctx_voluntary, ctx_involuntary, cpu_num (-1: unknown), children, flags
#: (FIRST_MSG | NO_SAMPLE), status (one ASCII letter of /proc's process state)
TASK_END = struct.Struct("<QQdddddQQQQIIiHBB")
SIZE = TASK_END.size
#: flags: no earlier report said the task was running (it is the task's first message)
FIRST_MSG = 1
#: flags: resource monitoring is off; the record carries the task's start and end only
NO_SAMPLE = 2

#: the letters of /proc/<pid>/stat's state field, as psutil names them
STATUS_NAMES = {"R": "running", "S": "sleeping", "D": "disk-sleep", "Z": "zombie", "T": "stopped",
                "t": "tracing-stop", "X": "dead", "I": "idle", "P": "parked", "W": "waking"}
_STATUS_BY_CODE = {ord(k): v for k, v in STATUS_NAMES.items()}
_CODE_BY_STATUS = {v: ord(k) for k, v in STATUS_NAMES.items()}
STATUS_RUNNING = ord("R")


def status_code(name: Optional[str]) -> int:
    return _CODE_BY_STATUS.get(name, STATUS_RUNNING)


def status_name(code: int) -> str:
    return _STATUS_BY_CODE.get(code, "running")


class TaskEndReader:
    """Turns records back into Parsl's ``WORKER_TASK_INFO`` messages (for sinks that want
    messages; the monitoring writer reads the structs directly).  Remembers each worker's
    hello."""

    def __init__(self):
        self.workers: Dict[int, dict] = {}

    def hello(self, payload: dict) -> None:
        self.workers[payload["worker_key"]] = payload

    def message(self, fields: tuple, executor_label: Optional[str] = None) -> Optional[tuple]:
        """One unpacked record as ``(WORKER_TASK_INFO, message)``; None if its worker never said
        hello (it cannot be attributed to a host)."""
        (etid, key, start, end, user, system, pct, rss, vms, rd, wr, vol, invol, cpu_num, children,
         flags, status) = fields
        w = self.workers.get(key)
        if w is None:
            return None
        ids = {"executor_task_id": etid}
        if executor_label is not None:
            ids["executor_label"] = executor_label
        msg = {"hostname": w.get("hostname"), "block_id": w.get("block_id")}
        if w.get("run_id") is not None:
            msg["run_id"] = w["run_id"]
        msg.update(ids)
        msg.update(first_msg=bool(flags & FIRST_MSG), last_msg=True, timestamp=start, end_timestamp=end)
        if flags & NO_SAMPLE:
            return MessageType.WORKER_TASK_INFO, msg
        resource = {
            "timestamp": end,
            "resource_monitoring_interval": w.get("resource_monitoring_interval"),
            "psutil_process_pid": w.get("pid"),
            "psutil_process_cpu_percent": pct,
            "psutil_process_memory_percent": 100.0 * rss / (w.get("total_memory") or 1),
            "psutil_process_children_count": children,
            "psutil_process_time_user": user,
            "psutil_process_time_system": system,
            "psutil_process_memory_virtual": vms,
            "psutil_process_memory_resident": rss,
            "psutil_process_disk_read": rd,
            "psutil_process_disk_write": wr,
            "psutil_process_status": status_name(status),
            "psutil_cpu_num": None if cpu_num < 0 else str(cpu_num),
            "psutil_process_num_ctx_switches_voluntary": vol,
            "psutil_process_num_ctx_switches_involuntary": invol,
            "hostname": w.get("hostname"),
        }
        resource.update(ids)
        if w.get("run_id") is not None:
            resource["run_id"] = w["run_id"]
        msg["resource"] = resource
        return MessageType.WORKER_TASK_INFO, msg

    def messages(self, blob, executor_label: Optional[str] = None) -> list:
        out = []
        for fields in TASK_END.iter_unpack(blob):
            m = self.message(fields, executor_label)
            if m is not None:
                out.append(m)
        return out
