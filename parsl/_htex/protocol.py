"""Every message that crosses a process boundary in HTEX, defined and encoded here only.

Links and who owns each end:

* interchange (a thread in the user process, ZMQ ROUTER) <-> manager (one per node, ZMQ
  DEALER whose identity is the manager uid).  Every ZMQ message is a list of frames whose
  first frame is a one-byte *kind*; the remaining frames depend on the kind.
* manager <-> worker: a pair of OS pipes per worker carrying length-prefixed *records*.
  Task records and result records are forwarded between the two links unchanged, so the
  manager never unpickles a task or a result (it only reads the 8-byte task id).

Task record:    ``task_id:u64le | len(func):u32le | func bytes | argument bytes``
Result record:  ``task_id:u64le | outcome:u8 | pickled value``
Monitoring record (task id 0, ``OUTCOME_MONITORING``): ``0:u64le | 2:u8 | message``
Monitoring batch (a result record with task id 0 and ``OUTCOME_MONITORING_BATCH``):
                ``0:u64le | 3:u8 | (len:u32le | message)*``
Result with its end-of-task monitoring blob (only with monitoring on; outcome ORed with
``OUTCOME_TASK_END_FLAG``):
                ``task_id:u64le | outcome|4:u8 | blob of TASK_END_SIZE bytes | pickled value``
                It rides in the result, so it costs the manager nothing and can never
                arrive after the result it describes.
HTEX never opens a monitoring message or blob: their format, the batch framing and the
blob's size belong to ``parsl._sampling.records``.

Batching: a TASKS message carries many task records and a RESULTS message many result
records, one per frame (ZMQ frames are zero-copy), so a busy link costs one syscall per
batch rather than per task.
"""
from __future__ import annotations

import os
import pickle
import platform
import socket
import struct
import sys
import time
from typing import Iterable, List, Tuple

from parsl._sampling.records import TASK_END_SIZE, join_frames, split_frames

#: Bumped whenever a message layout changes; checked at registration.
PROTOCOL_VERSION = 3

# --- manager -> interchange kinds -------------------------------------------------------
REGISTER = b"r"     # [REGISTER, pickled registration dict]
HEARTBEAT = b"h"    # [HEARTBEAT]               (also interchange -> manager, as the reply)
DRAIN = b"d"        # [DRAIN]  the manager wants no new tasks and will exit when idle
RESULTS = b"R"      # [RESULTS, result record, result record, ...]
RETURNED = b"b"     # [RETURNED, task record, ...]  unstarted tasks given back after a RECALL

# --- interchange -> manager kinds -------------------------------------------------------
TASKS = b"T"        # [TASKS, task record, task record, ...]
DRAINED = b"D"      # [DRAINED]  no tasks left for a draining manager: exit now
STOP = b"S"         # [STOP, reason]  exit now (scale-in, shutdown)
REJECT = b"x"       # [REJECT, reason]  registration refused (version mismatch)
RECALL = b"c"       # [RECALL, n]  give back up to n tasks not yet started (another node is idle)
PING = b"p"         # [PING]  answer with a HEARTBEAT now (the interchange saw a connection close)
LANE = b"l"         # [LANE, port, token]  open the direct lane (lane.py) to 127.0.0.1:port

# --- result outcomes -------------------------------------------------------------------
OUTCOME_RESULT = 0      # pickled return value
OUTCOME_EXCEPTION = 1   # pickled RemoteExceptionWrapper
OUTCOME_MONITORING = 2  # one monitoring message (opaque); not a task completion
#: Many monitoring messages in one record: the manager coalesces its workers' messages so
#: the user process handles one opaque record per upstream batch, never one per message
#: (it hands the bytes to the monitoring writer process unopened).
OUTCOME_MONITORING_BATCH = 3
#: ORed into OUTCOME_RESULT/OUTCOME_EXCEPTION: the payload starts with the task's
#: end-of-task monitoring blob (TASK_END_SIZE bytes).
OUTCOME_TASK_END_FLAG = 4

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_TASK_HEAD = struct.Struct("<QI")
_RESULT_HEAD = struct.Struct("<QB")
RECORD_HEAD = _U32          # pipe framing: u32le length, then the record


# --- task records ----------------------------------------------------------------------
def encode_task(task_id: int, func_bytes: bytes, arg_bytes: bytes) -> bytes:
    return b"".join((_TASK_HEAD.pack(task_id, len(func_bytes)), func_bytes, arg_bytes))


def task_id_of(record) -> int:
    """The task id of a task or result record (both start with it)."""
    return _U64.unpack_from(record, 0)[0]


def decode_task(record) -> Tuple[int, memoryview, memoryview]:
    task_id, flen = _TASK_HEAD.unpack_from(record, 0)
    view = memoryview(record)
    start = _TASK_HEAD.size
    return task_id, view[start:start + flen], view[start + flen:]


# --- result records --------------------------------------------------------------------
def encode_result(task_id: int, outcome: int, payload: bytes, task_end: bytes = b"") -> bytes:
    if task_end:
        return b"".join((_RESULT_HEAD.pack(task_id, outcome | OUTCOME_TASK_END_FLAG), task_end, payload))
    return _RESULT_HEAD.pack(task_id, outcome) + payload


def encode_value(task_id: int, outcome: int, value) -> bytes:
    return encode_result(task_id, outcome, pickle.dumps(value, protocol=5))


def decode_result(record) -> Tuple[int, int, memoryview]:
    task_id, outcome = _RESULT_HEAD.unpack_from(record, 0)
    return task_id, outcome, memoryview(record)[_RESULT_HEAD.size:]


def is_completion(record) -> bool:
    """True when a result record ends a task (monitoring records do not): outcomes 0, 1 and
    the same with ``OUTCOME_TASK_END_FLAG`` (4, 5); not 2, 3."""
    return (record[8] & 3) < OUTCOME_MONITORING


def is_monitoring(record) -> bool:
    return not is_completion(record)


def monitoring_batch(records: Iterable[bytes]) -> bytes:
    """One record carrying the payloads of many ``OUTCOME_MONITORING`` records (only those)."""
    head = _RESULT_HEAD.size
    return _RESULT_HEAD.pack(0, OUTCOME_MONITORING_BATCH) + join_frames(memoryview(r)[head:] for r in records)


def split_monitoring_batch(payload) -> List[memoryview]:
    """The monitoring messages in a monitoring batch's payload."""
    return split_frames(payload)


# --- ZMQ messages ----------------------------------------------------------------------
def tasks_message(records: Iterable[bytes]) -> List[bytes]:
    return [TASKS, *records]


def results_message(records: Iterable[bytes]) -> List[bytes]:
    return [RESULTS, *records]


def stop_message(reason: str) -> List[bytes]:
    return [STOP, reason.encode()]


def reject_message(reason: str) -> List[bytes]:
    return [REJECT, reason.encode()]


def recall_message(n: int) -> List[bytes]:
    return [RECALL, str(n).encode()]


def registration_message(info: dict) -> List[bytes]:
    return [REGISTER, pickle.dumps(info, protocol=4)]


def decode_registration(frame) -> dict:
    return pickle.loads(frame)


def version_info() -> dict:
    """What must match between the submit side and a manager."""
    from parsl._base.version import VERSION
    return {"python_v": "{}.{}".format(*sys.version_info[:2]), "parsl_v": VERSION,
            "protocol": PROTOCOL_VERSION}


def version_mismatch(ours: dict, theirs: dict) -> str:
    """A human-readable difference, or '' when the versions are compatible."""
    diffs = [f"{k}: submit side {ours.get(k)!r}, manager {theirs.get(k)!r}"
             for k in ("python_v", "parsl_v", "protocol") if ours.get(k) != theirs.get(k)]
    return "; ".join(diffs)


def make_registration(uid: str, block_id: str, worker_count: int, prefetch_capacity: int) -> dict:
    import psutil
    info = version_info()
    info.update(
        uid=uid, block_id=block_id, worker_count=worker_count,
        prefetch_capacity=prefetch_capacity, max_capacity=worker_count + prefetch_capacity,
        start_time=time.time(), os=platform.system(), hostname=socket.gethostname(),
        dir=os.getcwd(), cpu_count=os.cpu_count(), total_memory=psutil.virtual_memory().total,
        pid=os.getpid(), packages={},
    )
    return info
