"""Read one block executor into an ``ExecutorSnapshot`` (the only place that knows
which executor attributes the policy depends on)."""
from __future__ import annotations

import inspect
from typing import Any, Dict, Optional, Protocol

from parsl._base.job_states import JobState, JobStatus
from parsl._scaling.policy import ExecutorSnapshot

ACTIVE_STATES = frozenset({JobState.PENDING, JobState.RUNNING})


class ScalableExecutor(Protocol):
    """What scaling reads and calls on an executor whose workers come in blocks from a provider.

    ``parsl._executors.blocks.BlockProviderExecutor`` (and so HTEX) has all of it. Executors
    written for Parsl may give ``outstanding`` and ``status`` as properties rather than
    methods, which this module accepts. Optional extras (``bad_state_is_set``,
    ``status_polling_interval``, ``blocks_to_job_id``, ``block_history``; a provider's
    ``nodes_per_block``, ``parallelism`` and block counts) are read with defaults, because
    third-party executors and providers may lack them.
    """

    label: str
    provider: Any
    workers_per_node: Any

    @property
    def outstanding(self) -> Any: ...

    @property
    def status(self) -> Any: ...

    def scale_out_facade(self, n: int) -> Any: ...

    def scale_in_facade(self, n: int, max_idletime: Optional[float] = None) -> Any: ...

    def poll_facade(self) -> Any: ...

    def handle_errors(self) -> Any: ...


def count_active(status: Dict[str, JobStatus]) -> int:
    return sum(1 for js in status.values() if js.state in ACTIVE_STATES)


def outstanding_of(executor: ScalableExecutor) -> int:
    value = executor.outstanding
    return int(value() if callable(value) else value)


def scale_in_takes_max_idletime(executor: ScalableExecutor) -> bool:
    """HTEX's ``scale_in_facade(n, max_idletime=)`` can pick idle blocks itself."""
    try:
        return "max_idletime" in inspect.signature(executor.scale_in_facade).parameters
    except (AttributeError, TypeError, ValueError):
        return False


def status_of(executor: ScalableExecutor) -> Dict[str, JobStatus]:
    status = executor.status
    return dict(status() if callable(status) else status)


def take_snapshot(executor: ScalableExecutor, status: Dict[str, JobStatus]) -> ExecutorSnapshot:
    provider = executor.provider
    return ExecutorSnapshot(
        label=executor.label,
        outstanding=outstanding_of(executor),
        active_blocks=count_active(status),
        workers_per_node=executor.workers_per_node,
        nodes_per_block=getattr(provider, "nodes_per_block", 1) or 1,
        parallelism=getattr(provider, "parallelism", 1),
        init_blocks=getattr(provider, "init_blocks", 0),
        min_blocks=getattr(provider, "min_blocks", 0),
        max_blocks=getattr(provider, "max_blocks", 1),
        can_scale_in_idle=scale_in_takes_max_idletime(executor),
    )
