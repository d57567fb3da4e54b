"""The thin shell that runs the scaling policy: one thread, one pass per period.

Each pass, for each block executor: poll its blocks' status (rate-limited by the
executor to its provider's polling interval), let its block error handler look at
the result, record block state changes in its ``BlockLifeLog``; then run the
strategy over all executors.  ``close()`` stops the thread and cancels every block
still alive, so ``cleanup()`` or Ctrl-C leaves no job behind (Parsl#2961: blocks of
an executor in bad state were never cancelled).

Lock order: ``_pass_lock`` only; a pass never calls back into this object.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional

from parsl._base.errors import ConfigurationError
from parsl._scaling.blocklog import BlockLifeLog
from parsl._scaling.snapshot import ScalableExecutor, status_of
from parsl._scaling.strategy import Strategy

logger = logging.getLogger(__name__)


def is_block_executor(executor: object) -> bool:
    """Whether ``executor`` has blocks to scale (the thread pool has none)."""
    return all(hasattr(executor, a) for a in ("provider", "scale_out_facade", "scale_in_facade", "status"))


class ScalingLoop:
    def __init__(self, *, strategy: Optional[str] = "simple", strategy_period: float = 5.0,
                 max_idletime: float = 120.0, clock: Callable[[], float] = time.monotonic,
                 run_in_thread: bool = True) -> None:
        if strategy_period is None or strategy_period <= 0:
            raise ConfigurationError(f"strategy_period={strategy_period!r}: give a positive number of seconds")
        self.strategy_period = float(strategy_period)
        self.strategy = Strategy(strategy=strategy, max_idletime=max_idletime, clock=clock)
        self._executors: List[ScalableExecutor] = []
        self._logs: Dict[str, BlockLifeLog] = {}
        self._pass_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._closed = False
        # False: no thread; the owner (a test, a benchmark) calls run_pass() itself.
        self._run_in_thread = run_in_thread

    # --- owner interface -------------------------------------------------------
    def add_executors(self, executors: Iterable[Any]) -> None:
        block_executors: List[ScalableExecutor] = [ex for ex in executors if is_block_executor(ex)]
        with self._pass_lock:
            for ex in block_executors:
                log = BlockLifeLog()
                self._logs[ex.label] = log
                # optional: an executor written for Parsl may have no such attribute, or a
                # read-only one (see ScalableExecutor)
                if getattr(ex, "block_history", None) is None:
                    try:
                        setattr(ex, "block_history", log)  # noqa: B010
                    except AttributeError:
                        pass
                self._executors.append(ex)
            self.strategy.add_executors(block_executors)
        if block_executors and not self._closed and self._run_in_thread:
            self._ensure_thread()
            self._wake.set()   # first pass now: counts the init blocks HTEX already submitted

    def history(self, label: str) -> BlockLifeLog:
        return self._logs[label]

    def run_pass(self) -> None:
        """One poll + strategy pass (the thread calls this; tests may call it directly)."""
        with self._pass_lock:
            executors = list(self._executors)
            for ex in executors:
                self._poll(ex)
            try:
                applied = self.strategy.strategize(executors)
            except Exception:
                logger.exception("Scaling strategy pass failed; will retry next period")
                return
            now = time.time()
            for ex, d in applied:
                log = self._logs.get(ex.label)
                if log is not None and d.scale_out:
                    log.record_action("scale_out", d.scale_out, d.reason, now)
                if log is not None and d.scale_in:
                    log.record_action("scale_in", d.scale_in, d.reason, now)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread, then cancel every block still alive.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("Job status poller thread did not stop within %s s", timeout)
        with self._pass_lock:
            for ex in self._executors:
                scale_in_everything(ex)

    # --- internals -------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="JobStatusPoller", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.strategy_period)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.run_pass()
            except Exception:
                logger.exception("Job status poller pass failed; will retry next period")

    def _poll(self, ex: ScalableExecutor) -> None:
        try:
            if getattr(ex, "status_polling_interval", 1) > 0:
                ex.poll_facade()
                ex.handle_errors()
            log = self._logs.get(ex.label)
            if log is not None:
                for event in log.observe(status_of(ex), time.time()):
                    logger.info("%s %s", ex.label, event)
        except Exception:
            logger.exception("Polling the blocks of executor %s failed", getattr(ex, "label", ex))


def scale_in_everything(ex: ScalableExecutor) -> None:
    """Cancel every block of ``ex`` that is not finished, whatever state ``ex`` is in."""
    try:
        status = status_of(ex)
    except Exception:
        logger.exception("Could not read block status of %s at close", ex.label)
        return
    alive = [b for b, js in status.items() if not js.terminal]
    if not alive:
        return
    logger.info("Scaling in all %d blocks of %s at close", len(alive), ex.label)
    try:
        if not getattr(ex, "bad_state_is_set", False):
            ex.scale_in_facade(len(alive))
            return
    except Exception:
        logger.exception("scale_in_facade failed at close for %s; cancelling jobs directly", ex.label)
    blocks_to_job_id = getattr(ex, "blocks_to_job_id", {})   # optional (see ScalableExecutor)
    job_ids = [blocks_to_job_id[b] for b in alive if b in blocks_to_job_id]
    if job_ids:
        try:
            ex.provider.cancel(job_ids)
        except Exception:
            logger.exception("Cancelling jobs %s of %s failed", job_ids, ex.label)


class JobStatusPoller(ScalingLoop):
    def __init__(self, *, strategy: Optional[str] = "simple", strategy_period: float = 5.0,
                 max_idletime: float = 120.0, dfk: Any = None, **kwargs: Any) -> None:
        super().__init__(strategy=strategy, strategy_period=strategy_period, max_idletime=max_idletime, **kwargs)
        self.dfk = dfk

    @property
    def executors(self) -> List[ScalableExecutor]:
        return list(self._executors)


JobStatusPoller.__module__ = "parsl.jobs.job_status_poller"
