"""HTCondor: submit description template, and parsing of condor_submit / condor_q output."""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional

from parsl._base.job_states import JobState, JobStatus
from parsl._batch.status import absent_means_completed, unparsable

# The submit description runs a small bash job script (worker_init + command).
TEMPLATE = """universe = vanilla
executable = ${job_script_path}
output = ${job_stdout_path}
error = ${job_stderr_path}
log = ${job_log_path}
getenv = False
should_transfer_files = ${should_transfer_files}
${transfer_input_files}when_to_transfer_output = ON_EXIT
leave_in_queue = JobStatus == 4
periodic_remove = JobStatus == 2 && (time() - EnteredCurrentStatus) > ${walltime_seconds}
${resources}${requirements}${project}${environment}${scheduler_options}
queue ${nodes}
"""

JOB_SCRIPT = """#!/bin/bash
${worker_init}

export JOBNAME="${jobname}"

${user_script}
"""

# ClassAd JobStatus numbers.
STATES = {
    "1": JobState.PENDING, "2": JobState.RUNNING, "3": JobState.CANCELLED, "4": JobState.COMPLETED,
    "5": JobState.HELD, "6": JobState.RUNNING, "7": JobState.HELD,
}

_SUBMITTED = re.compile(r"submitted to cluster (?P<id>\d+)")


def parse_condor_submit(out: str) -> Optional[str]:
    m = _SUBMITTED.search(out)
    return m.group("id") if m else None


def parse_condor_q(out: str, ids: Iterable[str], cmd: str = "condor_q") -> Dict[str, JobStatus]:
    """``condor_q <ids> -af:j JobStatus ExitCode`` lines: ``<cluster>.<proc> <status> <exit|undefined>``.

    A block is one cluster; with several procs (nodes) it is RUNNING if any proc runs,
    else PENDING if any waits, else the state of its first proc.
    """
    ids = list(ids)
    procs: Dict[str, List[JobStatus]] = {}
    for line in out.splitlines():
        s = line.strip()
        if not s:
            continue
        parts = s.split()
        if len(parts) < 2 or "." not in parts[0] or parts[1] not in STATES:
            raise unparsable(cmd, line, "'<cluster>.<proc> <JobStatus 1-7> [ExitCode]'", out)
        exit_code = int(parts[2]) if len(parts) > 2 and parts[2].lstrip("-").isdigit() else None
        state = STATES[parts[1]]
        if state == JobState.COMPLETED and exit_code not in (None, 0):
            state = JobState.FAILED
        procs.setdefault(parts[0].split(".")[0], []).append(JobStatus(state, exit_code=exit_code))
    seen = {}
    for cluster, sts in procs.items():
        states = [js.state for js in sts]
        for pick in (JobState.RUNNING, JobState.PENDING):
            if pick in states:
                seen[cluster] = JobStatus(pick)
                break
        else:
            seen[cluster] = sts[0]
    return absent_means_completed(ids, seen)
