"""Every message that crosses a process boundary in HTEX, defined and encoded here only.

Links and who owns each end:

* interchange (a thread in the user process, ZMQ ROUTER) <-> manager (one per node, ZMQ
  DEALER whose identity is the manager uid).  Every ZMQ message is a list of frames whose
  first frame is a one-byte *kind*; the remaining frames depend on the kind.
* interchange <-> manager on the same host: the *direct lane* (``lane.py`` moves the
  bytes), a loopback TCP stream of length-prefixed messages carrying tasks and results.
* manager <-> worker: a pair of OS pipes per worker carrying length-prefixed *records*,
  and the worker's start-up configuration (``WorkerConfig``) as one JSON argument.
  Task records and result records are forwarded between the links unchanged, so the
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
Start report (task id 0, ``OUTCOME_STARTED``; first in a RESULTS message when present):
                ``0:u64le | 8:u8 | (task_id:u64le)*``  tasks handed to workers since the last one.
Registration:   ``[REGISTER, JSON object]`` (``Registration``); the version fields come
                first and are read before anything else, so a manager of another version
                is refused with a message naming the difference (never unpickled).
Lane:           after the hello (``encode_hello``), both directions carry
                ``u32le n | kind byte | (u32le len | record)*`` where ``n`` counts the bytes
                after itself; the interchange's first message is ``[LANE_ACK, token]``.

Batching: a TASKS message carries many task records and a RESULTS message many result
records, one per frame (ZMQ frames are zero-copy), so a busy link costs one syscall per
batch rather than per task.
"""
from __future__ import annotations

import io
import json
import pickle
import struct
import sys
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

from parsl._base.version import VERSION
from parsl._sampling.records import TASK_END_SIZE as TASK_END_SIZE  # the result's blob size, re-exported
from parsl._sampling.records import join_frames, split_frames

#: Bumped whenever a message layout changes; checked at registration.
#: 4: registration as JSON (was a pickle); lane framing and worker configuration here.
#: 5: start reports (OUTCOME_STARTED) ride in RESULTS messages.
PROTOCOL_VERSION = 5

#: What the record functions accept: a ZMQ frame's bytes, a slice of a read buffer.
Buffer = Union[bytes, bytearray, memoryview]
Frames = List[bytes]

# --- manager -> interchange kinds -------------------------------------------------------
REGISTER = b"r"     # [REGISTER, registration JSON]
HEARTBEAT = b"h"    # [HEARTBEAT]               (also interchange -> manager, as the reply)
DRAIN = b"d"        # [DRAIN]  the manager wants no new tasks and will exit when idle
RESULTS = b"R"      # [RESULTS, result record, result record, ...]
RETURNED = b"b"     # [RETURNED, task record, ...]  unstarted tasks given back after a RECALL
#: [PACKAGES] (interchange -> manager) asks for the installed packages; the manager answers
#: [PACKAGES, JSON {name: version}] (gathered on demand: registration stays cheap).
PACKAGES = b"k"

# --- interchange -> manager kinds -------------------------------------------------------
TASKS = b"T"        # [TASKS, task record, task record, ...]
DRAINED = b"D"      # [DRAINED]  no tasks left for a draining manager: exit now
STOP = b"S"         # [STOP, reason]  exit now (scale-in, shutdown)
REJECT = b"x"       # [REJECT, reason]  registration refused (version mismatch)
RECALL = b"c"       # [RECALL, n]  give back up to n tasks not yet started (another node is idle)
PING = b"p"         # [PING]  answer with a HEARTBEAT now (the interchange saw a connection close)
LANE = b"l"         # [LANE, port, token]  open the direct lane (lane.py) to 127.0.0.1:port

# --- lane-only kind ----------------------------------------------------------------------
#: The interchange's first message on an accepted lane: [LANE_ACK, token].
LANE_ACK = b"A"

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
#: The manager's report of tasks it handed to a worker since its last report (task id 0,
#: payload: u64le task ids).  It rides first in a RESULTS message, so it costs no message of
#: its own while results flow; the interchange reads it and never passes it on.  It is how
#: the interchange tells started tasks (a lost manager's fail with ManagerLost) from queued
#: ones (they go back to the queue).
OUTCOME_STARTED = 8
#: ORed into a completion's outcome by a worker that ends right after sending it (it gave
#: up on a task its walltime could not interrupt, ``_base.hard_stop``): the manager sends
#: it nothing more, and clears the flag before passing the record on.
OUTCOME_WORKER_EXITS_FLAG = 64
#: ... and the exit status it then ends with
WORKER_EXIT_ABANDONED = 75

#: What ``classify_result`` says about a record that is not a task's completion.
MONITORING_RECORD = 0
STARTED_RECORD = -1
MALFORMED_RECORD = -2

_U64 = struct.Struct("<Q")
#: The task id at the start of a task or result record (``TASK_ID.unpack_from(record)[0]``).
TASK_ID = _U64
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_TASK_HEAD = struct.Struct("<QI")
_RESULT_HEAD = struct.Struct("<QB")
#: Byte offset of the outcome in a result record.
_OUTCOME_AT = _U64.size
RECORD_HEAD = _U32          # pipe framing: u32le length, then the record


# --- task records ----------------------------------------------------------------------
def encode_task(task_id: int, func_bytes: bytes, arg_bytes: bytes) -> bytes:
    return b"".join((_TASK_HEAD.pack(task_id, len(func_bytes)), func_bytes, arg_bytes))


#: Where "large" begins, for every path that treats large data differently: a task with
#: an argument this large is built in one buffer (``build_task``), and a manager hands a
#: task record this large to its worker through a file (``taskfiles.FILE_RECORD_BYTES``).
#: Below it, copies cost less than the set-up that avoids them.
LARGE_ARGUMENT_BYTES = 1 << 20
_SMALL_TYPES = frozenset({int, float, bool, type(None), complex})


def has_large_argument(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> bool:
    """Whether a top-level argument is a bytes-like object (or anything with ``nbytes``,
    such as an array) of LARGE_ARGUMENT_BYTES or more; cheap for scalars."""
    for a in (*args, *kwargs.values()) if kwargs else args:
        t = type(a)
        if t in _SMALL_TYPES:
            continue
        n = len(a) if t is bytes or t is bytearray or t is str else getattr(a, "nbytes", 0)
        if isinstance(n, int) and n >= LARGE_ARGUMENT_BYTES:
            return True
    return False


def build_task(task_id: int, func_bytes: bytes, write_arguments: Callable[[Any], None]) -> bytes:
    """``encode_task`` for a large argument: ``write_arguments(file)`` pickles the arguments
    into the buffer that already holds the head and the function, and the record is that
    buffer itself (``BytesIO.getvalue`` hands it over without copying): one copy of the
    argument instead of two."""
    buf = io.BytesIO()
    buf.write(_TASK_HEAD.pack(task_id, len(func_bytes)))
    buf.write(func_bytes)
    write_arguments(buf)
    return buf.getvalue()


def task_id_of(record: Buffer) -> int:
    """The task id of a task or result record (both start with it)."""
    task_id: int = _U64.unpack_from(record, 0)[0]
    return task_id


def decode_task(record: Buffer) -> Tuple[int, memoryview, memoryview]:
    task_id, flen = _TASK_HEAD.unpack_from(record, 0)
    view = memoryview(record)
    start = _TASK_HEAD.size
    return task_id, view[start:start + flen], view[start + flen:]


# --- result records --------------------------------------------------------------------
def encode_result(task_id: int, outcome: int, payload: bytes, task_end: bytes = b"") -> bytes:
    if task_end:
        return b"".join((_RESULT_HEAD.pack(task_id, outcome | OUTCOME_TASK_END_FLAG), task_end, payload))
    return _RESULT_HEAD.pack(task_id, outcome) + payload


def encode_value(task_id: int, outcome: int, value: object) -> bytes:
    return encode_result(task_id, outcome, pickle.dumps(value, protocol=5))


def decode_result(record: Buffer) -> Tuple[int, int, memoryview]:
    task_id, outcome = _RESULT_HEAD.unpack_from(record, 0)
    return task_id, outcome, memoryview(record)[_RESULT_HEAD.size:]


def is_completion(record: Buffer) -> bool:
    """True when a result record ends a task (monitoring records do not): outcomes 0, 1 and
    the same with ``OUTCOME_TASK_END_FLAG`` (4, 5); not 2, 3."""
    return (record[_OUTCOME_AT] & 3) < OUTCOME_MONITORING


def flag_worker_exits(record: bytes) -> bytes:
    out = bytearray(record)
    out[_OUTCOME_AT] |= OUTCOME_WORKER_EXITS_FLAG
    return bytes(out)


def worker_exits(record: Buffer) -> bool:
    return bool(record[_OUTCOME_AT] & OUTCOME_WORKER_EXITS_FLAG)


def clear_worker_exits(record: bytes) -> bytes:
    out = bytearray(record)
    out[_OUTCOME_AT] &= ~OUTCOME_WORKER_EXITS_FLAG & 0xFF
    return bytes(out)


def is_monitoring(record: Buffer) -> bool:
    return not is_completion(record)


_COMPLETION_HEAD = (_RESULT_HEAD.size, _RESULT_HEAD.size, _RESULT_HEAD.size, _RESULT_HEAD.size,
                    _RESULT_HEAD.size + TASK_END_SIZE, _RESULT_HEAD.size + TASK_END_SIZE)


def classify_result(record: Buffer) -> int:
    """What a result record from the network is, checked before anything trusts it.

    The task id (> 0) it completes; ``MONITORING_RECORD`` (0) for monitoring records;
    ``STARTED_RECORD`` for a start report; ``MALFORMED_RECORD`` for anything else (too
    short, an unknown outcome, a task end without its blob).  One call per record on the
    interchange's hot path: kept to a few comparisons.
    """
    n = len(record)
    if n < 9:
        return MALFORMED_RECORD
    outcome = record[8]
    if outcome < 6:
        if outcome == 2 or outcome == 3:
            return MONITORING_RECORD
        if n < _COMPLETION_HEAD[outcome]:
            return MALFORMED_RECORD
        task_id: int = _U64.unpack_from(record, 0)[0]
        return task_id if task_id > 0 else MALFORMED_RECORD
    if outcome == OUTCOME_STARTED and (n - 9) % 8 == 0:
        return STARTED_RECORD
    return MALFORMED_RECORD


def started_record(task_ids: Sequence[int]) -> bytes:
    """The record reporting that ``task_ids`` were handed to workers."""
    return _RESULT_HEAD.pack(0, OUTCOME_STARTED) + struct.pack(f"<{len(task_ids)}Q", *task_ids)


def started_tasks(record: Buffer) -> Tuple[int, ...]:
    """The task ids in a start report (``classify_result`` said STARTED_RECORD)."""
    n = (len(record) - _RESULT_HEAD.size) // 8
    return struct.unpack_from(f"<{n}Q", record, _RESULT_HEAD.size)


def monitoring_batch(records: Iterable[bytes]) -> bytes:
    """One record carrying the payloads of many ``OUTCOME_MONITORING`` records (only those)."""
    head = _RESULT_HEAD.size
    return _RESULT_HEAD.pack(0, OUTCOME_MONITORING_BATCH) + join_frames(memoryview(r)[head:] for r in records)


def split_monitoring_batch(payload: Buffer) -> List[memoryview]:
    """The monitoring messages in a monitoring batch's payload."""
    return split_frames(payload)


# --- ZMQ messages ----------------------------------------------------------------------
def tasks_message(records: Iterable[bytes]) -> Frames:
    return [TASKS, *records]


def results_message(records: Iterable[bytes]) -> Frames:
    return [RESULTS, *records]


def returned_message(records: Iterable[bytes]) -> Frames:
    return [RETURNED, *records]


def stop_message(reason: str) -> Frames:
    return [STOP, reason.encode()]


def reject_message(reason: str) -> Frames:
    return [REJECT, reason.encode()]


def recall_message(n: int) -> Frames:
    return [RECALL, str(n).encode()]


def decode_recall(frames: Sequence[bytes]) -> int:
    """How many tasks a RECALL asks for (``frames`` starts with the kind)."""
    return int(frames[1])


def packages_message(packages: Dict[str, str]) -> Frames:
    return [PACKAGES, json.dumps(packages).encode()]


def decode_packages(frames: Sequence[bytes]) -> Dict[str, str]:
    """The {name: version} of a manager's PACKAGES answer ({} for the bare request, or
    for one that is not a JSON object: a bad frame must not stop the interchange)."""
    if len(frames) < 2:
        return {}
    try:
        data = json.loads(bytes(frames[1]))
    except (ValueError, UnicodeDecodeError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def decode_reason(frames: Sequence[bytes]) -> str:
    """The reason a STOP or REJECT gives ('' when it gives none)."""
    return frames[1].decode(errors="replace") if len(frames) > 1 else ""


def lane_offer_message(port: int, token: bytes) -> Frames:
    return [LANE, str(port).encode(), token]


def decode_lane_offer(frames: Sequence[bytes]) -> Tuple[int, bytes]:
    """(port, token) of a LANE message."""
    return int(frames[1]), bytes(frames[2])


# --- registration --------------------------------------------------------------------
#: The fields that must match between the submit side and a manager, in this order.
VERSION_FIELDS = ("python_v", "parsl_v", "protocol")


def version_info(parsl_version: str = VERSION) -> Dict[str, Any]:
    """What must match between the submit side and a manager."""
    return {"python_v": "{}.{}".format(*sys.version_info[:2]), "parsl_v": parsl_version,
            "protocol": PROTOCOL_VERSION}


def version_mismatch(ours: Dict[str, Any], theirs: Dict[str, Any]) -> str:
    """A human-readable difference, or '' when the versions are compatible."""
    diffs = [f"{k}: submit side {ours.get(k)!r}, manager {theirs.get(k)!r}"
             for k in VERSION_FIELDS if ours.get(k) != theirs.get(k)]
    return "; ".join(diffs)


class Registration(NamedTuple):
    """What a manager tells the interchange about itself when it connects.

    (A NamedTuple rather than a dataclass: workers import this module, and ``dataclasses``
    would add ~5 ms to every worker's start.)
    """

    python_v: str
    parsl_v: str
    protocol: int
    uid: str
    block_id: str
    worker_count: int
    prefetch_capacity: int
    #: workers + prefetch_capacity: the tasks the manager asks to hold.
    max_capacity: int
    start_time: float
    os: str
    hostname: str
    dir: str
    cpu_count: Optional[int]
    total_memory: Optional[int]
    pid: int
    #: The full version (major.minor.micro), reported by connected_managers(); only
    #: major.minor (``python_v``) must match.
    python_version: str = ""

    @classmethod
    def create(cls, *, uid: str, block_id: str, worker_count: int, prefetch_capacity: int,
               start_time: float, os: str, hostname: str, dir: str, cpu_count: Optional[int],
               total_memory: Optional[int], pid: int, parsl_version: str = VERSION) -> Registration:
        v = version_info(parsl_version)
        return cls(python_v=v["python_v"], parsl_v=v["parsl_v"], protocol=v["protocol"], uid=uid,
                   block_id=str(block_id), worker_count=worker_count, prefetch_capacity=prefetch_capacity,
                   max_capacity=worker_count + prefetch_capacity, start_time=start_time, os=os,
                   hostname=hostname, dir=dir, cpu_count=cpu_count, total_memory=total_memory, pid=pid,
                   python_version="{}.{}.{}".format(*sys.version_info[:3]))

    def versions(self) -> Dict[str, Any]:
        return {k: getattr(self, k) for k in VERSION_FIELDS}

    def as_dict(self) -> Dict[str, Any]:
        return self._asdict()


class BadRegistration(ValueError):
    """A REGISTER frame that is not a registration this side can read.

    ``versions`` holds the version fields it did carry when they differ from ours, or marks
    the frame unreadable (for the mismatch report); empty when the versions matched but the
    rest is malformed (refuse the peer; it is no manager of another version).
    """

    def __init__(self, message: str, versions: Optional[Dict[str, Any]] = None, unreadable: bool = False):
        super().__init__(message)
        self.versions = versions or {}
        #: Not a registration at all (not a JSON object): an older client's pickle, or garbage.
        self.unreadable = unreadable


def registration_message(reg: Registration) -> Frames:
    return [REGISTER, json.dumps(reg.as_dict()).encode()]


def decode_registration(frame: Buffer, ours: Optional[Dict[str, Any]] = None) -> Registration:
    """The registration in a REGISTER frame.

    Raises ``BadRegistration`` when the frame is not JSON, when its version fields differ
    from ``ours`` (then ``versions`` names theirs: a manager of another version may lay
    out the rest differently, so nothing else is read), or when fields are missing.
    """
    try:
        data = json.loads(bytes(frame))
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRegistration(f"not a registration of protocol {PROTOCOL_VERSION}: {e}",
                              {"protocol": "unreadable (an older or foreign client?)"}, unreadable=True) from None
    if not isinstance(data, dict):
        raise BadRegistration("a registration must be a JSON object", {"protocol": "unreadable"}, unreadable=True)
    theirs = {k: data.get(k) for k in VERSION_FIELDS}
    if ours is not None and version_mismatch(ours, theirs):
        raise BadRegistration(version_mismatch(ours, theirs), theirs)
    names = Registration._fields
    missing = [n for n in names if n not in data and n not in Registration._field_defaults]
    if missing:
        raise BadRegistration(f"registration lacks {missing}")
    wrong = [n for n, ok in _FIELD_CHECKS.items() if not ok(data[n])]
    if wrong:
        raise BadRegistration(f"registration fields of the wrong type or range: {wrong}")
    return Registration(**{n: data[n] for n in names if n in data})


def _count(v: Any) -> bool:
    return type(v) is int and 0 <= v < 1 << 31


def _optional_count(v: Any) -> bool:
    return v is None or (type(v) is int and v >= 0)


def _text(v: Any) -> bool:
    return isinstance(v, str) and len(v) <= 4096


#: What each registration field must be; a registration that breaks one is refused.
_FIELD_CHECKS = {
    "uid": _text, "block_id": _text, "worker_count": _count, "prefetch_capacity": _count,
    "max_capacity": _count, "start_time": lambda v: type(v) in (int, float), "os": _text,
    "hostname": _text, "dir": _text, "cpu_count": _optional_count, "total_memory": _optional_count,
    "pid": _count,
}


# --- the direct lane (lane.py carries these bytes) ---------------------------------------
LANE_MAGIC = b"CHL1"
LANE_TOKEN_BYTES = 32
#: A hello longer than this is not one of ours.
MAX_HELLO = len(LANE_MAGIC) + LANE_TOKEN_BYTES + _U16.size + 1024
_HELLO_HEAD = len(LANE_MAGIC) + LANE_TOKEN_BYTES + _U16.size
LaneMessage = Tuple[bytes, List[bytes]]


def encode_hello(token: bytes, uid: bytes) -> bytes:
    """The manager's first bytes on a lane: ``MAGIC | 32-byte token | u16le len | uid``."""
    return b"".join((LANE_MAGIC, token, _U16.pack(len(uid)), uid))


class Hello(NamedTuple):
    token: bytes
    uid: bytes
    #: How many bytes of the buffer the hello took (what follows is the first message).
    size: int


def parse_hello(buf: Buffer) -> Optional[Hello]:
    """The hello at the start of ``buf``, or None while it is incomplete.

    Raises ValueError for anything that is not a hello.  The token is not checked here:
    the lane compares it in constant time (``lane.check_hello``).
    """
    magic = len(LANE_MAGIC)
    if len(buf) < _HELLO_HEAD:
        if not LANE_MAGIC.startswith(bytes(buf[:magic])):
            raise ValueError("not a lane hello")
        return None
    if bytes(buf[:magic]) != LANE_MAGIC:
        raise ValueError("not a lane hello")
    (n,) = _U16.unpack_from(buf, _HELLO_HEAD - _U16.size)
    if len(buf) < _HELLO_HEAD + n:
        return None
    return Hello(bytes(buf[magic:magic + LANE_TOKEN_BYTES]), bytes(buf[_HELLO_HEAD:_HELLO_HEAD + n]),
                 _HELLO_HEAD + n)


def encode_lane_message(kind: bytes, records: Iterable[Buffer]) -> bytes:
    pack = _U32.pack
    parts: List[Buffer] = [b"", kind]
    size = 1
    for r in records:
        parts.append(pack(len(r)))
        parts.append(r)
        size += 4 + len(r)
    parts[0] = pack(size)
    return b"".join(parts)


def split_lane_messages(buf: Buffer) -> Tuple[List[LaneMessage], int]:
    """The whole messages at the start of ``buf`` as (kind, records), and the bytes they used.

    Raises ValueError for framing that is not ours (the caller drops the connection)."""
    out = []
    pos = 0
    end = len(buf)
    unpack = _U32.unpack_from
    while end - pos >= 4:
        (n,) = unpack(buf, pos)
        if end - pos - 4 < n:
            break
        body_end = pos + 4 + n
        if n < 1:
            raise ValueError("a lane message without its kind")
        kind = bytes(buf[pos + 4:pos + 5])
        records = []
        p = pos + 5
        while p < body_end:
            if body_end - p < 4:
                raise ValueError("a lane record cut short")
            (rn,) = unpack(buf, p)
            if body_end - p - 4 < rn:
                raise ValueError("a lane record longer than its message")
            records.append(bytes(buf[p + 4:p + 4 + rn]))
            p += 4 + rn
        out.append((kind, records))
        pos = body_end
    return out, pos


# --- manager -> worker start-up ----------------------------------------------------------
class WorkerConfig(NamedTuple):
    """How a manager starts one worker: ``python -m parsl._htex.worker <encode()>``."""

    task_fd: int
    result_fd: int
    lifeline_fd: int
    manager_pid: int
    rank: int
    debug: bool = False
    cpu_affinity: Optional[List[int]] = None
    #: None: no monitoring; < 0: report tasks' start and end only; else the sampling period (s).
    resource_monitoring_interval: Optional[float] = None
    logfile: Optional[str] = None

    def encode(self) -> str:
        return json.dumps(self._asdict())

    @classmethod
    def decode(cls, text: str) -> WorkerConfig:
        return cls(**json.loads(text))
