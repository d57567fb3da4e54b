"""Large task records from a manager to its worker through a file in shared memory.

A record of ``FILE_RECORD_BYTES`` or more (a task with a large argument) does not go
through the worker's pipe: pushing 100 MB through a 1 MiB pipe costs the manager a copy
into its write buffer and ~100 wake-ups of both processes, and the worker a second copy
out of the pipe (measured: ~330 ms of the 1.7 s a 100 MB argument took a network away).
Instead the manager writes the record once into a file in ``/dev/shm`` (tmpfs: memory, not
disk) and sends the worker a short *pointer* on the pipe; the worker maps the file and
unpickles the arguments straight from the mapping.

The files:

* are created with ``O_EXCL | O_NOFOLLOW`` and mode 0600 in a directory only root and the
  owner can delete from (``/dev/shm`` is sticky), named after the manager's pid namespace
  and pid, the task and a random part, so no one else can read or replace them;
* are unlinked by the worker as soon as it has mapped one (the memory then lives only as
  long as the mapping), by the manager when the task's result arrives, when the worker
  dies, and when the manager closes; and at start-up a manager deletes the files left by
  managers of this user that died without closing (SIGKILL): their pid no longer runs.

Pipe framing (``protocol.RECORD_HEAD``): a u32 length then the record, as always; a
length of ``FILE_POINTER`` instead says that a pointer follows: u64 task id, u32 path
length, the path (the task id lets the worker fail that task if the file is gone).
"""
from __future__ import annotations

import logging
import mmap
import os
import secrets
import struct
from typing import Dict, Optional, Tuple

from parsl._htex.protocol import LARGE_ARGUMENT_BYTES

logger = logging.getLogger("parsl.htex.taskfiles")

#: Task records at least this large go through a file (smaller ones: the pipe is cheaper);
#: the same bound as the client's for building a record in one buffer.
FILE_RECORD_BYTES = LARGE_ARGUMENT_BYTES
#: Where the files go; if it is missing or not writable, every record uses the pipe.
SHM_DIR = "/dev/shm"
#: The RECORD_HEAD length that announces a pointer instead of a record.
FILE_POINTER = 0xFFFFFFFF
PREFIX = "chervil-task-"
_POINTER = struct.Struct("<QI")
_LENGTH = struct.Struct("<I")


def pointer(task_id: int, path: str) -> bytes:
    """What the manager writes to the worker's pipe for a record in the file ``path``."""
    p = os.fsencode(path)
    return _LENGTH.pack(FILE_POINTER) + _POINTER.pack(task_id, len(p)) + p


class TaskFiles:
    """The manager's side: writes records to files and removes them again."""

    def __init__(self, directory: Optional[str] = SHM_DIR, threshold: int = FILE_RECORD_BYTES):
        self.threshold = threshold
        self.directory = directory if directory and os.access(directory, os.W_OK | os.X_OK) else None
        #: path of every file not yet known to be removed, by task id
        self.paths: Dict[int, str] = {}
        if self.directory is not None:
            remove_orphans(self.directory)

    def wants(self, record) -> bool:
        return self.directory is not None and len(record) >= self.threshold

    def write(self, task_id: int, record) -> Optional[str]:
        """Write ``record`` to a new file; its path, or None (then use the pipe) on any error."""
        assert self.directory is not None
        path = os.path.join(self.directory, f"{PREFIX}{_PID_NS}-{os.getpid()}-{task_id}-{secrets.token_hex(6)}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as e:
            logger.warning("cannot create %s (%s): large task records go through the pipe", path, e)
            self.directory = None
            return None
        try:
            view = memoryview(record).cast("B")
            while view:
                n = os.write(fd, view)
                view = view[n:]
        except OSError as e:    # ENOSPC: /dev/shm is full
            os.close(fd)
            _unlink(path)
            logger.warning("cannot write task %d's record to %s (%s): it goes through the pipe", task_id, path, e)
            return None
        os.close(fd)
        self.paths[task_id] = path
        return path

    def done(self, task_id: int) -> None:
        """The task's result arrived, or it will never run: its file goes (if still there)."""
        path = self.paths.pop(task_id, None)
        if path is not None:
            _unlink(path)

    def close(self) -> None:
        for task_id in list(self.paths):
            self.done(task_id)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass        # the worker removed it once it had mapped it
    except OSError as e:
        logger.warning("cannot remove %s: %s", path, e)


def _pid_namespace() -> str:
    """This process's pid namespace (a pid means something only within it)."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "0"


_PID_NS = _pid_namespace()


def remove_orphans(directory: str) -> int:
    """Delete this user's task files whose manager no longer runs; how many.  Only files of
    this pid namespace are judged (another container sharing /dev/shm has its own pids)."""
    removed = 0
    uid = os.getuid()
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        if not name.startswith(PREFIX):
            continue
        ns, _, rest = name[len(PREFIX):].partition("-")
        pid_text = rest.split("-", 1)[0]
        if ns != _PID_NS or not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        path = os.path.join(directory, name)
        try:
            if os.lstat(path).st_uid != uid:
                continue
            os.unlink(path)
            removed += 1
        except OSError:
            pass
    if removed:
        logger.info("removed %d task file(s) left in %s by managers that died", removed, directory)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- the worker's side --------------------------------------------------------------------
def read_pointer(read) -> Tuple[int, str]:
    """(task id, path) of a pointer whose FILE_POINTER length was just read, via ``read(n)``."""
    head = read(_POINTER.size)
    if len(head) < _POINTER.size:
        raise EOFError("the manager closed the pipe inside a pointer")
    task_id, n = _POINTER.unpack(head)
    path = read(n)
    if len(path) < n:
        raise EOFError("the manager closed the pipe inside a pointer")
    return task_id, os.fsdecode(path)


def map_record(path: str) -> mmap.mmap:
    """The record in ``path``, mapped read-only; the file is unlinked (the mapping keeps it)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        mapped = mmap.mmap(fd, size, prot=mmap.PROT_READ)
    finally:
        os.close(fd)
        _unlink(path)
    return mapped


def release(mapped: Optional[mmap.mmap]) -> None:
    """Unmap a record once nothing points into it (else the collector unmaps it later)."""
    if mapped is not None:
        try:
            mapped.close()
        except BufferError:
            pass
