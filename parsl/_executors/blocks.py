"""``BlockProviderExecutor``: an executor whose workers arrive in blocks from a provider.

It keeps the block bookkeeping (block id -> job id, last known JobStatus per block), talks
to the provider to scale out/in and to poll, and turns block failures into an executor
"bad state" through the block error handler.  The scaling *policy* lives elsewhere
(``parsl.jobs`` / ``parsl._scaling``); this class only carries decisions out.

Threads: ``scale_*``, ``poll_facade`` and ``handle_errors`` are called by the owner (DFK
start-up, the job status poller, shutdown); ``_lock`` makes the block dictionaries safe
to read from other threads.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from parsl._base.errors import BadStateException, ScalingFailed
from parsl._base.job_states import TERMINAL_STATES, JobState, JobStatus
from parsl._base.message_type import MessageType
from parsl._executors.base import ParslExecutor
from parsl._executors.block_errors import noop_error_handler, simple_error_handler

logger = logging.getLogger(__name__)


class BlockProviderExecutor(ParslExecutor):
    def __init__(self, *, provider: Any = None,
                 block_error_handler: Union[bool, Callable[..., None]] = True) -> None:
        super().__init__()
        self._provider = provider
        if block_error_handler is True:
            self.block_error_handler: Callable[..., None] = simple_error_handler
        elif block_error_handler is False:
            self.block_error_handler = noop_error_handler
        elif callable(block_error_handler):
            self.block_error_handler = block_error_handler
        else:
            raise TypeError("block_error_handler must be True, False or a callable (executor, status_dict)")
        self.blocks_to_job_id: Dict[str, str] = {}
        self.job_ids_to_block: Dict[str, str] = {}
        self._status: Dict[str, JobStatus] = {}
        self._block_counter = 0
        self._last_poll = -float("inf")
        self._lock = threading.RLock()
        self._executor_bad_state = threading.Event()
        self._executor_exception: Optional[BaseException] = None
        #: task id -> Future of tasks submitted and not yet returned.
        self._tasks: Dict[int, Future[Any]] = {}

    # -- what subclasses provide ------------------------------------------------------
    def _get_launch_command(self, block_id: str) -> str:
        raise NotImplementedError

    def outstanding(self) -> int:
        return len(self._tasks)

    @property
    def workers_per_node(self) -> Union[int, float]:
        return 1

    # -- provider --------------------------------------------------------------------
    @property
    def provider(self) -> Any:
        return self._provider

    @property
    def blocks(self) -> Dict[str, str]:
        return self.blocks_to_job_id

    @property
    def status_polling_interval(self) -> float:
        if self._provider is None:
            return 0
        return float(self._provider.status_polling_interval)

    # -- bad state ---------------------------------------------------------------------
    @property
    def bad_state_is_set(self) -> bool:
        return self._executor_bad_state.is_set()

    @property
    def executor_exception(self) -> Optional[BaseException]:
        return self._executor_exception

    def set_bad_state_and_fail_all(self, exception: BaseException) -> None:
        """Fail every outstanding task with ``exception`` and refuse new ones."""
        logger.error("executor %s is in a bad state: %s", self.label, exception)
        self._executor_exception = exception
        self._executor_bad_state.set()
        for task_id in list(self._tasks):
            fut = self._tasks.pop(task_id, None)
            if fut is not None and not fut.done():
                fut.set_exception(BadStateException(self, exception))

    # -- scaling -------------------------------------------------------------------------
    def _new_block_id(self) -> str:
        with self._lock:
            bid = str(self._block_counter)
            self._block_counter += 1
        return bid

    def scale_out_facade(self, n: int) -> List[str]:
        """Start ``n`` blocks; returns the new block ids (failed submits get a FAILED status)."""
        if self._provider is None:
            raise ScalingFailed(self, "this executor has no provider")
        new = []
        #: Blocks whose submit failed keep a FAILED status (Parsl's "simulated" status): the
        #: block error handler counts them, and the monitoring block table shows them.
        failed: Dict[str, JobStatus] = {}
        for _ in range(n):
            bid = self._new_block_id()
            job_name = f"parsl.{self.label}.block-{bid}"
            try:
                job_id = self._provider.submit(self._get_launch_command(bid), 1, job_name)
            except Exception as e:
                logger.error("scaling out block %s of %s failed: %s", bid, self.label, e)
                failed[bid] = self._simulated_status(bid, JobState.FAILED, f"Failed to start block {bid}: {e}")
                continue
            if not job_id:
                failed[bid] = self._simulated_status(
                    bid, JobState.FAILED, f"Failed to start block {bid}: the provider returned no job id")
                continue
            with self._lock:
                self.blocks_to_job_id[bid] = str(job_id)
                self.job_ids_to_block[str(job_id)] = bid
                self._status[bid] = JobStatus(JobState.PENDING)
            new.append(bid)
        self._send_block_monitoring({**{b: self._status[b] for b in new}, **failed})
        return new

    def _simulated_status(self, bid: str, state: JobState, message: str) -> JobStatus:
        st = JobStatus(state, message)
        with self._lock:
            self._status[bid] = st
        return st

    def _blocks_to_scale_in(self, n: int, max_idletime: Optional[float]) -> List[str]:
        """Default choice: the newest live blocks.  HTEX overrides with idle information."""
        live = [b for b, s in self._status.items() if not s.terminal and b in self.blocks_to_job_id]
        return list(reversed(live))[:n]

    def scale_in(self, blocks: int = 0, max_idletime: Optional[float] = None,
                 block_ids: Sequence[str] = ()) -> List[str]:
        if block_ids:
            chosen = list(block_ids)
        else:
            chosen = self._blocks_to_scale_in(blocks, max_idletime)
        return self._cancel_blocks(chosen)

    def scale_in_facade(self, n: int, max_idletime: Optional[float] = None) -> List[str]:
        return self.scale_in(n, max_idletime=max_idletime)

    def _before_cancel(self, block_ids: List[str]) -> None:
        """Hook: tell workers of these blocks to stop (HTEX holds their managers)."""

    def _cancel_blocks(self, block_ids: List[str]) -> List[str]:
        if not block_ids:
            return []
        self._before_cancel(block_ids)
        job_ids = [self.blocks_to_job_id[b] for b in block_ids if b in self.blocks_to_job_id]
        if job_ids and self._provider is not None:
            try:
                self._provider.cancel(job_ids)
            except Exception as e:
                logger.error("cancelling blocks %s of %s failed: %s", block_ids, self.label, e)
        with self._lock:
            for b in block_ids:
                self._status[b] = JobStatus(JobState.SCALED_IN)
        self._send_block_monitoring({b: self._status[b] for b in block_ids})
        return block_ids

    # -- status ------------------------------------------------------------------------
    def _refresh_status(self) -> None:
        with self._lock:
            live = {b: j for b, j in self.blocks_to_job_id.items()
                    if b in self._status and self._status[b].state not in TERMINAL_STATES}
        if not live or self._provider is None:
            return
        try:
            statuses = self._provider.status(list(live.values()))
        except Exception as e:
            logger.error("polling the provider of %s failed: %s", self.label, e)
            return
        changed = {}
        with self._lock:
            for (bid, _), st in zip(live.items(), statuses):
                if self._status.get(bid) != st:
                    changed[bid] = st
                self._status[bid] = st
        if changed:
            self._send_block_monitoring(changed)

    def status(self) -> Dict[str, JobStatus]:
        """The last known status of every block (refreshed by ``poll_facade``)."""
        with self._lock:
            return dict(self._status)

    def poll_facade(self) -> None:
        now = time.monotonic()
        if now - self._last_poll >= self.status_polling_interval:
            self._last_poll = now
            self._refresh_status()

    def handle_errors(self, status: Optional[Dict[str, JobStatus]] = None) -> None:
        if self.bad_state_is_set:
            return
        self.block_error_handler(self, status if status is not None else self.status())

    # -- monitoring ----------------------------------------------------------------------
    def _send_block_monitoring(self, changed: Dict[str, JobStatus]) -> None:
        sink = self.monitoring_messages
        if sink is None or not changed:
            return
        for bid, st in changed.items():
            try:
                sink(MessageType.BLOCK_INFO, {"run_id": self.run_id, "executor_label": self.label, "block_id": bid,
                            "job_id": self.blocks_to_job_id.get(bid), "status": st.state.name,
                            "timestamp": time.time()})
            except Exception:  # monitoring must never break scaling
                logger.exception("sending block monitoring failed")


BlockProviderExecutor.__module__ = "parsl.executors.status_handling"
