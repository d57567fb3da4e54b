"""Shared pieces of status parsing: state tables and the error for output we cannot read."""
from __future__ import annotations

from typing import Dict, Iterable, Mapping

from parsl._base.job_errors import SchedulerCommandError
from parsl._base.job_states import JobState, JobStatus


def translate(state_map: Mapping[str, JobState], code: str) -> JobState:
    return state_map.get(code, JobState.UNKNOWN)


def unparsable(scheduler_cmd: str, line: str, expected: str, out: str = "", err: str = "") -> SchedulerCommandError:
    return SchedulerCommandError(scheduler_cmd, None, out, err,
                                 f"could not parse the line {line!r}: expected {expected}")


def absent_means_completed(ids: Iterable[str], seen: Dict[str, JobStatus]) -> Dict[str, JobStatus]:
    """Jobs the scheduler no longer lists have left its queue: Parsl reports them COMPLETED."""
    out = dict(seen)
    for job_id in ids:
        out.setdefault(job_id, JobStatus(JobState.COMPLETED, message="no longer listed by the scheduler"))
    return out
