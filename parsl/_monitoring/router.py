"""The monitoring writer: one background thread that batches events into the database.

Producers (the DFK thread, executor threads, receivers) only ``append`` to a deque,
which is atomic under the GIL and costs well under a microsecond: the task path never
waits on the database.  The writer wakes every ``flush_period`` seconds (or at once
when closing), folds everything queued into one ``Batch`` and writes it in one
transaction.

Failure policy: a busy/locked database (``OperationalError``) is retried with the same
batch, so nothing is lost; any other error is logged with the batch dropped, because
monitoring must never take the workflow down.  ``close()`` drains the queue
completely before returning, so a normal end or a Ctrl-C (via the hub's atexit hook)
loses nothing.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Callable, Optional

logger = logging.getLogger("parsl.monitoring")

# Upper bound on items folded into one transaction; keeps one commit short so a slow
# disk does not stall close() behind one giant batch.
MAX_ITEMS_PER_BATCH = 200_000


class MonitoringRouter:
    """Owns the writer thread.  ``put`` is thread-safe; ``close`` is idempotent."""

    def __init__(self, database, builder, flush_period: float = 0.5,
                 on_batch: Optional[Callable[[], None]] = None):
        self.database = database
        self.builder = builder
        self.flush_period = flush_period
        self.on_batch = on_batch
        self._queue: collections.deque = collections.deque()
        self.put = self._queue.append          # the hot path: a bound C method
        self._wake = threading.Event()
        self._closing = False
        self._thread: Optional[threading.Thread] = None
        self.written_batches = 0
        self.dropped_batches = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="parsl-monitoring-writer", daemon=True)
        self._thread.start()

    def _drain_into_builder(self) -> int:
        popleft, add = self._queue.popleft, self.builder.add
        n = 0
        while n < MAX_ITEMS_PER_BATCH:
            try:
                item = popleft()
            except IndexError:
                break
            try:
                add(item)
            except Exception:
                logger.exception("Monitoring: could not interpret message %r; skipping it", item[:2])
            n += 1
        return n

    def flush(self) -> None:
        """Write everything queued so far (called by the writer thread only)."""
        while True:
            n = self._drain_into_builder()
            if not self.builder.pending():
                return
            self._write(self.builder.take())
            if n < MAX_ITEMS_PER_BATCH:
                return

    def _write(self, batch) -> None:
        from sqlalchemy.exc import OperationalError
        delay = 0.1
        for attempt in range(50):
            try:
                self.database.write(batch)
                self.written_batches += 1
                if self.on_batch is not None:
                    self.on_batch()
                return
            except OperationalError as e:
                logger.warning("Monitoring database busy (%s); retrying the batch in %.1f s", e, delay)
                time.sleep(delay)     # back-off while the database is busy, not synchronisation
                delay = min(delay * 2, 2.0)
            except Exception:
                logger.exception("Monitoring: a batch of %d rows could not be written and was dropped",
                                 len(batch))
                self.dropped_batches += 1
                return
        logger.error("Monitoring: database stayed busy; dropped a batch of %d rows", len(batch))
        self.dropped_batches += 1

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(self.flush_period)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                logger.exception("Monitoring writer failed to flush")
        try:
            self.flush()          # whatever arrived while closing
        except Exception:
            logger.exception("Monitoring writer failed in its final flush")

    def close(self, timeout: float = 30.0) -> None:
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
            if t.is_alive():
                logger.error("Monitoring writer did not finish within %.0f s; %d events unwritten",
                             timeout, len(self._queue))
        elif t is None:
            self.flush()          # never started: write synchronously
