"""Grid Engine (SGE/UGE/OGE): qsub script template, and parsing of qsub / qstat output."""
from __future__ import annotations

from typing import Dict, Iterable, Optional

from parsl._base.job_states import JobState, JobStatus
from parsl._batch.status import absent_means_completed, unparsable

# '$$' is a literal '$' for string.Template: Grid Engine directives start with '#$'.
TEMPLATE = """#!/bin/bash
#$$ -S /bin/bash
#$$ -N ${jobname}
#$$ -o ${job_stdout_path}
#$$ -e ${job_stderr_path}
#$$ -cwd
#$$ -l h_rt=${walltime}
${scheduler_options}
${worker_init}

export JOBNAME="${jobname}"

${user_script}
"""


def translate(code: str) -> JobState:
    """Grid Engine states are letter combinations: ``qw``, ``hqw``, ``r``, ``Eqw``, ``dr``..."""
    if "E" in code:
        return JobState.FAILED
    if "d" in code:
        return JobState.CANCELLED
    if "h" in code or "s" in code or "S" in code or "T" in code:
        return JobState.HELD
    if "r" in code or "t" in code or "R" in code:
        return JobState.RUNNING
    if "q" in code or "w" in code:
        return JobState.PENDING
    return JobState.UNKNOWN


def parse_qsub_terse(out: str) -> Optional[str]:
    """``qsub -terse`` prints just the job id (``123`` or ``123.1-4:1`` for arrays)."""
    s = out.strip()
    return s.split(".")[0] if s and s.split(".")[0].isdigit() else None


def parse_qstat(out: str, ids: Iterable[str], cmd: str = "qstat") -> Dict[str, JobStatus]:
    ids = list(ids)
    seen = {}
    for line in out.splitlines():
        s = line.strip()
        if not s or s.startswith("job-ID") or set(s) <= set("-"):
            continue
        parts = s.split()
        if len(parts) < 5 or not parts[0].isdigit():
            raise unparsable(cmd, line, "'<job-ID> <prior> <name> <user> <state> ...'", out)
        seen[parts[0]] = JobStatus(translate(parts[4]))
    return absent_means_completed(ids, {k: v for k, v in seen.items() if k in ids})
