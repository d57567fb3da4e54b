"""The monitoring router: moves events from the user process to the database writer.

Producers (the DFK thread, executor threads) only ``extend`` a list by one event of
``WIDTH`` entries, which is atomic under the GIL and costs well under a microsecond: the
task path never waits.  An event is ``(record, state, epoch_ts, try_id, fail_count,
exec_fu)`` for a task state change (the kernel's ``TaskEvent``), or ``(kind, a, b, None,
None, None)`` for anything else (``kind`` a ``records.Kind`` code; ``QueueSink``, the
``MonitoringSink`` executors are given, puts those).  The router's thread
wakes every ``flush_period`` seconds (or at once when closing) and, unless a burst is on
(``BUSY_EVENTS_PER_S``: then it waits for the burst to end, at most ``MAX_HOLD_S``), turns
what is queued into one flat list of chunk items (``compact.compact_events``) and sends it,
one pickle per flush, to the writer process (``writer_process``), which builds rows and
writes them.  Keeping row building and SQL out of this process is what makes monitoring
nearly free for the DFK and the HTEX interchange, which share this process's GIL.

``close()`` drains the queue completely, then closes the pipe; the writer writes the
rest and exits, so a normal end or a Ctrl-C (via the hub's atexit hook) loses nothing.

A writer process that dies (killed, crashed) is noticed at the next tick and replaced
(``writer_client``): the new one is sent every chunk the old one had not acknowledged, and
skips those it had committed, so nothing the hub held is lost.  What the old one had
learnt (which executor task id is which try) is gone with it: worker reports for tries
launched before it died that cannot be matched are counted, and the workflow's row is
marked incomplete with the reason (``workflow.monitoring_incomplete``).  After
``MAX_RESTARTS`` deaths the router stops recording; at close one last writer marks the
row incomplete and completed.  A write that cannot succeed (disk full) is reported by the
writer at once; the router tells the user (log and a ``RuntimeWarning``), once.
"""
from __future__ import annotations

import logging
import threading
import time
import warnings
from typing import Any, Optional

from parsl._base.monitoring_sink import MonitoringSink
from parsl._monitoring.compact import WIDTH, compact_events
from parsl._sampling.records import Kind

logger = logging.getLogger("parsl.monitoring")

#: Events arriving faster than this mean a burst: the router then holds them, unread,
#: and compacts them when the burst ends (the first period slower than this), or after
#: ``MAX_HOLD_S``, or once ``MAX_HELD_EVENTS`` are queued.  Compaction reads every task
#: record (~1 us per event with the records out of cache: ~3 us of the router thread's CPU
#: per HTEX no-op task) under the GIL the DFK and the HTEX interchange need.  The queue
#: holds references only (records stay alive at most this much longer).
#:
#: The limits are long on purpose.  Compacting *during* a burst costs far more than its
#: CPU time: the router's GIL-bound stretch (reading ~1e5 records, then one pickle call
#: nothing interrupts) makes every thread that waits on I/O (the interchange, the result
#: thread) wait up to a switch interval (5 ms) each time it wants the GIL back.  With
#: 2 s / 200,000 events, HTEX ran 300,000 no-op tasks at ~0.61 of its monitoring-off
#: rate; holding the whole burst, at ~0.84 (``docs/scale.md``).  The price: a live view
#: lags up to ``MAX_HOLD_S`` during a long burst, and up to ``MAX_HELD_EVENTS`` events
#: (6 references each, ~50 MB at the limit) keep their task records alive until then.
BUSY_EVENTS_PER_S = 2000
MAX_HOLD_S = 15.0
MAX_HELD_EVENTS = 1_000_000
#: writer processes replaced in one run before the router gives up recording
MAX_RESTARTS = 5


class QueueSink(MonitoringSink):
    """What executors send to (``executor.monitoring_messages``): every call is one
    ``extend`` of the router's queue by one event, opened only in the writer process."""

    __slots__ = ("_ext", "_interval")

    def __init__(self, extend, sampling_interval: Optional[float] = None):
        self._ext = extend
        self._interval = sampling_interval

    def sampling_interval(self) -> Optional[float]:
        return self._interval

    def send(self, message_type: Any, payload: dict) -> None:
        self._ext((Kind.MESSAGE, message_type, payload, None, None, None))

    def worker_batch(self, executor_label: str, data: bytes) -> None:
        self._ext((Kind.WORKER_BATCH, executor_label, data, None, None, None))

    def task_ends(self, executor_label: str, data: bytes) -> None:
        self._ext((Kind.TASK_ENDS, executor_label, data, None, None, None))

    # The callable form, bound directly (no extra frame): ``hub.send(kind, payload)``.
    __call__ = send


class MonitoringRouter:
    """Owns the router thread and the writer process.  ``put`` is thread-safe; ``close`` is
    idempotent."""

    def __init__(self, client, flush_period: float = 0.5, sampling_interval: Optional[float] = None):
        self.client = client
        self.flush_period = flush_period
        #: events, WIDTH entries each; a list, not a deque: the flush takes everything
        #: queued with one slice (a deque would need a popleft per entry)
        self.queue: list = []
        self._wake = threading.Event()
        self._held_since: Optional[float] = None      # monotonic time the current hold began
        self._seen = 0                                # events queued at the previous check
        #: events arrived at burst speed in the last period (chunks sent then say so)
        self.burst = False
        self._sent_burst = False
        self._closing = False
        self._thread: Optional[threading.Thread] = None
        #: the writer died MAX_RESTARTS times: nothing more is sent; why
        self.gave_up: Optional[str] = None
        self._dropped = 0                             # chunk items not recorded since then
        self._told: set = set()                       # kinds of report the user was given
        #: the ``MonitoringSink`` that feeds this router's queue
        self.sink = QueueSink(self.queue.extend, sampling_interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="parsl-monitoring-router", daemon=True)
        self._thread.start()

    def put(self, message) -> None:
        """Queue one Parsl message ``(message_type, payload)``."""
        self.sink.send(message[0], message[1])

    def flush(self) -> None:
        q = self.queue
        n = len(q)
        n -= n % WIDTH            # whole events only (each came in one extend)
        # Two C-level steps, each atomic under the GIL; producers only append at the end.
        events = q[:n]
        del q[:n]
        items: list = []
        compact_events(items, events, self._skip)
        burst = self.burst
        # An empty chunk still tells the writer that a burst is over (it may hold rows).
        if self.gave_up is not None:
            self._dropped += len(items)
            return
        if items or (self._sent_burst and not burst):
            self._sent_burst = burst
            try:
                self.client.send(items, burst)
            except OSError as e:
                # The chunk is kept: the writer's replacement gets it (see check_writer).
                logger.warning("Monitoring writer process is gone (%s); it will be replaced", e)

    def check_writer(self) -> None:
        """Hand the writer's reports to the user; replace a writer that died."""
        client = self.client
        for text in client.poll():
            self.tell(text)
        if self.gave_up is not None or client.alive():
            return
        code = client.proc.returncode
        if client.restarts >= MAX_RESTARTS:
            self.gave_up = (f"the monitoring writer process died {client.restarts + 1} times (last status "
                            f"{code}); monitoring stopped recording this run")
            self.tell(self.gave_up)
            return
        logger.warning("Monitoring writer process died (status %s); starting another and sending it the %d "
                       "chunks not yet written", code, client.unacked())
        client.restart()

    def tell(self, text: str) -> None:
        """Tell the user something about monitoring that needs their attention: the first of
        each kind (a write that failed for good; an incomplete record) as a warning on
        stderr too, every one in the log."""
        logger.error("Monitoring: %s", text)
        kind = "lost" if "could not be written" in text else "incomplete"
        if kind not in self._told:
            self._told.add(kind)
            warnings.warn(f"Monitoring: {text}", RuntimeWarning, stacklevel=2)

    @staticmethod
    def _skip(event, exc) -> None:
        logger.error("Monitoring: could not read event %r; skipping it", event[:2], exc_info=exc)

    def hold(self, now: float) -> bool:
        """At a tick of the batching clock: True to leave what is queued for a later tick
        (a burst is on, see ``BUSY_EVENTS_PER_S``)."""
        queued = len(self.queue) // WIDTH
        arrived, self._seen = queued - self._seen, queued
        self.burst = arrived >= BUSY_EVENTS_PER_S * self.flush_period
        if self.burst and queued < MAX_HELD_EVENTS and now - (self._held_since or now) < MAX_HOLD_S:
            if self._held_since is None:
                self._held_since = now
            return True
        self._held_since = None
        return False

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(self.flush_period)     # the batching clock; close() wakes it early
            self._wake.clear()
            try:
                self.check_writer()
            except Exception:
                logger.exception("Monitoring router failed to check the writer process")
            if self._closing or self.hold(time.monotonic()):
                continue
            try:
                self.flush()
            except Exception:
                logger.exception("Monitoring router failed to flush")
            self._seen = len(self.queue) // WIDTH
        self._final_flush()

    def _final_flush(self) -> None:
        """Whatever arrived while closing, marked as the end of any burst."""
        self.burst = False
        try:
            self.flush()
        except Exception:
            logger.exception("Monitoring router failed in its final flush")

    def close(self, timeout: float = 60.0) -> None:
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            self._join(t, timeout)
        elif t is None:
            self._final_flush()
        self._close_writer(timeout)

    def _join(self, t: threading.Thread, timeout: float) -> None:
        """Wait for the router thread's last flush, which blocks writing to the pipe for as
        long as the writer is busy with earlier chunks (a long burst's backlog can take
        minutes).  Wait while the writer acknowledges chunks; kill one that stops (hung):
        that ends the write, and its replacement gets what it had not committed.  Nothing
        else may write to the pipe meanwhile: a second writer would interleave its bytes
        with the chunk's (a 2,000,000-task run's writer died of exactly that)."""
        def joined(wait: float) -> bool:
            t.join(wait)
            return not t.is_alive()

        while True:
            done, reports = self.client.wait_while_progressing(joined, timeout)
            for text in reports:
                self.tell(text)
            if done:
                return
            logger.error("Monitoring writer process acknowledged nothing for %.0f s at the end of the run; "
                         "stopping it (a replacement writes what it had not committed)", timeout)
            self.client.kill()

    def _close_writer(self, timeout: float) -> None:
        """Close the writer; one that dies before its end-of-run writes are done is replaced
        (it gets what it had not written) and closed again."""
        client = self.client
        while True:
            if self.gave_up is not None:
                # One last writer, sent nothing: it marks the run incomplete and completed.
                client.restart(incomplete=self.gave_up + (f" ({self._dropped} events not recorded)"
                                                          if self._dropped else ""), replay=False)
                self.gave_up = None
                code = client.close(timeout)
                break
            code = client.close(timeout)
            if client.done or code == 0:
                break
            if client.restarts >= MAX_RESTARTS:
                self.gave_up = f"the monitoring writer process died at the end of the run (status {code})"
                self.tell(self.gave_up)
                continue
            logger.warning("Monitoring writer process died at the end of the run (status %s); starting "
                           "another for the %d chunks not yet written", code, client.unacked())
            client.restart()
        for text in client.final_reports:
            self.tell(text)
        if code:
            logger.error("Monitoring writer process exited with status %s", code)
