"""Run a scheduler command with a deadline and return what it said.

Batch commands (sbatch, squeue, qstat, ...) can hang when a controller is slow or
unreachable (Parsl#3814: sacct hanging on a large site).  A hung status query must
never hang the poller or ``cleanup()``, so every command runs in its own process
group and the whole group is killed when the deadline passes.
"""
from __future__ import annotations

import os
import signal
import subprocess
from typing import Dict, Optional, Sequence, Tuple, Union

#: Return code reported when a command did not finish within its timeout.
TIMED_OUT = -1


def execute_wait(cmd: Union[str, Sequence[str]], timeout: Optional[float] = None,
                 env: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
    """Run ``cmd`` (a string through ``/bin/sh``, or an argv list) for at most ``timeout`` seconds.

    Returns ``(returncode, stdout, stderr)`` as text.  On timeout the process group
    is killed and ``(TIMED_OUT, partial stdout, stderr + a line saying so)`` is
    returned instead of raising, so callers handle one shape of failure.  A command
    that cannot be started at all (no shell) returns ``(127, "", reason)``.
    """
    try:
        proc = subprocess.Popen(cmd if isinstance(cmd, str) else list(cmd), shell=isinstance(cmd, str),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, env=env)
    except OSError as e:
        return 127, "", f"could not run {cmd!r}: {e}"
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        said = _text(err) + f"\n{cmd!r} did not finish within {timeout} s and was killed"
        return TIMED_OUT, _text(out), said
    return proc.returncode, _text(out), _text(err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _text(data: Union[bytes, str, None]) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data
