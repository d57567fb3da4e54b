"""Checkpoint files: an append-only log of cached results that survives crashes.

Format (documented for users in docs/checkpoint-format.md):

    header   16 bytes  b"\\x89CHERVIL-CKPT\\r\\n" + b"\\x1a" + version (1 byte)
    frame*   8 bytes   <u32 payload length><u32 CRC-32 of the payload>
             payload   pickle of (keys: [hex str], manifests: [bytes], results: [object])

A frame is one batch of results: everything that completed since the previous write.
Reading is one CRC and one unpickle per batch, so 100,000 results load in a fraction of
a second.

Why it is safe:
  * The file is born complete: the header is written to a temporary file, fsync'ed and
    renamed into place, so a reader never sees a half-written header.
  * Records are only ever appended, never rewritten (Parsl #230 truncated its file). A batch
    of records goes out in one ``write`` on an ``O_APPEND`` descriptor; when a process is
    killed (even by SIGKILL) the kernel has either taken a ``write`` or not, and what it took
    reaches the disk although the process is gone.
  * Every record carries its length and a CRC, so a record torn by a power loss (only
    possible in the not-yet-fsync'ed tail) is recognised and ignored; damage *before* the
    tail is reported as ``BadCheckpoint`` naming the file and offset, never read as a result.
  * ``fsync`` runs after each batch in the background writer, and synchronously for
    ``checkpoint()`` and ``close()``.
"""
from __future__ import annotations

import gc
import logging
import os
import pickle
import re
import struct
import threading
import weakref
import zlib
from collections import deque
from typing import Any, Deque, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from parsl._base.errors import BadCheckpoint
from parsl._core.parsl_format import read_parsl_checkpoint_file

logger = logging.getLogger(__name__)

CHECKPOINT_DIRNAME = "checkpoint"
TASKS_FILENAME = "tasks.ckpt"
PARSL_TASKS_FILENAME = "tasks.pkl"  # reference Parsl's format: read (see read_parsl_checkpoint_file)
VERSION = 1
HEADER = b"\x89CHERVIL-CKPT\r\n\x1a" + bytes([VERSION])
HEADER_PREFIX = HEADER[:-1]
_FRAME = struct.Struct("<II")   # payload length, CRC-32 of payload
# Checkpoints hold results, which may be private: readable by their owner only, whatever
# the umask (see docs/checkpoint-format.md, "File modes").
FILE_MODE = 0o600


# ---------------------------------------------------------------------------------------
# Finding checkpoints (re-exported by parsl.utils with Parsl's names and signatures)
# ---------------------------------------------------------------------------------------

_RUN_DIR = re.compile(r"^[0-9]*[0-9]$")


def get_all_checkpoints(rundir: str = "runinfo") -> List[str]:
    """Absolute paths of every ``<rundir>/<run>/checkpoint`` directory, oldest run first.

    ``[]`` if ``rundir`` does not exist.
    """
    if not os.path.isdir(rundir):
        return []
    flush_all_writers()  # make results of still-open runs in this process visible
    found = []
    for entry in sorted(os.listdir(rundir)):
        path = os.path.join(rundir, entry, CHECKPOINT_DIRNAME)
        if os.path.isdir(path):
            found.append(os.path.abspath(path))
    return found


def get_last_checkpoint(rundir: str = "runinfo") -> List[str]:
    """The checkpoint directory of the numerically latest run that has one, as a 0/1-element list."""
    if not os.path.isdir(rundir):
        return []
    flush_all_writers()
    runs = [e for e in os.listdir(rundir) if _RUN_DIR.match(e)]
    for entry in sorted(runs, key=int, reverse=True):
        path = os.path.join(rundir, entry, CHECKPOINT_DIRNAME)
        if os.path.isdir(path):
            return [os.path.abspath(path)]
    return []


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------

Record = Tuple[str, bytes, Any]   # (key hex, encoded manifest, result)


def _bad(message: str) -> BadCheckpoint:
    return BadCheckpoint(message)


def encode_frame(items: Sequence[Record]) -> Tuple[bytes, int]:
    """One framed batch of (key hex, manifest bytes, result); returns (frame, skipped).

    Results that cannot be pickled are left out (with a warning): they stay cached for this
    run only. Results built in __main__ or a notebook (lambdas, local classes) go through
    cloudpickle, whose output plain pickle can load wherever cloudpickle is installed.
    """
    keys = [k for k, _, _ in items]
    manifests = [m for _, m, _ in items]
    results = [r for _, _, r in items]
    skipped = 0
    try:
        payload = pickle.dumps((keys, manifests, results), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        import cloudpickle  # deferred: only for results plain pickle refuses
        keep = []
        for item in items:
            try:
                cloudpickle.dumps(item[2], protocol=pickle.HIGHEST_PROTOCOL)
                keep.append(item)
            except Exception as e:
                skipped += 1
                logger.warning("Result with cache key %s is not checkpointed: it cannot be "
                               "pickled (%s: %s). It stays cached for this run only.",
                               item[0], type(e).__name__, e)
        if not keep:
            return b"", skipped
        payload = cloudpickle.dumps(([k for k, _, _ in keep], [m for _, m, _ in keep],
                                     [r for _, _, r in keep]), protocol=pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload, skipped


class CheckpointWriter:
    """Appends records to one run's checkpoint file.

    ``add`` only queues (a deque append: cheap, safe from any thread). ``flush`` encodes
    what is queued, appends it with one ``write`` and fsyncs; it is serialised by a lock and
    may be called from any thread. In ``task_exit`` mode a background thread owned by this
    writer flushes at most ``delay`` seconds after a record is queued.
    """

    def __init__(self, checkpoint_dir: str, *, delay: Optional[float] = None, fsync: bool = True,
                 flush_at_close: bool = True, name: str = "chervil-checkpoint") -> None:
        self.dir = checkpoint_dir
        self.path = os.path.join(checkpoint_dir, TASKS_FILENAME)
        self.fsync = fsync
        self.delay = delay
        self.flush_at_close = flush_at_close
        self.records_skipped = 0
        self._pending: Deque[Record] = deque()
        self._lock = threading.Lock()          # serialises flush/close; never held by add()
        self._fd: Optional[int] = None
        self._closed = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        if delay is not None:
            # Daemon: Parsl scripts often end with parsl.clear() and no cleanup(); the atexit
            # hook below flushes what is queued, so exiting never loses a recorded result.
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()
        _LIVE_WRITERS.add(self)

    # -- producer side ------------------------------------------------------------------
    def add(self, key_hex: str, manifest: bytes, result: Any) -> None:
        self._pending.append((key_hex, manifest, result))
        if self._thread is not None and not self._wake.is_set():
            self._wake.set()

    def pending(self) -> int:
        return len(self._pending)

    # -- writing ------------------------------------------------------------------------
    def flush(self, *, create: bool = False) -> int:
        """Write everything queued; returns the number of records written."""
        with self._lock:
            if self._closed:
                return 0
            return self._flush_locked(create)

    def _flush_locked(self, create: bool) -> int:
        items: List[Record] = []
        pending = self._pending
        while True:
            try:
                items.append(pending.popleft())
            except IndexError:
                break
        data = b""
        skipped = 0
        if items:
            data, skipped = encode_frame(items)
            self.records_skipped += skipped
        if not data and not create:
            return 0
        fd = self._open()
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        if self.fsync and data:
            os.fsync(fd)
        return len(items) - skipped if items else 0

    def _open(self) -> int:
        if self._fd is None:
            if not os.path.isdir(self.dir):
                self._create_dir()
            elif not os.path.exists(self.path):
                self._create_file(self.dir)
            else:
                check_header(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        return self._fd

    def _create_dir(self) -> None:
        """The checkpoint directory is born holding a complete file: it is built under a
        temporary name and renamed into place, so a kill never leaves a ``checkpoint``
        directory without a checkpoint file (which the next run would refuse, as Parsl does)."""
        parent = os.path.dirname(self.dir) or "."
        os.makedirs(parent, exist_ok=True)
        tmp = os.path.join(parent, f".{os.path.basename(self.dir)}.tmp-{os.getpid()}")
        os.makedirs(tmp, mode=0o700, exist_ok=True)
        self._create_file(tmp)
        try:
            os.rename(tmp, self.dir)
        except OSError:
            if not os.path.isfile(self.path):   # not another writer's complete directory
                raise
            _remove_tree_quietly(tmp)
        _fsync_dir(parent)

    def _create_file(self, directory: str) -> None:
        # Born complete: header into a temp file, fsync, rename, fsync the directory.
        path = os.path.join(directory, TASKS_FILENAME)
        tmp = f"{path}.tmp-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.write(fd, HEADER)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(directory)

    # -- background flushing (task_exit / periodic) --------------------------------------
    def _run(self) -> None:
        wake, stop = self._wake, self._stop
        while True:
            wake.wait()
            if stop.is_set():
                return
            # Batch: give other completions `delay` seconds to join this write.
            stop.wait(self.delay)
            wake.clear()  # before draining: a record queued after this re-arms the wake-up
            try:
                self.flush()
            except Exception:
                logger.exception("Checkpoint writer could not append to %s; will retry on the "
                                 "next result and at close", self.path)
            if stop.is_set():
                return

    def close(self) -> None:
        """Flush what is queued, stop the writer thread, close the file. Idempotent."""
        self._stop.set()
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=30)
        with self._lock:
            if self._closed:
                return
            try:
                if self.flush_at_close:
                    # create: a run whose tasks all failed still leaves a (loadable) checkpoint
                    self._flush_locked(create=True)
                else:
                    self._pending.clear()
            finally:
                self._closed = True
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
        _LIVE_WRITERS.discard(self)


def _remove_tree_quietly(path: str) -> None:
    for name in os.listdir(path):
        try:
            os.unlink(os.path.join(path, name))
        except OSError:
            pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_LIVE_WRITERS: weakref.WeakSet[CheckpointWriter] = weakref.WeakSet()


def flush_all_writers() -> None:
    """Write out the queued records of this process's ``task_exit``/``periodic`` writers
    (before reading checkpoints back: a tutorial-style script calls parsl.clear() without
    cleanup() and immediately reloads with get_all_checkpoints())."""
    for w in list(_LIVE_WRITERS):
        if w.delay is None:
            continue  # manual/dfk_exit: written only when the user or cleanup says so
        try:
            w.flush()
        except Exception:
            logger.exception("Could not flush checkpoint %s", w.path)


def _at_exit() -> None:
    # The interpreter is exiting without DFK cleanup: keep what a mode promised to record.
    for w in list(_LIVE_WRITERS):
        try:
            w.close()
        except Exception:
            pass


import atexit  # noqa: E402  (kept next to the hook it registers)

atexit.register(_at_exit)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------

class LoadedCheckpoint:
    """The results of one checkpoint file: ``results`` (key hex -> value), ``manifests``
    (list of encoded manifests), ``torn_tail`` (bytes ignored at the end after a crash)."""

    __slots__ = ("path", "results", "manifests", "torn_tail")

    def __init__(self, path: str) -> None:
        self.path = path
        self.results: Dict[str, Any] = {}
        self.manifests: List[bytes] = []
        self.torn_tail = 0


def check_header(path: str, head: Optional[bytes] = None) -> None:
    if head is None:
        with open(path, "rb") as f:
            head = f.read(len(HEADER))
    if head == HEADER:
        return
    if head.startswith(HEADER_PREFIX):
        raise _bad(
            f"Checkpoint file {path} has format version {head[len(HEADER_PREFIX)]}, but this "
            f"Chervil reads version {VERSION}. Upgrade Chervil, or leave this checkpoint out of "
            f"checkpoint_files.")
    raise _bad(_foreign_message(path, head))


def _foreign_message(path: str, head: bytes) -> str:
    if head[:1] == b"\x80":
        what = "a Python pickle (reference Parsl's checkpoint format?)"
    elif not head:
        what = "empty"
    else:
        what = "not a Chervil checkpoint"
    return (f"Checkpoint file {path} is {what}: it does not start with Chervil's checkpoint "
            f"header. Results cannot be trusted from it; leave it out of checkpoint_files "
            f"(or move it away from the run directory).")


def read_checkpoint_file(path: str) -> LoadedCheckpoint:
    """Parse one checkpoint file. Raises BadCheckpoint naming the file on any damage
    other than a torn final frame."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise _bad(f"Cannot read checkpoint file {path}: {e.strerror or e}") from e
    check_header(path, data[:len(HEADER)])
    out = LoadedCheckpoint(path)
    results = out.results
    manifests = out.manifests
    view = memoryview(data)
    pos = len(HEADER)
    end = len(data)
    while pos < end:
        if end - pos < _FRAME.size:
            out.torn_tail = end - pos
            break
        length, crc = _FRAME.unpack_from(data, pos)
        start = pos + _FRAME.size
        stop = start + length
        if stop > end:
            if _only_torn_tail(data, pos):
                out.torn_tail = end - pos
                break
            raise _corrupt(path, pos, "impossible frame length")
        if zlib.crc32(view[start:stop]) != crc:
            # A crash mid-write leaves a *short* frame (handled above). A full-length frame
            # whose bytes do not match its checksum was changed after it was written.
            raise _corrupt(path, pos, "checksum mismatch")
        gc_was_on = gc.isenabled()
        gc.disable()  # unpickling 100,000s of objects would trigger many useless full collections
        try:
            keys, frame_manifests, values = pickle.loads(view[start:stop])
        except Exception as e:
            raise _bad(
                f"Checkpoint file {path}: the results stored at offset {pos} cannot be "
                f"unpickled: {type(e).__name__}: {e}. Usually the code that defined a result's "
                f"type changed or is not importable here; make it importable, or leave this "
                f"checkpoint out of checkpoint_files.") from e
        finally:
            if gc_was_on:
                gc.enable()
        results.update(zip(keys, values))
        manifests.extend(frame_manifests)
        pos = stop
    if out.torn_tail:
        logger.info("Checkpoint file %s ends with %d bytes of an incomplete batch (the run was "
                    "interrupted while writing); ignored: those results will be recomputed",
                    path, out.torn_tail)
    return out


def _only_torn_tail(data: bytes, pos: int) -> bool:
    """True if no valid frame starts anywhere after ``pos``: the damage is a torn tail
    (a crash mid-write), not corruption in the middle of good data."""
    end = len(data)
    p = pos + 1
    view = memoryview(data)
    find = data.find
    while p + _FRAME.size < end:
        # Every frame's payload is a pickle of protocol >= 2: it starts with 0x80.
        p = find(b"\x80", p + _FRAME.size)
        if p < 0:
            return True
        p -= _FRAME.size
        length, crc = _FRAME.unpack_from(data, p)
        stop = p + _FRAME.size + length
        if stop <= end and zlib.crc32(view[p + _FRAME.size:stop]) == crc:
            return False
        p += 1
    return True


def _corrupt(path: str, pos: int, why: str) -> BadCheckpoint:
    return _bad(
        f"Checkpoint file {path} is damaged at offset {pos} ({why}): its bytes changed after "
        f"they were written, so no result is read from it. Restore it from a backup, leave it "
        f"out of checkpoint_files, or keep the results before the damage with "
        f"`truncate -s {pos} {path}`.")


class CheckpointSet:
    """Everything loaded from a list of checkpoints: Chervil's ``results`` (key hex -> value) and
    ``manifests`` ([(encoded manifest, origin label)]), and the results of checkpoints written
    by reference Parsl, keyed by Parsl's key: ``parsl_results`` and the pickle protocols
    their keys were made with (``parsl_protocols``)."""

    __slots__ = ("results", "manifests", "parsl_results", "parsl_protocols", "files")

    def __init__(self) -> None:
        self.results: Dict[str, Any] = {}
        self.manifests: List[Tuple[bytes, str]] = []
        self.parsl_results: Dict[str, Any] = {}
        self.parsl_protocols: List[int] = []
        self.files: List[str] = []


def resolve_checkpoint_files(entry: Union[str, os.PathLike[str]]) -> List[str]:
    """The checkpoint files of one ``checkpoint_files`` entry (a checkpoint dir, or a file).

    A directory yields Chervil's ``tasks.ckpt`` and/or reference Parsl's ``tasks.pkl``.
    Raises BadCheckpoint for a missing path, and (as Parsl does) for a directory holding
    neither file.
    """
    path = os.fspath(entry)
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise _bad(
            f"Checkpoint {path} does not exist. checkpoint_files takes checkpoint directories "
            f"such as those returned by parsl.utils.get_all_checkpoints().")
    found = [os.path.join(path, name) for name in (TASKS_FILENAME, PARSL_TASKS_FILENAME)
             if os.path.isfile(os.path.join(path, name))]
    if not found:
        raise _bad(
            f"Checkpoint directory {path} holds no checkpoint file ({TASKS_FILENAME} or "
            f"{PARSL_TASKS_FILENAME}): the run that made it stopped before writing one, or the "
            f"file was removed. Leave this directory out of checkpoint_files, or delete it "
            f"(`rmdir {path}`) if it is empty.")
    return found


def load_checkpoint_set(entries: Iterable[Union[str, os.PathLike[str]]], *,
                        skip_empty_dirs: bool = False) -> CheckpointSet:
    """Load several checkpoints; later entries override earlier ones (as in Parsl).

    ``skip_empty_dirs``: a directory with no checkpoint file is passed over with a warning
    instead of raising (for checkpoints found automatically, not named by the user).
    """
    flush_all_writers()
    out = CheckpointSet()
    for entry in entries:
        try:
            paths = resolve_checkpoint_files(entry)
        except BadCheckpoint:
            if skip_empty_dirs and os.path.isdir(os.fspath(entry)):
                logger.warning("Checkpoint directory %s holds no checkpoint file; skipped", entry)
                continue
            raise
        for path in paths:
            out.files.append(path)
            with open(path, "rb") as f:
                head = f.read(len(HEADER))
            if head[:1] == b"\x80" or (not head and path.endswith(PARSL_TASKS_FILENAME)):
                results, protocol = read_parsl_checkpoint_file(path)
                out.parsl_results.update(results)
                if results and protocol not in out.parsl_protocols:
                    out.parsl_protocols.append(protocol)
                continue
            loaded = read_checkpoint_file(path)
            out.results.update(loaded.results)
            origin = _origin_label(path)
            out.manifests.extend((m, origin) for m in loaded.manifests)
    return out


def load_checkpoints(entries: Iterable[Union[str, os.PathLike[str]]]) -> Tuple[Dict[str, Any], List[Tuple[bytes, str]]]:
    """Chervil-format results and manifests of several checkpoints (see load_checkpoint_set)."""
    loaded = load_checkpoint_set(entries)
    return loaded.results, loaded.manifests


def _origin_label(path: str) -> str:
    """'run 003' for <rundir>/003/checkpoint/tasks.ckpt, else the path."""
    parts = os.path.normpath(path).split(os.sep)
    if len(parts) >= 3 and parts[-2] == CHECKPOINT_DIRNAME and _RUN_DIR.match(parts[-3]):
        return f"run {parts[-3]}"
    return path


def parse_period(period: Any) -> float:
    """'HH:MM:SS' -> seconds. Raises ValueError with the reason."""
    if not isinstance(period, str):
        raise ValueError(f"checkpoint_period must be a string 'HH:MM:SS', not {type(period).__name__}")
    m = re.fullmatch(r"\s*(\d+):([0-5]?\d):([0-5]?\d)\s*", period)
    if not m:
        raise ValueError(f"checkpoint_period {period!r} is not of the form 'HH:MM:SS'")
    h, mi, s = (int(x) for x in m.groups())
    seconds = h * 3600 + mi * 60 + s
    if seconds <= 0:
        raise ValueError(f"checkpoint_period {period!r} must be longer than zero")
    return float(seconds)


__all__ = ["get_all_checkpoints", "get_last_checkpoint", "CheckpointWriter", "read_checkpoint_file",
           "load_checkpoints", "parse_period", "flush_all_writers", "encode_frame"]
