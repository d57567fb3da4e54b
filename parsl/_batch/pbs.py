"""PBS Pro and Torque: qsub script templates, and parsing of qsub / qstat output."""
from __future__ import annotations

import json
from typing import Dict, Iterable, Optional

from parsl._base.job_states import JobState, JobStatus
from parsl._batch.status import absent_means_completed, translate, unparsable

PBSPRO_TEMPLATE = """#!/bin/bash

#PBS -N ${jobname}
#PBS -m n
#PBS -l walltime=${walltime}
#PBS -l select=${nodes_per_block}:ncpus=${ncpus}${select_options}
#PBS -o ${job_stdout_path}
#PBS -e ${job_stderr_path}
${scheduler_options}
${worker_init}

export JOBNAME="${jobname}"

${user_script}
"""

TORQUE_TEMPLATE = """#!/bin/bash

#PBS -S /bin/bash
#PBS -N ${jobname}
#PBS -m n
#PBS -l walltime=${walltime}
#PBS -l nodes=${nodes_per_block}:ppn=${tasks_per_node}
#PBS -o ${job_stdout_path}
#PBS -e ${job_stderr_path}
${scheduler_options}
${worker_init}

export JOBNAME="${jobname}"

${user_script}
"""

# qstat single-letter job states (PBS Pro and Torque share most of them).
STATES = {
    "Q": JobState.PENDING, "W": JobState.PENDING, "T": JobState.PENDING,
    "R": JobState.RUNNING, "B": JobState.RUNNING, "E": JobState.RUNNING, "X": JobState.COMPLETED,
    "C": JobState.COMPLETED, "F": JobState.COMPLETED,
    "H": JobState.HELD, "S": JobState.HELD, "U": JobState.HELD, "M": JobState.UNKNOWN,
}


def parse_qsub(out: str) -> Optional[str]:
    """qsub prints the job id (``1234.server``) and nothing else."""
    job_id = out.strip()
    return job_id.split()[0] if job_id else None


def parse_pbspro_json(out: str, ids: Iterable[str], cmd: str = "qstat") -> Dict[str, JobStatus]:
    """``qstat -x -f -F json`` output: finished jobs (F) carry ``Exit_status``."""
    ids = list(ids)
    try:
        data = json.loads(out) if out.strip() else {}
    except ValueError as e:
        raise unparsable(cmd, out[:200], f"JSON ({e})", out) from None
    seen = {}
    for job_id, info in (data.get("Jobs") or {}).items():
        code = info.get("job_state", "?")
        exit_code = info.get("Exit_status")
        state = translate(STATES, code)
        if state == JobState.COMPLETED and exit_code not in (None, 0):
            state = JobState.FAILED
        seen[job_id] = JobStatus(state, exit_code=exit_code, message=info.get("comment"))
        # Some servers drop the ".server" suffix in the reply: match on the sequence number too.
        short = job_id.split(".")[0]
        for asked in ids:
            if asked.split(".")[0] == short:
                seen[asked] = seen[job_id]
    return absent_means_completed(ids, {k: v for k, v in seen.items() if k in ids})


def parse_torque_qstat(out: str, ids: Iterable[str], cmd: str = "qstat") -> Dict[str, JobStatus]:
    """The default ``qstat`` table: ``Job ID  Name  User  Time Use  S  Queue``."""
    ids = list(ids)
    seen = {}
    for line in out.splitlines():
        s = line.strip()
        if not s or s.startswith("Job ID") or s.startswith("Job id") or set(s) <= set("- "):
            continue
        parts = s.split()
        if len(parts) < 6:
            raise unparsable(cmd, line, "'<job id> <name> <user> <time> <state> <queue>'", out)
        seen[parts[0]] = JobStatus(translate(STATES, parts[4]))
        short = parts[0].split(".")[0]
        for asked in ids:
            if asked.split(".")[0] == short:
                seen[asked] = seen[parts[0]]
    return absent_means_completed(ids, seen)
