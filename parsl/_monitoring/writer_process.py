"""The database writer as its own process, so building rows and SQL never take the user
process's GIL away from the DFK and the HTEX interchange.

Parent side (``writer_client.WriterProcessClient``, re-exported here, owned by the hub's
``MonitoringRouter``): every flush period the router turns queued events into one flat list
of chunk items (``compact.compact_events``) and sends it as one chunk
(``records.encode_chunk``) down a pipe.  What only the child needs (SQLAlchemy, through
``db`` and ``events``) is imported in ``main``.

Child side (``main``, run as ``python -m parsl._monitoring.writer_process``): reads
chunks (held unopened while the router says a burst is on, see ``MAX_LAG_S``), folds
them into a ``Batch`` with ``events.BatchBuilder`` and writes it in one transaction, with
the number of the last chunk it holds (so a replacement writer skips what is in already),
then acknowledges it.  It ignores Ctrl-C (the parent decides).  On EOF it writes what it
has, does the end-of-run upkeep and exits; an EOF the parent did not announce (the
workflow's process died) marks the workflow's row completed now and incomplete.

Errors: "database is locked" is retried (``BUSY_RETRY_S``); a write that cannot succeed
(disk full, read-only, I/O error) is not retried: its batch is dropped, the parent is told
at once (it tells the user, once), and the workflow's row is marked incomplete if it can be.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import select
import signal
import sys
import time
from typing import Optional

from parsl._monitoring.writer_client import END, WriterProcessClient
from parsl._sampling.records import BURST, CHUNK_HEAD, decode_chunk

__all__ = ["WriterProcessClient", "main", "is_transient", "write_with_retries"]

logger = logging.getLogger("parsl.monitoring")


#: how long a busy ("database is locked") batch is retried before it is reported lost; at
#: the end of the run (the parent is waiting) only this long
BUSY_RETRY_S = 60.0
BUSY_RETRY_AT_END_S = 10.0


def is_transient(error: BaseException) -> bool:
    """True for "database is locked"/"busy" (another connection holds it: retry), False for a
    write that cannot succeed by waiting (disk full, read-only file, I/O error, no such table,
    ...): retrying those only delays cleanup and hides the reason."""
    orig = getattr(error, "orig", None) or error          # SQLAlchemy wraps the DBAPI error
    name = getattr(orig, "sqlite_errorname", None)        # Python >= 3.11
    if isinstance(name, str):
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    text = str(orig).lower()
    if "sqlite" in type(orig).__module__ or "database is" in text:
        return "locked" in text or "busy" in text
    # Another database (PostgreSQL): a lost connection, a deadlock or a serialization
    # failure are worth another try; SQLAlchemy calls those OperationalError.
    return type(error).__name__ == "OperationalError" or type(orig).__name__ == "OperationalError"


class WriteResult:
    """What happened to the batches this writer could not write (reported once)."""

    def __init__(self) -> None:
        self.first_error: Optional[str] = None
        self.lost_batches = 0
        self.lost_rows = 0


def write_with_retries(database, batch, result: WriteResult, retry_for: float = BUSY_RETRY_S) -> bool:
    """Write a batch.  A busy/locked database is retried for ``retry_for`` seconds (nothing
    lost); any other error, or one that outlasts that, drops the batch: counted in
    ``result`` (the caller reports the first one at once).  Monitoring must never take the
    workflow down, nor hold up its end."""
    delay = 0.1
    deadline = time.monotonic() + retry_for
    while True:
        try:
            database.write(batch)
            return True
        except Exception as e:
            transient = is_transient(e)
            if transient and time.monotonic() + delay < deadline:
                logger.warning("Monitoring database busy (%s); retrying the batch in %.1f s", e, delay)
                time.sleep(delay)     # back-off while the database is busy, not synchronisation
                delay = min(delay * 2, 2.0)
                continue
            reason = f"{type(e).__name__}: {getattr(e, 'orig', None) or e}".replace("\n", " ")[:500]
            if transient:
                reason = f"the database stayed busy for {retry_for:.0f} s ({reason})"
            if result.first_error is None:
                result.first_error = reason
                logger.error("Monitoring: a batch of %d rows could not be written (%s); later failures are "
                             "counted, not logged", len(batch), reason, exc_info=not transient)
            result.lost_batches += 1
            result.lost_rows += len(batch)
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


class _Chunks:
    """Length-prefixed chunks from the router's pipe, with a timeout (the writer's clock)."""

    EOF = object()

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()
        self.eof = False
        self.burst = False          # the last chunk's BURST flag
        self.ended = False          # the parent said the run ended (``writer_client.END``)

    def get(self, timeout: Optional[float]):
        """The next chunk; None when ``timeout`` seconds passed without one; ``EOF`` at the end
        (a partial chunk at the end, from a parent killed mid-write, is dropped)."""
        buf = self.buf
        while True:
            if len(buf) >= CHUNK_HEAD.size:
                n, flags = CHUNK_HEAD.unpack_from(buf)
                if flags & END:
                    del buf[:CHUNK_HEAD.size]
                    self.ended = True
                    continue
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


class _Writer:
    """The child's state: the database, the row builder, the chunks held, the replies."""

    def __init__(self, cfg: dict, db) -> None:
        # Deferred: SQLAlchemy (through events) is for this child process only.
        from parsl._monitoring.events import BatchBuilder
        self.cfg = cfg
        self.db = db
        self.run_id = cfg["run_id"]
        self.reply = cfg.get("ready_fd")
        self.builder = BatchBuilder(self.run_id, in_process_executors=cfg["in_process"])
        self.result = WriteResult()
        self.reported = False
        #: number of the next chunk to arrive; chunks up to ``committed`` are in the database
        #: already (a replacement writer is sent them again: it skips them)
        self.next = int(cfg.get("first", 1))
        self.committed = 0
        if cfg.get("resume"):
            self.committed = db.committed_chunk(self.run_id)
            self.builder.restore_states(db.task_states(self.run_id))
            self.builder.restore_workers(db.worker_hellos(self.run_id))
        self.held: list = []           # (number, payload) of chunks not yet folded into rows
        self.last_gc = time.monotonic()

    def say(self, line: str) -> None:
        if self.reply is None:
            return
        try:
            os.write(self.reply, (line.replace("\n", " ")[:3000] + "\n").encode(errors="replace"))
        except OSError:
            self.reply = None          # the parent is gone; the database is what is left

    def take(self, data: bytes) -> bool:
        """Number an arriving chunk; False if it was committed before (a replay)."""
        number, self.next = self.next, self.next + 1
        if number <= self.committed:
            return False
        self.held.append((number, data))
        return True

    def fold_and_write(self, retry_for: float = BUSY_RETRY_S) -> None:
        builder = self.builder
        last = self.held[-1][0] if self.held else None
        for _, data in self.held:
            for item in decode_chunk(data):
                try:
                    builder.add_wire(item)
                except Exception:
                    logger.exception("Monitoring: could not interpret an event; skipping it")
        self.held.clear()
        if builder.pending():
            batch = builder.take()
            if last is not None:
                batch.progress = (self.run_id, last)
            write_with_retries(self.db, batch, self.result, retry_for)
            self.report_loss()
        if last is not None:
            self.say(f"c {last}")
        if time.monotonic() - self.last_gc > 60:
            gc.collect()
            self.last_gc = time.monotonic()

    def report_loss(self) -> None:
        if self.result.first_error is not None and not self.reported:
            self.reported = True
            self.say(f"e monitoring rows could not be written to {self.cfg['url']}: {self.result.first_error}. "
                     f"The workflow goes on; later monitoring rows may be missing too.")

    def mark_incomplete(self, reason: str, ended: bool = False) -> None:
        """Mark the workflow's row incomplete (and, if the run is over, completed now) and say so."""
        try:
            self.db.mark_incomplete(self.run_id, reason, ended)
        except Exception as e:
            logger.error("Monitoring: could not mark run %s incomplete (%s): %s", self.run_id, reason, e)
        self.say(f"i the monitoring record of run {self.run_id} is incomplete: {reason}")

    def finish(self, ended_cleanly: bool) -> None:
        """After the last chunk: the worker reports still unmatched get a bounded number of
        chances, then the end-of-run upkeep."""
        self.fold_and_write(BUSY_RETRY_AT_END_S)
        builder = self.builder
        for _ in range(builder.MAX_UNRESOLVED_ROUNDS + 1):
            if not builder.pending():
                break
            write_with_retries(self.db, builder.take(), self.result, BUSY_RETRY_AT_END_S)
        self.report_loss()
        reasons = []
        if not ended_cleanly:
            reasons.append("the workflow's process ended without closing monitoring (killed?)")
        if builder.dropped and self.cfg.get("resume"):
            reasons.append(f"{builder.dropped} worker reports could not be matched to their tasks after the "
                           f"monitoring writer was restarted")
        if self.result.lost_batches:
            reasons.append(f"{self.result.lost_batches} batches ({self.result.lost_rows} rows) could not be "
                           f"written: {self.result.first_error}")
        if reasons:
            self.mark_incomplete("; ".join(reasons), ended=not ended_cleanly)
        try:
            self.db.fill_running_fallback(self.run_id)
            self.db.optimize()
        except Exception:
            logger.exception("Monitoring: end-of-run database upkeep failed (data is already written)")
        self.db.close()
        if ended_cleanly:
            self.say("d")


def _open(cfg: dict):
    """The database, or exit saying why (the parent reports it as a configuration error)."""
    # Deferred: SQLAlchemy (through db) is for this child process only; the user process
    # imports this module's package for WriterProcessClient.
    from parsl._monitoring.db import Database
    ready = cfg.get("ready_fd")
    try:
        db = Database(cfg["url"])
    except Exception as e:
        if ready is not None:
            os.write(ready, f"{type(e).__name__}: {e}".replace("\n", " ").encode()[:4000] + b"\n")
        raise SystemExit(1) from e
    return db


def main(argv=None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is for the parent to handle
    # The database, its WAL and this process's log are the user's alone (0600 files, 0700
    # folders): they hold task arguments and results' metadata.
    os.umask(0o077)
    # A log file on a full disk must not print a "Logging error" per record on the
    # workflow's stderr: the writer reports what matters through the parent, once.
    logging.raiseExceptions = False
    lower_priority()
    cfg = json.loads((argv or sys.argv[1:])[0])
    if cfg.get("log"):
        logging.basicConfig(filename=cfg["log"], level=logging.INFO,
                            format="%(asctime)s %(name)s [%(levelname)s] %(message)s")
    w = _Writer(cfg, _open(cfg))
    w.say("ok")
    if cfg.get("incomplete"):
        w.mark_incomplete(cfg["incomplete"], ended=bool(cfg.get("ended")))
    chunks = _Chunks(cfg["fd"])
    # Rows are tuples that live until their batch commits: the cycle collector would keep
    # re-walking them (a third of the build time) and nothing here makes cycles worth
    # finding often.  Collect between batches, at most once a minute, instead.
    gc.disable()
    backlog = 0              # bytes held
    since = 0.0              # when the oldest of them arrived
    burst = False            # the router's last chunk said a burst is on
    while True:
        if w.held:
            wait = since + MAX_LAG_S - time.monotonic() if burst else 0.0
            if wait <= 0.0 or backlog >= MAX_BACKLOG_BYTES:
                w.fold_and_write()
                backlog = 0
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
        if not w.held:
            since = time.monotonic()
        if w.take(data):
            backlog += len(data)
        elif not w.held:
            w.say(f"c {w.next - 1}")     # a replayed chunk committed before: acknowledge it again
    w.finish(chunks.ended)


if __name__ == "__main__":
    main()
    os._exit(0)
