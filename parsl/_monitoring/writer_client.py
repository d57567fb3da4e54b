"""The parent's side of the database writer process (``writer_process``): start it, send it
chunks, and replace it if it dies.

Two pipes join them.  Chunks go down the first (``records.encode_chunk``; chunk number n is
the n-th chunk sent, counted by both sides).  Replies come up the second, one line each:

* ``ok`` once the database is open and the schema made (or the reason it could not be);
* ``c N``: every chunk up to N is committed (or was reported lost): the parent forgets them;
* ``e TEXT``: a write failed for good (disk full, read-only file, ...): tell the user now;
* ``i TEXT``: the writer marked the workflow's row incomplete, and why;
* ``d``: the end-of-run writes are done (the parent closed the chunk pipe cleanly).

The parent keeps every chunk it sent until it is acknowledged, so a writer that is killed
(or crashes) is replaced by a new one that is sent those chunks again; the writer records
the last chunk it committed in the database, in the same transaction as the rows, so a
chunk is never written twice (``db.Database.committed_chunk``).
"""
from __future__ import annotations

import collections
import json
import os
import select
import subprocess
import sys
import time
from typing import Callable, Deque, List, Optional, Tuple

from parsl._sampling.records import CHUNK_HEAD, encode_chunk

#: a chunk-header flag only the parent's ``close`` sends (with no payload): "this is the
#: end of the run".  EOF without it means the workflow's process died.
END = 0x80


class WriterProcessClient:
    """Starts the writer process, sends it chunks, replaces it.  ``close()`` is idempotent."""

    def __init__(self, url: str, run_id: str, in_process_executors=(), log_path: Optional[str] = None):
        self._cfg = {"url": url, "run_id": run_id, "in_process": list(in_process_executors), "log": log_path}
        #: chunks sent and not yet acknowledged: (number, header, payload)
        self._unacked: Deque[Tuple[int, bytes, bytes]] = collections.deque()
        self._next = 1
        #: chunks acknowledged so far (by any writer process): progress, for waits
        self.acked = 0
        self.restarts = 0
        #: the writer finished its end-of-run writes (a ``d`` reply)
        self.done = False
        self._closed = False
        self.final_reports: List[str] = []
        self._spawn(first=1, resume=False)

    def _spawn(self, first: int, resume: bool, incomplete: Optional[str] = None) -> None:
        r, w = os.pipe()
        self._w: Optional[int] = w
        reply_r, reply_w = os.pipe()
        self._reply: Optional[int] = reply_r
        self._buf = b""
        self._ready = False
        self.broken = False
        self.done = False
        cfg = dict(self._cfg, fd=r, ready_fd=reply_w, first=first, resume=resume, incomplete=incomplete,
                   ended=resume and incomplete is not None and not self._unacked)
        self.proc = subprocess.Popen([sys.executable, "-m", "parsl._monitoring.writer_process", json.dumps(cfg)],
                                     pass_fds=(r, reply_w), stdin=subprocess.DEVNULL, start_new_session=True)
        os.close(r)
        os.close(reply_w)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the writer has opened the database and created the schema; raise
        RuntimeError with its reason if it could not."""
        if self._ready:
            return
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            fd = self._reply
            if fd is None or left <= 0 or not select.select([fd], [], [], left)[0]:
                raise RuntimeError(f"the monitoring writer process did not start within {timeout:.0f} s")
            data = os.read(fd, 65536)
            if not data:
                code = self.proc.poll()
                raise RuntimeError(self._buf.decode(errors="replace").strip()
                                   or f"the monitoring writer process exited (status {code})")
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        if line.strip() != b"ok":
            raise RuntimeError(line.decode(errors="replace").strip())
        self._ready = True
        if self._reply is not None:
            os.set_blocking(self._reply, False)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def poll(self) -> List[str]:
        """Read the writer's replies that arrived; forget acknowledged chunks; return the
        reports the user must be told (``e``/``i`` lines), once each."""
        fd = self._reply
        if fd is None or not self._ready:
            return []
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                break
            self._buf += data
        reports = []
        *lines, self._buf = self._buf.split(b"\n")
        for raw in lines:
            kind, _, text = raw.decode(errors="replace").partition(" ")
            if kind == "c":
                acked = int(text)
                while self._unacked and self._unacked[0][0] <= acked:
                    self._unacked.popleft()
                    self.acked += 1
            elif kind in ("e", "i"):
                reports.append(text)
            elif kind == "d":
                self.done = True
        return reports

    def unacked(self) -> int:
        return len(self._unacked)

    def send(self, items, burst: bool = False) -> None:
        """One chunk of wire items; ``burst``: the stream goes on at full speed (an empty
        chunk without it says the burst is over).  Kept until the writer acknowledges it."""
        head, data = encode_chunk(items, burst)
        self._unacked.append((self._next, head, data))
        self._next += 1
        if self.broken or self._w is None:
            return          # a replacement writer gets it
        try:
            _write_all(self._w, head)       # two writes: no copy
            _write_all(self._w, data)
        except OSError:
            self.broken = True
            raise

    def restart(self, incomplete: Optional[str] = None, replay: bool = True, timeout: float = 60.0) -> None:
        """Replace a writer that died: a new one is sent every chunk not acknowledged (it
        skips those already committed).  ``incomplete``: why the record of this run is known
        to be incomplete (the new writer marks the workflow's row; ``replay=False``: and
        completed, and it is sent nothing old)."""
        self._reap()
        self.restarts += 1
        self._closed = False
        if not replay:
            self._unacked.clear()
        first = self._unacked[0][0] if self._unacked else self._next
        self._spawn(first, resume=True, incomplete=incomplete)
        try:
            self.wait_ready(timeout)
            for _, head, data in list(self._unacked):
                _write_all(self._w, head)
                _write_all(self._w, data)
        except (OSError, RuntimeError):
            self.broken = True

    def wait_while_progressing(self, finished: Callable[[float], bool], timeout: float) -> Tuple[bool, List[str]]:
        """Wait for ``finished(timeout)`` (True once what is awaited is over) for as long as
        the writer acknowledges chunks meanwhile: ``timeout`` bounds a stretch without
        progress, not the whole wait.  Returns whether it finished, and the reports read."""
        reports: List[str] = []
        while True:
            acked = self.acked
            if finished(timeout):
                return True, reports
            reports += self.poll()
            if self.acked == acked:
                return False, reports

    def _exited(self, timeout: float) -> bool:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        """Stop a hung writer at once; its pipes stay open (a write blocked on one fails
        with a broken pipe, and ``restart`` closes them)."""
        if self.proc.poll() is None:
            self.proc.kill()

    def _reap(self) -> None:
        """Close this writer's pipes and make sure it is gone."""
        for fd in (self._w, self._reply):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._w = self._reply = None
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self, timeout: float = 60.0) -> Optional[int]:
        """Tell the writer the run ended, wait for it (then terminate, then kill); return its
        exit status.  ``done`` says whether it finished its end-of-run writes.

        ``timeout`` bounds a stretch without progress, not the whole wait: while the writer
        acknowledges chunks it is working through a backlog (a long burst's rows can take
        minutes), and stopping it would throw away what it had not committed."""
        if self._closed:
            return self.proc.returncode
        self._closed = True
        if self._w is not None:
            try:
                _write_all(self._w, CHUNK_HEAD.pack(0, END))
            except OSError:
                pass
            os.close(self._w)      # EOF: the child writes what it has and exits
            self._w = None
        exited, reports = self.wait_while_progressing(self._exited, timeout)
        if not exited:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        code: Optional[int] = self.proc.wait()
        self.final_reports = reports + self.poll()
        if self._reply is not None:
            os.close(self._reply)
            self._reply = None
        return code


def _write_all(fd, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
