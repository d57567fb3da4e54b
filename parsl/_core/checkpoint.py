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

import logging
import os
import pickle
import re
import threading
import warnings
import weakref
import zlib
from collections import deque
from typing import Any, Deque, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from parsl._base.errors import BadCheckpoint
from parsl._core.checkpoint_file import (  # re-exported: the format and reading live there
    CHECKPOINT_DIRNAME,
    FRAME,
    HEADER,
    HEADER_PREFIX,
    PARSL_TASKS_FILENAME,
    RUN_DIR,
    TASKS_FILENAME,
    VERSION,
    CheckpointSet,
    LoadedCheckpoint,
    check_header,
    read_checkpoint_file,
    read_checkpoint_set,
    resolve_checkpoint_files,
)

logger = logging.getLogger(__name__)

# Checkpoints hold results, which may be private: readable by their owner only, whatever
# the umask (see docs/checkpoint-format.md, "File modes").
FILE_MODE = 0o600


# ---------------------------------------------------------------------------------------
# Finding checkpoints (re-exported by parsl.utils with Parsl's names and signatures)
# ---------------------------------------------------------------------------------------

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
    runs = [e for e in os.listdir(rundir) if RUN_DIR.match(e)]
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
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload, skipped


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
        self.records_written = 0
        self.failure: Optional[CheckpointWriteError] = None   # the first write failure
        self._pending: Deque[Record] = deque()
        self._unwritten: List[Tuple[bytes, int]] = []   # encoded frames a failed write left
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
        """Write everything queued; returns the number of records written.

        Raises CheckpointWriteError if the file cannot be written (a full disk): the records
        stay queued, to be retried by the next ``flush`` and at close."""
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
        if items:
            data, skipped = encode_frame(items)
            self.records_skipped += skipped
            if data:
                self._unwritten.append((data, len(items) - skipped))
        unwritten = self._unwritten
        if not unwritten and not create:
            return 0
        written = 0
        try:
            fd = self._open()
            # Frame by frame (usually one): on a filling disk, keep every batch that fits.
            while unwritten:
                data, n = unwritten[0]
                _append_all_or_nothing(fd, data, self.fsync)
                del unwritten[0]
                written += n
                self.records_written += n
        except OSError as e:
            raise self._failed(e) from e
        return written

    def unwritten(self) -> int:
        """Records queued or encoded and not yet written."""
        return len(self._pending) + sum(n for _, n in self._unwritten)

    def _failed(self, e: OSError) -> CheckpointWriteError:
        """Report the first write failure at once (a warning the user sees, and the log);
        later failures of the same writer are only counted."""
        lost = self.unwritten()
        err = CheckpointWriteError(
            e.errno or 0,
            f"Checkpoint {self.path} could not be written ({e.strerror or e}): {lost} "
            f"result(s) are not checkpointed. They stay cached for this run and are written by "
            f"the next dfk.checkpoint() or at cleanup if the write succeeds then; free space there "
            f"(or give Config(run_dir=...) on another file system) to keep them")
        if self.failure is None:
            self.failure = err
            logger.error("%s", err)
            warnings.warn(str(err), CheckpointWriteWarning, stacklevel=3)
        else:
            logger.debug("checkpoint write failed again: %s", e)
        return err

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
        try:
            self._create_file(tmp)
        except OSError:
            _remove_tree_quietly(tmp)   # a full disk: leave no half-made directory behind
            raise
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
            if os.write(fd, HEADER) != len(HEADER):
                raise OSError(28, "short write of the checkpoint header")
            os.fsync(fd)
        except OSError:
            os.close(fd)
            os.unlink(tmp)
            raise
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
            if self.failure is not None:
                continue   # after a failed write (full disk) retry only at checkpoint() and close
            try:
                self.flush()
            except CheckpointWriteError:
                pass       # reported once by _failed
            except Exception:
                logger.exception("Checkpoint writer could not append to %s", self.path)
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
            reported_before = self.failure is not None
            try:
                if self.flush_at_close:
                    # create: a run whose tasks all failed still leaves a (loadable) checkpoint
                    self._flush_locked(create=True)
                else:
                    self._pending.clear()
            except Exception as e:
                # Cleanup must go on: say what the checkpoint is missing instead of raising.
                # A failure first met here was just reported by _failed; one reported earlier
                # gets its final tally; anything else (a foreign file in the way) is reported.
                lost = self.unwritten()
                if reported_before or not isinstance(e, CheckpointWriteError):
                    cause = e.__cause__ if isinstance(e.__cause__, OSError) else e
                    why = (cause.strerror if isinstance(cause, OSError) and cause.strerror
                           else f"{type(e).__name__}: {e}")
                    msg = (f"Checkpoint {self.path} is incomplete: {lost} result(s) of this run "
                           f"were not written ({why}); a run that loads it recomputes them")
                    logger.error("%s", msg)
                    warnings.warn(msg, CheckpointWriteWarning, stacklevel=2)
            finally:
                self._closed = True
                self._pending.clear()
                self._unwritten.clear()
                if self._fd is not None:
                    try:
                        os.close(self._fd)
                    except OSError:
                        pass
                    self._fd = None
        _LIVE_WRITERS.discard(self)


class CheckpointWriteError(OSError):
    """A checkpoint file could not be written (e.g. the disk is full); its records stay queued."""


class CheckpointWriteWarning(RuntimeWarning):
    """Shown once per checkpoint when results could not be written to it."""


def _append_all_or_nothing(fd: int, data: bytes, fsync: bool) -> None:
    """Append ``data`` and fsync; on failure cut the file back to where it was, so a partial
    write (ENOSPC mid-frame) never leaves a torn frame before later, good ones."""
    start = os.fstat(fd).st_size
    view = memoryview(data)
    try:
        while view:
            n = os.write(fd, view)
            view = view[n:]
        if fsync:
            os.fsync(fd)
    except OSError:
        try:
            os.ftruncate(fd, start)
        except OSError:
            pass
        raise


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
        if w.delay is None or w.failure is not None:
            continue  # manual/dfk_exit: written only when the user or cleanup says so
        try:
            w.flush()
        except CheckpointWriteError:
            pass      # reported once by the writer
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
# Loading (reading is parsl._core.checkpoint_file)
# ---------------------------------------------------------------------------------------

def load_checkpoint_set(entries: Iterable[Union[str, os.PathLike[str]]], *,
                        skip_empty_dirs: bool = False) -> CheckpointSet:
    """Load several checkpoints (Chervil's and reference Parsl's); later entries override
    earlier ones. Results still queued by this process's writers are flushed first.

    ``skip_empty_dirs``: a directory with no checkpoint file is passed over with a warning
    instead of raising (for checkpoints found automatically, not named by the user).
    """
    flush_all_writers()
    return read_checkpoint_set(entries, skip_empty_dirs=skip_empty_dirs)


def load_checkpoints(entries: Iterable[Union[str, os.PathLike[str]]]) -> Tuple[Dict[str, Any], List[Tuple[bytes, str]]]:
    """Chervil-format results and manifests of several checkpoints (see load_checkpoint_set)."""
    loaded = load_checkpoint_set(entries)
    return loaded.results, loaded.manifests


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
           "load_checkpoints", "load_checkpoint_set", "parse_period", "flush_all_writers", "encode_frame",
           "CHECKPOINT_DIRNAME", "FRAME", "HEADER", "HEADER_PREFIX", "PARSL_TASKS_FILENAME", "RUN_DIR",
           "TASKS_FILENAME", "VERSION", "CheckpointSet", "LoadedCheckpoint", "check_header",
           "read_checkpoint_set", "resolve_checkpoint_files", "CheckpointWriteError",
           "CheckpointWriteWarning"]
