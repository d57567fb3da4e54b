"""Job errors, at Parsl's import path ``parsl.jobs.errors``."""
from __future__ import annotations

from parsl.errors import ParslError


class TooManyJobFailuresError(ParslError):
    """Too many blocks of an executor failed; the executor gave up.

    The message quotes each failed job's own state, exit code, scheduler message
    and the head and tail of its stdout/stderr, because the real cause (a missing
    module, a bad ``worker_init``, an unknown partition) is almost always there
    and nowhere else (users reported hunting for it under ``submit_scripts/``).
    """

    def __init__(self, message: str = "Too many blocks failed"):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


def describe_failed_jobs(status: dict, job_ids: dict | None = None) -> str:
    """A readable report of the failed jobs in ``status`` (block id → JobStatus)."""
    lines = []
    for block_id, js in sorted(status.items(), key=lambda kv: _block_order(kv[0])):
        if not js.terminal or js.state.name == "SCALED_IN":
            continue
        job = f" (job {job_ids[block_id]})" if job_ids and block_id in job_ids else ""
        head = f"block {block_id}{job}: {js.state.name}"
        if js.exit_code is not None:
            head += f", exit code {js.exit_code}"
        if js.message:
            head += f": {js.message}"
        lines.append(head)
        for name, text in (("stdout", js.stdout_summary), ("stderr", js.stderr_summary)):
            if text and text.strip():
                lines.append(f"  --- job {name} ---")
                lines.extend("  " + t for t in text.rstrip().splitlines())
    return "\n".join(lines)


def _block_order(block_id):
    try:
        return (0, int(block_id), "")
    except (TypeError, ValueError):
        return (1, 0, str(block_id))
