"""LSF: bsub script template, and parsing of bsub / bjobs output."""
from __future__ import annotations

import re
from typing import Dict, Iterable, Optional

from parsl._base.job_states import JobState, JobStatus
from parsl._batch.status import absent_means_completed, translate, unparsable

TEMPLATE = """#!/bin/bash

#BSUB -J ${jobname}
#BSUB -W ${walltime}
#BSUB -o ${job_stdout_path}
#BSUB -e ${job_stderr_path}
${scheduler_options}
${worker_init}

export JOBNAME="${jobname}"

${user_script}
"""

STATES = {
    "PEND": JobState.PENDING, "WAIT": JobState.PENDING,
    "RUN": JobState.RUNNING, "PROV": JobState.RUNNING,
    "DONE": JobState.COMPLETED, "EXIT": JobState.FAILED, "ZOMBI": JobState.FAILED,
    "PSUSP": JobState.HELD, "USUSP": JobState.HELD, "SSUSP": JobState.HELD,
    "UNKWN": JobState.UNKNOWN,
}

_SUBMITTED = re.compile(r"Job <(?P<id>\d+)> is submitted")


def parse_bsub(out: str) -> Optional[str]:
    m = _SUBMITTED.search(out)
    return m.group("id") if m else None


def parse_bjobs(out: str, ids: Iterable[str], cmd: str = "bjobs") -> Dict[str, JobStatus]:
    """``bjobs -noheader -o 'jobid stat exit_code'`` lines (``-`` for no exit code)."""
    ids = list(ids)
    seen = {}
    for line in out.splitlines():
        s = line.strip()
        if not s or " is not found" in s:
            continue
        parts = s.split()
        if len(parts) < 2 or not parts[0].isdigit():
            raise unparsable(cmd, line, "'<job id> <STAT> [exit code]'", out)
        exit_code = int(parts[2]) if len(parts) > 2 and parts[2].lstrip("-").isdigit() else None
        seen[parts[0]] = JobStatus(translate(STATES, parts[1]), exit_code=exit_code)
    return absent_means_completed(ids, seen)
