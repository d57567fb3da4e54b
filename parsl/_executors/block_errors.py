"""Block error handlers: decide when an executor whose blocks keep failing gives up.

A handler is called as ``handler(executor, status)`` with ``status`` the executor's
block id → ``JobStatus`` map, after every status poll.  Giving up means
``executor.set_bad_state_and_fail_all(TooManyJobFailuresError(...))``: every
outstanding and future task of that executor fails with an error that quotes the
failed jobs' own stdout and stderr.

Only FAILED and MISSING count as failures: a block that hit its walltime (TIMEOUT)
or was cancelled is replaced by the strategy, not held against the executor
(Parsl#2207: a walltime expiry killed whole workflows).
"""
from __future__ import annotations

from typing import Any, Dict, Mapping

from parsl._base.job_errors import TooManyJobFailuresError
from parsl._base.job_states import JobState, JobStatus, _block_order, describe_failed_jobs

FAILURE_STATES = frozenset({JobState.FAILED, JobState.MISSING})


def noop_error_handler(executor: Any, status: Dict[str, JobStatus], threshold: int = 3) -> None:
    """Never give up."""


def simple_error_handler(executor: Any, status: Dict[str, JobStatus], threshold: int = 3) -> None:
    """Give up when at least ``max(1, init_blocks)`` blocks are known and all failed."""
    provider = getattr(executor, "provider", None)
    if provider is not None and getattr(provider, "init_blocks", None) is not None:
        threshold = max(1, provider.init_blocks)
    _give_up_if_all_failed(executor, status, threshold)


def windowed_error_handler(executor: Any, status: Dict[str, JobStatus], threshold: int = 3) -> None:
    """Give up when the ``threshold`` most recent blocks all failed (older successes
    do not keep a now-broken configuration alive)."""
    recent = sorted(status, key=_block_order)[-threshold:]
    _give_up_if_all_failed(executor, {b: status[b] for b in recent}, threshold)


def all_failed(status: Mapping[str, JobStatus], threshold: int) -> bool:
    """The pure decision: at least ``threshold`` jobs and every one of them failed."""
    return len(status) >= max(1, threshold) and all(js.state in FAILURE_STATES for js in status.values())


def _give_up_if_all_failed(executor: Any, status: Mapping[str, JobStatus], threshold: int) -> None:
    if getattr(executor, "bad_state_is_set", False) or not all_failed(status, threshold):
        return
    job_ids = getattr(executor, "blocks_to_job_id", None)
    report = describe_failed_jobs(status, job_ids)
    label = getattr(executor, "label", "executor")
    executor.set_bad_state_and_fail_all(TooManyJobFailuresError(
        f"Executor {label!r} gave up: all {len(status)} of its most recent blocks failed.\n{report}\n"
        f"Fix the cause above (often worker_init, the scheduler options or the Python environment "
        f"on the compute nodes), or pass block_error_handler=False to keep trying."))
