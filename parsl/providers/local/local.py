"""LocalProvider: a block is a background process group on this machine.

``submit`` writes ``<script_dir>/<job_name>.<epoch>.sh`` (worker_init, ``export JOBNAME``,
launcher output) and starts it under a small bash wrapper in a new session, which records
``-`` then the exit code in ``.ec`` and the script's output in ``.out``/``.err``.  The job id
is the wrapper's pid (the process group id).  ``cancel`` kills the whole group.
"""
from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import time
from typing import Any, Dict, List

from parsl._base.job_errors import SubmitException
from parsl._base.job_states import JobState, JobStatus
from parsl.launchers.base import check_launcher
from parsl.launchers.launchers import SingleNodeLauncher
from parsl.providers.base import ExecutionProvider

logger = logging.getLogger(__name__)

_CANCEL_GRACE_S = 1.0


class LocalProvider(ExecutionProvider):
    """Blocks as processes on this machine (or, with a launcher, on the nodes of an allocation you
    are already in).

    The default provider of ``HighThroughputExecutor``. A block is a local ``bash`` process running
    the executor's command (which starts an HTEX manager and its workers); cancelling a block
    kills its whole process group.

    Args:
        channel: accepted for the tutorial era's ``LocalChannel()`` and ignored (a warning says so).
        nodes_per_block: copies of the command the launcher starts per block (1 on a laptop).
        launcher: how the command is started in the block; default ``SingleNodeLauncher()``.
        init_blocks: blocks to start when the executor starts.
        min_blocks: the fewest blocks kept, even when there is no work.
        max_blocks: the most blocks at once.
        worker_init: shell lines run before the command, e.g. ``"source ~/venv/bin/activate"``.
        cmd_timeout: seconds a provider command may take before it is killed.
        parallelism: how eagerly to add blocks, from 0 (one block for any amount of work) to 1
            (as many workers as tasks, within ``max_blocks``).
        move_files: accepted for compatibility; files never need moving on this machine.

    Example::

        HighThroughputExecutor(provider=LocalProvider(init_blocks=1, max_blocks=2))
    """

    def __init__(self, channel=None, nodes_per_block: int = 1, launcher=None, init_blocks: int = 1,
                 min_blocks: int = 0, max_blocks: int = 1, worker_init: str = "", cmd_timeout: int = 30,
                 parallelism: float = 1, move_files=None):
        super().__init__()
        if channel is not None:
            from parsl.channels.base import Channel
            if not isinstance(channel, Channel):
                raise TypeError(f"LocalProvider(channel={channel!r}): only LocalChannel() is accepted "
                                "(and it does nothing; you can drop the argument)")
        self.channel = channel
        self.launcher = check_launcher(launcher if launcher is not None else SingleNodeLauncher())
        for name, value in (("nodes_per_block", nodes_per_block), ("init_blocks", init_blocks),
                            ("min_blocks", min_blocks), ("max_blocks", max_blocks)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"LocalProvider({name}={value!r}): must be an int >= 0")
        if nodes_per_block < 1:
            raise ValueError("LocalProvider(nodes_per_block=0): a block needs at least one node")
        if min_blocks > max_blocks:
            raise ValueError(f"LocalProvider(min_blocks={min_blocks}, max_blocks={max_blocks}): "
                             "min_blocks must not exceed max_blocks")
        if parallelism < 0 or parallelism > 1:
            raise ValueError(f"LocalProvider(parallelism={parallelism!r}): must be between 0 and 1")
        self.nodes_per_block = nodes_per_block
        self.init_blocks = init_blocks
        self.min_blocks = min_blocks
        self.max_blocks = max_blocks
        self.parallelism = parallelism
        self.worker_init = worker_init
        self.cmd_timeout = cmd_timeout
        self.move_files = move_files
        self.script_dir = None
        self._label = "local"
        self.resources: Dict[str, Dict[str, Any]] = {}

    @property
    def label(self) -> str:
        return self._label

    @property
    def status_polling_interval(self) -> float:
        return 5

    # -- submit ------------------------------------------------------------------------
    def _script_text(self, command: str, tasks_per_node: int, job_name: str) -> str:
        body = self.launcher(command, tasks_per_node, self.nodes_per_block)
        return f"#!/bin/bash\n{self.worker_init}\nexport JOBNAME={shlex.quote(job_name)}\n{body}\n"

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.localprovider") -> str:
        script_dir = self.script_dir or os.path.abspath(".")
        os.makedirs(script_dir, exist_ok=True)
        base = os.path.join(script_dir, f"{job_name}.{time.time():.6f}")
        script = base + ".sh"
        with open(script, "w") as f:
            f.write(self._script_text(command, tasks_per_node, job_name))
        os.chmod(script, 0o700)
        q = shlex.quote
        wrapper = (f"echo - > {q(base + '.ec')}; /bin/bash {q(script)} > {q(base + '.out')} "
                   f"2> {q(base + '.err')}; echo $? > {q(base + '.ec')}")
        try:
            proc = subprocess.Popen(["/bin/bash", "-c", wrapper], start_new_session=True,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, close_fds=True)
        except OSError as e:
            raise SubmitException(job_name, f"could not start /bin/bash: {e}") from e
        job_id = str(proc.pid)
        self.resources[job_id] = {"job_id": job_id, "proc": proc, "status": JobStatus(JobState.RUNNING),
                                  "base": base, "cancelled": False}
        logger.debug("block job %s started: %s", job_id, script)
        return job_id

    # -- status ------------------------------------------------------------------------
    def _status_of(self, job_id: str) -> JobStatus:
        r = self.resources.get(job_id)
        if r is None:
            return JobStatus(JobState.MISSING, "unknown job id")
        if r["status"].terminal:
            return r["status"]
        proc: subprocess.Popen = r["proc"]
        base = r["base"]
        out, err = base + ".out", base + ".err"
        if proc.poll() is None:
            return r["status"]
        code = _read_exit_code(base + ".ec")
        if r["cancelled"]:
            st = JobStatus(JobState.CANCELLED, "cancelled", stdout_path=out, stderr_path=err)
        elif code is None:
            st = JobStatus(JobState.CANCELLED, "Killed", stdout_path=out, stderr_path=err)
        elif code == 0:
            st = JobStatus(JobState.COMPLETED, exit_code=0, stdout_path=out, stderr_path=err)
        else:
            st = JobStatus(JobState.FAILED, f"block script exited with code {code}", exit_code=code,
                           stdout_path=out, stderr_path=err)
        r["status"] = st
        return st

    def status(self, job_ids: List[str]) -> List[JobStatus]:
        return [self._status_of(str(j)) for j in job_ids]

    # -- cancel ------------------------------------------------------------------------
    def cancel(self, job_ids: List[str], grace: float = _CANCEL_GRACE_S) -> List[bool]:
        procs = []
        for j in job_ids:
            r = self.resources.get(str(j))
            if r is None:
                continue
            r["cancelled"] = True
            proc = r["proc"]
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
                procs.append(proc)
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc.pid, signal.SIGKILL)
            try:
                proc.wait(1.0)
            except subprocess.TimeoutExpired:  # pragma: no cover - unkillable
                logger.error("block job %s did not exit after SIGKILL", proc.pid)
        for j in job_ids:
            self._status_of(str(j))
        return [True for _ in job_ids]

    def get_usage_information(self) -> dict:
        return {"launcher": type(self.launcher).__name__}

    def __repr__(self):
        return (f"LocalProvider(nodes_per_block={self.nodes_per_block}, init_blocks={self.init_blocks}, "
                f"min_blocks={self.min_blocks}, max_blocks={self.max_blocks}, parallelism={self.parallelism})")


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _read_exit_code(path: str):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    if not text or text == "-":
        return None
    try:
        return int(text)
    except ValueError:
        return None
