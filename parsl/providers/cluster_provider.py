"""``ClusterProvider``: what every batch-scheduler provider shares (Parsl's import path).

A subclass supplies its scheduler's syntax through a few small hooks
(``_template``, ``_script_values``, ``_submit_command``, ``_parse_submit``,
``_status_command``, ``_parse_status``, ``_cancel_command``); this class writes
the script, runs the commands with a deadline, keeps each job's last known
status, and turns every scheduler complaint into an error that quotes it.
"""
from __future__ import annotations

import logging
import os
import shlex
import time
from typing import Dict, List, Optional

from parsl._base.errors import ConfigurationError
from parsl._base.job_errors import SchedulerCommandError, SubmitException
from parsl._base.job_states import JobState, JobStatus
from parsl._batch.commands import execute_wait
from parsl._batch.scripts import render, write_script
from parsl.launchers.base import check_launcher
from parsl.providers.base import ExecutionProvider

logger = logging.getLogger(__name__)


class ClusterProvider(ExecutionProvider):
    #: Seconds between status polls (schedulers dislike being asked more often).
    _polling_interval: float = 60
    #: How many job ids one status command may name.
    status_batch_size = 50

    def __init__(self, label, nodes_per_block=1, init_blocks=1, min_blocks=0, max_blocks=1, parallelism=1,
                 walltime="00:10:00", launcher=None, cmd_timeout=10):
        super().__init__()
        self._label = label
        self.nodes_per_block = _int_at_least("nodes_per_block", nodes_per_block, 1)
        self.init_blocks = _int_at_least("init_blocks", init_blocks, 0)
        self.min_blocks = _int_at_least("min_blocks", min_blocks, 0)
        self.max_blocks = _int_at_least("max_blocks", max_blocks, 0)
        if self.min_blocks > self.max_blocks:
            raise ConfigurationError(f"min_blocks={min_blocks} is above max_blocks={max_blocks}: "
                                     f"raise max_blocks or lower min_blocks")
        if not isinstance(parallelism, (int, float)) or not 0 <= parallelism <= 1:
            raise ConfigurationError(f"parallelism={parallelism!r} must be a number between 0 and 1")
        self.parallelism = parallelism
        self.walltime = walltime
        if launcher is None:
            from parsl.launchers.launchers import SingleNodeLauncher
            launcher = SingleNodeLauncher()
        self.launcher = check_launcher(launcher)
        if not isinstance(cmd_timeout, (int, float)) or cmd_timeout <= 0:
            raise ConfigurationError(f"cmd_timeout={cmd_timeout!r} must be a positive number of seconds")
        self.cmd_timeout = cmd_timeout
        self.script_dir = None
        self.resources: Dict[str, dict] = {}

    # --- ExecutionProvider ----------------------------------------------------------
    @property
    def label(self):
        return self._label

    @property
    def status_polling_interval(self):
        return self._polling_interval

    @status_polling_interval.setter
    def status_polling_interval(self, seconds: float):
        # Settable for small test clusters; a busy site's scheduler wants the default.
        self._polling_interval = seconds

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.auto") -> str:
        job_name = f"{job_name}.{time.time():.6f}"
        script_dir = self._script_dir()
        script_path = os.path.join(script_dir, f"{job_name}.submit")
        values = {
            "jobname": job_name,
            "submit_script_dir": script_dir,
            "job_stdout_path": script_path + ".stdout",
            "job_stderr_path": script_path + ".stderr",
            "nodes": self.nodes_per_block,
            "nodes_per_block": self.nodes_per_block,
            "tasks_per_node": tasks_per_node,
            "user_script": self.launcher(command, tasks_per_node, self.nodes_per_block),
        }
        values.update(self._script_values(tasks_per_node, job_name, script_path, values))
        write_script(script_path, render(self._template(), values, self.label))
        cmd = self._submit_command(script_path)
        # Run from the script dir: jobs start in the submit directory, and launchers
        # that write per-job helper files (cmd_<job>.sh) then keep them beside the script.
        rc, out, err = self.execute_wait(f"cd {shlex.quote(script_dir)} && {cmd}")
        job_id = self._parse_submit(out) if rc == 0 else None
        if not job_id:
            reason = "the scheduler refused the job" if rc != 0 else "no job id in the scheduler's reply"
            raise SubmitException(job_name, f"{reason} ({cmd!r})", stdout=out.strip(), stderr=err.strip(), retcode=rc)
        self.resources[job_id] = {"job_id": job_id, "job_name": job_name, "script_path": script_path,
                                  "status": JobStatus(JobState.PENDING, stdout_path=script_path + ".stdout",
                                                      stderr_path=script_path + ".stderr")}
        logger.info("Submitted %s as job %s (%s)", job_name, job_id, script_path)
        return job_id

    def status(self, job_ids: List[str]) -> List[JobStatus]:
        active = [j for j in job_ids if j in self.resources and not self.resources[j]["status"].terminal]
        for i in range(0, len(active), self.status_batch_size):
            self._update_status(active[i:i + self.status_batch_size])
        return [self.resources[j]["status"] if j in self.resources else JobStatus(JobState.UNKNOWN)
                for j in job_ids]

    def cancel(self, job_ids: List[str]) -> List[bool]:
        if not job_ids:
            return []
        rc, out, err = self.execute_wait(self._cancel_command(list(job_ids)))
        if rc != 0:
            logger.warning("%s", SchedulerCommandError(self._cancel_command(list(job_ids)), rc, out, err))
        for j in job_ids:
            if rc == 0 and j in self.resources and not self.resources[j]["status"].terminal:
                self._set_status(j, JobStatus(JobState.CANCELLED, message="cancelled by Chervil"))
        return [rc == 0] * len(job_ids)

    # --- helpers --------------------------------------------------------------------
    def execute_wait(self, cmd: str, timeout: Optional[float] = None):
        return execute_wait(cmd, self.cmd_timeout if timeout is None else timeout)

    def _script_dir(self) -> str:
        d = self.script_dir or os.path.join(os.getcwd(), "submit_scripts")
        d = os.path.abspath(d)
        os.makedirs(d, exist_ok=True)
        return d

    def _update_status(self, ids: List[str]) -> None:
        cmd = self._status_command(ids)
        rc, out, err = self.execute_wait(cmd)
        statuses = self._parse_status(rc, out, err, ids, cmd)
        for j in ids:
            if j in statuses:
                self._set_status(j, statuses[j])

    def _set_status(self, job_id: str, new: JobStatus) -> None:
        rec = self.resources[job_id]
        old = rec["status"]
        # Keep where the job's own output went: the error handler quotes it.
        new.stdout_path = new.stdout_path or old.stdout_path
        new.stderr_path = new.stderr_path or old.stderr_path
        if new.state != old.state:
            logger.debug("Job %s: %s -> %s", job_id, old.state.name, new.state.name)
        rec["status"] = new

    # --- hooks for subclasses ---------------------------------------------------------
    def _template(self) -> str:
        raise NotImplementedError

    def _script_values(self, tasks_per_node, job_name, script_path, values) -> dict:
        return {}

    def _submit_command(self, script_path: str) -> str:
        raise NotImplementedError

    def _parse_submit(self, out: str):
        raise NotImplementedError

    def _status_command(self, ids: List[str]) -> str:
        raise NotImplementedError

    def _parse_status(self, rc, out, err, ids, cmd) -> Dict[str, JobStatus]:
        raise NotImplementedError

    def _cancel_command(self, ids: List[str]) -> str:
        raise NotImplementedError


def _int_at_least(name, value, low):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigurationError(f"{name}={value!r} must be an integer >= {low}")
    return value


def check_type(name, value, types, none_ok=True):
    """Constructor-time type check with a message naming the field (Parsl type-checks these)."""
    if value is None and none_ok:
        return value
    if not isinstance(value, types) or isinstance(value, bool) and bool not in _as_tuple(types):
        names = " or ".join(t.__name__ for t in _as_tuple(types))
        raise ConfigurationError(f"{name}={value!r} must be {names}{' or None' if none_ok else ''}")
    return value


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)
