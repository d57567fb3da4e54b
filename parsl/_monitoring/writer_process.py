"""The database writer as its own process, so building rows and SQL never take the user
process's GIL away from the DFK and the HTEX interchange.

Parent side (``WriterProcessClient``, owned by the hub's ``MonitoringRouter``): every
flush period the router turns queued events into one flat list of chunk items
(``compact.compact_events``) and sends it as one chunk (``records.encode_chunk``) down a
pipe.  This module is imported by the hub in the user process for the client alone:
what only the child needs (SQLAlchemy, through ``db`` and ``events``) is imported in
``main``.

Child side (``main``, run as ``python -m parsl._monitoring.writer_process``): reads
chunks (held unopened while the router says a burst is on, see ``MAX_LAG_S``), folds
them into a ``Batch`` with ``events.BatchBuilder`` and writes it in one transaction.  It
ignores Ctrl-C (the parent decides), and on EOF (parent closed the pipe, or died) it
writes what it has, does the end-of-run upkeep and exits.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import select
import signal
import subprocess
import sys
import time
from typing import Optional

from parsl._sampling.records import BURST, CHUNK_HEAD, decode_chunk, encode_chunk

logger = logging.getLogger("parsl.monitoring")


class WriterProcessClient:
    """Starts the writer process and sends it chunks.  ``close()`` is idempotent."""

    def __init__(self, url: str, run_id: str, in_process_executors=(), log_path: Optional[str] = None):
        r, self._w = os.pipe()
        ready_r, ready_w = os.pipe()
        self._ready_r: Optional[int] = ready_r
        cfg = {"fd": r, "ready_fd": ready_w, "url": url, "run_id": run_id,
               "in_process": list(in_process_executors), "log": log_path}
        self.proc = subprocess.Popen([sys.executable, "-m", "parsl._monitoring.writer_process", json.dumps(cfg)],
                                     pass_fds=(r, ready_w), stdin=subprocess.DEVNULL, start_new_session=True)
        os.close(r)
        os.close(ready_w)
        self._closed = False
        self.broken = False

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the writer has opened the database and created the schema; raise
        RuntimeError with its reason if it could not."""
        fd, self._ready_r = self._ready_r, None
        if fd is None:
            return
        data = b""
        deadline = time.monotonic() + timeout
        try:
            while not data.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise RuntimeError(f"the monitoring writer process did not start within {timeout:.0f} s")
                chunk = os.read(fd, 65536)
                if not chunk:
                    code = self.proc.poll()
                    raise RuntimeError(data.decode(errors="replace").strip()
                                       or f"the monitoring writer process exited (status {code})")
                data += chunk
        finally:
            os.close(fd)
        if data.strip() != b"ok":
            raise RuntimeError(data.decode(errors="replace").strip())

    def send(self, items, burst: bool = False) -> None:
        """One chunk of wire items; ``burst``: the stream goes on at full speed (an empty
        chunk without it says the burst is over)."""
        if self.broken:
            return
        head, data = encode_chunk(items, burst)
        try:
            _write_all(self._w, head)       # two writes: no copy
            _write_all(self._w, data)
        except OSError:
            self.broken = True
            raise

    def close(self, timeout: float = 60.0) -> Optional[int]:
        if self._closed:
            return self.proc.returncode
        self._closed = True
        if self._ready_r is not None:
            os.close(self._ready_r)
            self._ready_r = None
        try:
            os.close(self._w)      # EOF: the child writes what it has and exits
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                return self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()


def write_with_retries(database, batch, attempts: int = 50) -> bool:
    """Write a batch; a busy/locked database is retried (nothing lost), any other error is
    logged and the batch dropped (monitoring must never take the workflow down)."""
    # Deferred: the database modules are for the writer process only (see the docstring).
    import sqlite3

    from sqlalchemy.exc import OperationalError
    delay = 0.1
    for _ in range(attempts):
        try:
            database.write(batch)
            return True
        except (OperationalError, sqlite3.OperationalError) as e:
            logger.warning("Monitoring database busy (%s); retrying the batch in %.1f s", e, delay)
            time.sleep(delay)     # back-off while the database is busy, not synchronisation
            delay = min(delay * 2, 2.0)
        except Exception:
            logger.exception("Monitoring: a batch of %d rows could not be written and was dropped", len(batch))
            return False
    logger.error("Monitoring: database stayed busy; dropped a batch of %d rows", len(batch))
    return False


def lower_priority() -> None:
    """Run only on CPU nobody else wants: during a burst the writer falls behind (coalescing
    rows meanwhile) and catches up afterwards, so it never slows the workflow's own work.

    SCHED_IDLE (Linux) is stronger than nice 19: a nice-19 process still gets a slice of
    a busy core and is not always preempted at once when a worker or the DFK wakes up."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
    try:
        os.nice(19)
    except (AttributeError, OSError):
        pass


def _write_all(fd, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Chunks:
    """Length-prefixed chunks from the router's pipe, with a timeout (the writer's clock)."""

    EOF = object()

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()
        self.eof = False
        self.burst = False          # the last chunk's BURST flag

    def get(self, timeout: Optional[float]):
        """The next chunk; None when ``timeout`` seconds passed without one; ``EOF`` at the end
        (a partial chunk at the end, from a parent killed mid-write, is dropped)."""
        buf = self.buf
        while True:
            if len(buf) >= CHUNK_HEAD.size:
                n, flags = CHUNK_HEAD.unpack_from(buf)
                if len(buf) >= CHUNK_HEAD.size + n:
                    data = bytes(buf[CHUNK_HEAD.size:CHUNK_HEAD.size + n])
                    del buf[:CHUNK_HEAD.size + n]
                    self.burst = bool(flags & BURST)
                    return data
            if self.eof:
                return self.EOF
            if timeout is not None:
                ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
                if not ready:
                    return None
            data = os.read(self.fd, 1 << 20)
            if not data:
                self.eof = True
            buf += data


#: While the router marks chunks ``BURST`` (tasks streaming in at full speed, see
#: ``router.BUSY_EVENTS_PER_S``) the writer keeps them as they came (not even unpickled)
#: and works when the burst ends (the router's next chunk is not marked), so that it
#: takes no CPU, cache or disk bandwidth from the workflow during a burst (even at idle
#: priority, building rows during a burst of no-op tasks cost ~10% of HTEX throughput on
#: 2 cores) ... but it never holds them longer than this (a live view lags at most this
#: much, plus the router's ``MAX_HOLD_S``), nor more than MAX_BACKLOG_BYTES (memory).
MAX_LAG_S = 5.0
MAX_BACKLOG_BYTES = 32_000_000


def main(argv=None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is for the parent to handle
    lower_priority()
    cfg = json.loads((argv or sys.argv[1:])[0])
    if cfg.get("log"):
        logging.basicConfig(filename=cfg["log"], level=logging.INFO,
                            format="%(asctime)s %(name)s [%(levelname)s] %(message)s")
    # Deferred: SQLAlchemy (through db and events) is for this child process only; the
    # user process imports this module for WriterProcessClient.
    from parsl._monitoring.db import Database
    from parsl._monitoring.events import BatchBuilder
    ready = cfg.get("ready_fd")
    try:
        db = Database(cfg["url"])
    except Exception as e:
        if ready is not None:
            os.write(ready, f"{type(e).__name__}: {e}".replace("\n", " ").encode()[:4000] + b"\n")
        raise SystemExit(1) from e
    if ready is not None:
        os.write(ready, b"ok\n")
        os.close(ready)
    builder = BatchBuilder(cfg["run_id"], in_process_executors=cfg["in_process"])
    chunks = _Chunks(cfg["fd"])
    # Rows are tuples that live until their batch commits: the cycle collector would keep
    # re-walking them (a third of the build time) and nothing here makes cycles worth
    # finding often.  Collect between batches, at most once a minute, instead.
    gc.disable()
    last_gc = time.monotonic()
    held: list = []          # chunks not yet folded into rows
    backlog = 0              # their bytes
    since = 0.0              # when the oldest of them arrived
    add = builder.add_wire

    def fold_and_write() -> None:
        for data in held:
            for item in decode_chunk(data):
                try:
                    add(item)
                except Exception:
                    logger.exception("Monitoring: could not interpret an event; skipping it")
        held.clear()
        if builder.pending():
            write_with_retries(db, builder.take())

    burst = False            # the router's last chunk said a burst is on
    while True:
        if held:
            wait = since + MAX_LAG_S - time.monotonic() if burst else 0.0
            if wait <= 0.0 or backlog >= MAX_BACKLOG_BYTES:
                fold_and_write()
                backlog = 0
                if time.monotonic() - last_gc > 60:
                    gc.collect()
                    last_gc = time.monotonic()
                continue
        else:
            wait = None
        data = chunks.get(wait)
        if data is chunks.EOF:
            break
        if data is None:          # held for MAX_LAG_S: write them (next turn)
            burst = False
            continue
        burst = chunks.burst
        if not held:
            since = time.monotonic()
        held.append(data)
        backlog += len(data)
    fold_and_write()
    # Worker messages whose try was never announced get a bounded number of chances.
    for _ in range(builder.MAX_UNRESOLVED_ROUNDS + 1):
        if not builder.pending():
            break
        write_with_retries(db, builder.take())
    try:
        db.fill_running_fallback(cfg["run_id"])
        db.optimize()
    except Exception:
        logger.exception("Monitoring: end-of-run database upkeep failed (data is already written)")
    db.close()


if __name__ == "__main__":
    main()
    os._exit(0)
