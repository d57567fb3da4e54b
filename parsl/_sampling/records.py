"""Every monitoring record that crosses a process boundary, and its one encoding.

Producers (HTEX workers, the hub in the user process) and the consumer (the writer
process, ``parsl._monitoring.writer_process``) all import this module and nothing of each
other; executors carry the bytes without reading them.

One kind code (``Kind``) names a record from its producer to its row:

worker -> user process (inside HTEX result records, opaque to HTEX)
  ``TASK_END``     one task's start, end and final resource sample: a fixed-size struct
                   (``TASK_END_SIZE`` bytes, see below), riding in the task's result record;
                   an executor joins a batch's structs into one ``TASK_ENDS`` blob.
  message          ``encode_message(kind, payload)``: Parsl's ``(MessageType, dict)`` (a
                   long task's start, periodic samples, anything task code sends) or
                   ``(WORKER_HELLO, dict)``, what every struct of a worker leaves out.
  ``WORKER_BATCH`` many messages framed by ``join_frames`` (u32le length, message)*.

user process -> writer process (a pipe)
  a chunk: ``CHUNK_HEAD`` (payload length, flags) then one pickled flat list of items, each
  a kind code followed by its fields (``WIDTHS``; ``decode_chunk`` cuts them back).  Task
  state changes become ``PENDING``/``LAUNCHED``/``ENDED``/``STATE`` items (filled from the
  kernel's task records by ``parsl._monitoring.compact``); ``MESSAGE``, ``WORKER_BATCH``
  and ``TASK_ENDS`` items carry the records above as they came.

Imports nothing of parsl but ``_base``: it is loaded by every worker.
"""
from __future__ import annotations

import pickle
import struct
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from parsl._base.message_type import MessageType


class Kind:
    """Kind codes of chunk items (plain ints: the flat list is pickled per flush)."""
    #: (PENDING, task_id, ts, fail_count, label, func_name, memoize, time_invoked, depends, files)
    PENDING = 0
    #: (LAUNCHED, task_id, ts, try_id, fail_count, label, executor_task_id)
    LAUNCHED = 1
    #: (ENDED, task_id, state, ts, try_id, fail_count, label, time_returned, fail_cost,
    #:  from_memo, executor_task_id, fail_history, joins, hashsum)
    ENDED = 2
    #: (STATE, task_id, state, ts, try_id, fail_count)
    STATE = 3
    #: (MESSAGE, message_type_value, payload)
    MESSAGE = 4
    #: (WORKER_BATCH, executor_label, bytes)
    WORKER_BATCH = 5
    #: (TASK_ENDS, executor_label, bytes)
    TASK_ENDS = 6


#: fields per chunk item, kind code included, by kind
WIDTHS = {Kind.PENDING: 10, Kind.LAUNCHED: 7, Kind.ENDED: 14, Kind.STATE: 6, Kind.MESSAGE: 3,
          Kind.WORKER_BATCH: 3, Kind.TASK_ENDS: 3}
#: the task arguments a PENDING item carries as text, in this order (as Parsl's task table
#: holds them; ``_monitoring.compact`` builds them in this order)
FILE_KWARGS = ("inputs", "outputs", "stdin", "stdout", "stderr")

# --- user process -> writer process --------------------------------------------------------
#: chunk header: payload length, flags
CHUNK_HEAD = struct.Struct("!QB")
#: flag: sent during a burst (the router holds events while tasks stream in at full speed):
#: more follows soon, the writer may wait before writing
BURST = 1


def encode_chunk(items: list, burst: bool) -> Tuple[bytes, bytes]:
    """A flat list of items as (header, payload): written with two writes, no copy."""
    data = pickle.dumps(items, protocol=5)
    return CHUNK_HEAD.pack(len(data), BURST if burst else 0), data


def decode_chunk(data: bytes) -> Iterator[list]:
    """The items of a chunk's payload, each a list ``[kind, field, ...]``."""
    return split_items(pickle.loads(data))


def split_items(flat: list) -> Iterator[list]:
    """The items in a flat list (``WIDTHS``)."""
    i, n = 0, len(flat)
    widths = WIDTHS
    while i < n:
        w = widths[flat[i]]
        yield flat[i:i + w]
        i += w


# --- worker messages -----------------------------------------------------------------------
#: Kind of a worker's once-only description (a dict: hostname, block_id, pid, worker_key,
#: resource_monitoring_interval, total_memory, optionally run_id and executor_label).
WORKER_HELLO = "chervil.worker_hello"
#: Kind of a try's recorded stdout/stderr (a dict with the ``try_output`` table's columns),
#: sent by ``parsl._monitoring.try_output`` as a ``Kind.MESSAGE``.
TRY_OUTPUT = "chervil.try_output"
_U32 = struct.Struct("<I")


def encode_message(kind: Any, payload: Any) -> bytes:
    return pickle.dumps((kind, payload), protocol=5)


def decode_message(data) -> Tuple[Any, Any]:
    return pickle.loads(data)


def join_frames(messages: Iterable) -> bytes:
    """Encoded messages (bytes-like) as one ``WORKER_BATCH`` blob."""
    pack = _U32.pack
    parts: List[Any] = []
    for m in messages:
        parts.append(pack(len(m)))
        parts.append(m)
    return b"".join(parts)


def split_frames(data) -> List[memoryview]:
    """The encoded messages of a ``WORKER_BATCH`` blob (views, not copies)."""
    view = memoryview(data)
    out = []
    pos, end = 0, len(view)
    while pos + 4 <= end:
        (n,) = _U32.unpack_from(view, pos)
        pos += 4
        out.append(view[pos:pos + n])
        pos += n
    return out


# --- the end-of-task struct ----------------------------------------------------------------
# Why a struct: with monitoring on, every task yields one end-of-task record.  As a pickled
# dict it cost the worker ~12 us, the manager a second record to parse and re-batch, and
# the writer a dict to unpickle and re-shape; on a busy 2-core node that was a third of
# the throughput.  As ~100 packed bytes in the result record it costs the worker one
# ``struct.pack``, the manager nothing, the user process one slice, and the writer one
# ``struct.iter_unpack`` over a whole batch.  Values are final per-task figures: CPU and I/O
# are deltas since the task began; memory is the current size; ``cpu_percent`` is CPU over
# wall time since the task's previous sample (Parsl's ``psutil_process_cpu_percent``).

#: etid, worker_key, start, end, time_user, time_system, cpu_percent, rss, vms, disk_read,
#: disk_write, ctx_voluntary, ctx_involuntary, cpu_num (-1: unknown), children, flags
#: (FIRST_MSG | NO_SAMPLE), status (one ASCII letter of /proc's process state)
TASK_END = struct.Struct("<QQdddddQQQQIIiHBB")
TASK_END_SIZE = TASK_END.size
pack_task_end = TASK_END.pack
iter_task_ends = TASK_END.iter_unpack
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
    return _CODE_BY_STATUS.get(name, STATUS_RUNNING)  # type: ignore[arg-type]


def status_name(code: int) -> str:
    return _STATUS_BY_CODE.get(code, "running")


def task_end_message(fields: tuple, hello: dict, executor_label: Optional[str] = None) -> Tuple[MessageType, dict]:
    """One unpacked ``TASK_END`` as Parsl's ``WORKER_TASK_INFO`` message (for sinks that
    want messages; the writer process reads the structs directly); ``hello``: its worker's."""
    (etid, _key, start, end, user, system, pct, rss, vms, rd, wr, vol, invol, cpu_num, children,
     flags, status) = fields
    ids: Dict[str, Any] = {"executor_task_id": etid}
    if executor_label is not None:
        ids["executor_label"] = executor_label
    msg = {"hostname": hello.get("hostname"), "block_id": hello.get("block_id")}
    if hello.get("run_id") is not None:
        msg["run_id"] = hello["run_id"]
    msg.update(ids)
    msg.update(first_msg=bool(flags & FIRST_MSG), last_msg=True, timestamp=start, end_timestamp=end)
    if flags & NO_SAMPLE:
        return MessageType.WORKER_TASK_INFO, msg
    resource = {
        "timestamp": end,
        "resource_monitoring_interval": hello.get("resource_monitoring_interval"),
        "psutil_process_pid": hello.get("pid"),
        "psutil_process_cpu_percent": pct,
        "psutil_process_memory_percent": 100.0 * rss / (hello.get("total_memory") or 1),
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
        "hostname": hello.get("hostname"),
    }
    resource.update(ids)
    if hello.get("run_id") is not None:
        resource["run_id"] = hello["run_id"]
    msg["resource"] = resource
    return MessageType.WORKER_TASK_INFO, msg
