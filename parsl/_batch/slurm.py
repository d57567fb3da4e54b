"""Slurm: sbatch script template, and parsing of sbatch / squeue / sacct output."""
from __future__ import annotations

import re
from typing import Dict, Iterable, Optional

from parsl._base.job_states import JobState, JobStatus
from parsl._batch.status import absent_means_completed, translate, unparsable

TEMPLATE = """#!/bin/bash

#SBATCH --job-name=${jobname}
#SBATCH --output=${submit_script_dir}/${jobname}.submit.stdout
#SBATCH --error=${submit_script_dir}/${jobname}.submit.stderr
#SBATCH --nodes=${nodes}
#SBATCH --time=${walltime}
#SBATCH --ntasks-per-node=${tasks_per_node}
${scheduler_options}
${worker_init}

export JOBNAME="${jobname}"

${user_script}
"""

# Both squeue's short codes and sacct's long names (spec §6).
STATES = {
    "PENDING": JobState.PENDING, "PD": JobState.PENDING, "REQUEUED": JobState.PENDING,
    "CF": JobState.PENDING, "CONFIGURING": JobState.PENDING,
    "RUNNING": JobState.RUNNING, "R": JobState.RUNNING, "COMPLETING": JobState.RUNNING, "CG": JobState.RUNNING,
    "CANCELLED": JobState.CANCELLED, "CA": JobState.CANCELLED,
    "COMPLETED": JobState.COMPLETED, "CD": JobState.COMPLETED,
    "FAILED": JobState.FAILED, "F": JobState.FAILED, "NODE_FAIL": JobState.FAILED, "NF": JobState.FAILED,
    "BOOT_FAIL": JobState.FAILED, "BF": JobState.FAILED, "REVOKED": JobState.FAILED, "RV": JobState.FAILED,
    "OUT_OF_MEMORY": JobState.FAILED, "OOM": JobState.FAILED, "SE": JobState.FAILED, "SPECIAL_EXIT": JobState.FAILED,
    "TIMEOUT": JobState.TIMEOUT, "TO": JobState.TIMEOUT, "DEADLINE": JobState.TIMEOUT, "DL": JobState.TIMEOUT,
    "PREEMPTED": JobState.TIMEOUT, "PR": JobState.TIMEOUT,
    "SUSPENDED": JobState.HELD, "S": JobState.HELD,
}

DEFAULT_JOB_ID_REGEX = r"Submitted batch job (?P<id>\S*)"
# 123, 123_4 (array), 123+1 (heterogeneous), 123.batch (step)
_JOB_ID = re.compile(r"^\d+[\w.+\[\]-]*$")


def parse_sbatch(out: str, regex: str = DEFAULT_JOB_ID_REGEX) -> Optional[str]:
    """The job id from sbatch's stdout, or None."""
    for line in out.splitlines():
        m = re.search(regex, line)
        if m:
            return m.group("id")
    return None


def parse_squeue(out: str, ids: Iterable[str], cmd: str = "squeue") -> Dict[str, JobStatus]:
    """Lines ``<id> <state-code> [reason...]`` (format ``'%i %t %r'``)."""
    ids = list(ids)
    seen = {}
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("CLUSTER:"):     # --clusters adds a header per cluster
            continue
        parts = line.split(None, 2)
        if len(parts) < 2 or not _JOB_ID.match(parts[0]):
            raise unparsable(cmd, line, "'<job id> <state>'", out)
        job_id, code = parts[0], parts[1]
        reason = parts[2] if len(parts) > 2 and parts[2] not in ("None", "(null)") else None
        seen[job_id] = JobStatus(translate(STATES, code), message=reason)
    return absent_means_completed(ids, seen)


def parse_sacct(out: str, ids: Iterable[str], cmd: str = "sacct") -> Dict[str, JobStatus]:
    """Lines ``<jobid> <STATE> [by <uid>]`` (``--format=jobid,state%20``)."""
    ids = list(ids)
    seen = {}
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) < 2 or not _JOB_ID.match(parts[0]):
            raise unparsable(cmd, line, "'<job id> <STATE>'", out)
        job_id, name = parts[0], parts[1].rstrip("+")    # sacct truncates long names with '+'
        message = " ".join(parts[1:]) if len(parts) > 2 else None
        seen[job_id] = JobStatus(translate(STATES, name), message=message)
    return absent_means_completed(ids, seen)


def invalid_job_ids_only(err: str) -> bool:
    """squeue exits 1 with this when none of the asked ids is known any more."""
    return "Invalid job id specified" in err
