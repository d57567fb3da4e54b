"""Batch job (block) states, re-exported at Parsl's import path ``parsl.jobs.states``."""
from __future__ import annotations

import os
from enum import IntEnum
from typing import Any, Dict, Mapping, Optional, Tuple


class JobState(IntEnum):
    UNKNOWN = 0
    PENDING = 1
    RUNNING = 2
    CANCELLED = 3
    COMPLETED = 4
    FAILED = 5
    TIMEOUT = 6
    HELD = 7
    MISSING = 8
    SCALED_IN = 9

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES

    def __str__(self) -> str:
        return f"JobState.{self.name}"


TERMINAL_STATES = frozenset({JobState.CANCELLED, JobState.COMPLETED, JobState.FAILED,
                             JobState.TIMEOUT, JobState.MISSING, JobState.SCALED_IN})

_SUMMARY_MAX = 2048
_SUMMARY_KEEP = 1024


def _read_summary(path: Optional[str]) -> Optional[str]:
    if not path:
        return None
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    if len(text) > _SUMMARY_MAX:
        text = text[:_SUMMARY_KEEP] + "\n...\n" + text[-_SUMMARY_KEEP:]
    return text


class JobStatus:
    """The status of one job (block), with where its own stdout/stderr went."""

    __slots__ = ("state", "message", "exit_code", "stdout_path", "stderr_path")

    def __init__(self, state: JobState, message: Optional[str] = None, exit_code: Optional[int] = None,
                 stdout_path: Optional[str] = None, stderr_path: Optional[str] = None) -> None:
        self.state = state
        self.message = message
        self.exit_code = exit_code
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def status_name(self) -> str:
        return self.state.name

    @property
    def stdout(self) -> Optional[str]:
        return _read_file(self.stdout_path)

    @property
    def stderr(self) -> Optional[str]:
        return _read_file(self.stderr_path)

    @property
    def stdout_summary(self) -> Optional[str]:
        return _read_summary(self.stdout_path)

    @property
    def stderr_summary(self) -> Optional[str]:
        return _read_summary(self.stderr_path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JobStatus) and (self.state, self.message, self.exit_code) == (
            other.state, other.message, other.exit_code)

    def __repr__(self) -> str:
        parts = [f"state={self.state!s}"]
        if self.message:
            parts.append(f"message={self.message!r}")
        if self.exit_code is not None:
            parts.append(f"exit_code={self.exit_code}")
        return f"<JobStatus {', '.join(parts)}>"

    def __getstate__(self) -> Dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, d: Mapping[str, Any]) -> None:
        for k, v in d.items():
            setattr(self, k, v)


def _read_file(path: Optional[str]) -> Optional[str]:
    if path and os.path.exists(path):
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return None
    return None


def describe_failed_jobs(status: Mapping[str, JobStatus], job_ids: Optional[Mapping[str, Any]] = None) -> str:
    """A readable report of the failed jobs in ``status`` (block id → JobStatus).

    Each job's exit code and output use Parsl's labels (``EXIT CODE: N``, ``STDOUT:``,
    ``STDERR:``), so what users and their scripts look for in Parsl's error is there.
    """
    lines = []
    for block_id, js in sorted(status.items(), key=lambda kv: _block_order(kv[0])):
        if not js.terminal or js.state.name == "SCALED_IN":
            continue
        job = f" (job {job_ids[block_id]})" if job_ids and block_id in job_ids else ""
        head = f"block {block_id}{job}: {js.state.name}"
        if js.message:
            head += f": {js.message}"
        lines.append(head)
        if js.exit_code is not None:
            lines.append(f"  EXIT CODE: {js.exit_code}")
        for name, text in (("STDOUT", js.stdout_summary), ("STDERR", js.stderr_summary)):
            if text and text.strip():
                lines.append(f"  {name}:")
                lines.extend("    " + t for t in text.rstrip().splitlines())
    return "\n".join(lines)


def _block_order(block_id: Any) -> Tuple[int, int, str]:
    try:
        return (0, int(block_id), "")
    except (TypeError, ValueError):
        return (1, 0, str(block_id))


for _cls in (JobState, JobStatus):
    _cls.__module__ = "parsl.jobs.states"
