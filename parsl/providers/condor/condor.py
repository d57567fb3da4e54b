"""``CondorProvider``: blocks as HTCondor clusters (condor_submit, condor_q, condor_rm)."""
from __future__ import annotations

import shlex

from parsl._base.job_errors import SchedulerCommandError
from parsl._batch import condor as syntax
from parsl._batch.scripts import render, write_script
from parsl._batch.walltime import wtime_to_minutes
from parsl.providers.cluster_provider import ClusterProvider, check_type


class CondorProvider(ClusterProvider):
    """Blocks as HTCondor jobs (``condor_submit``/``condor_q``/``condor_rm``): one slot per block.

    Args:
        nodes_per_block: copies of the command per job (usually 1: a slot is one machine's share).
        cores_per_slot: ``request_cpus``.
        mem_per_slot: ``request_memory``, in GB.
        init_blocks: blocks to start when the executor starts.
        min_blocks: the fewest blocks kept, even when there is no work.
        max_blocks: the most blocks (jobs) at once.
        parallelism: how eagerly to add blocks, from 0 to 1.
        environment: a dict of environment variables for the job.
        project: the accounting group (``+ProjectName``), if the pool uses one.
        scheduler_options: extra lines for the submit description.
        transfer_input_files: files HTCondor copies to the slot before the job starts.
        walltime: how long the job may run, ``"HH:MM:SS"`` (enforced by a periodic remove).
        worker_init: shell lines run at the start of the job (e.g. unpack and activate a venv).
        launcher: how the command is started in the job; default ``SingleNodeLauncher()``.
        requirements: a ``requirements`` expression (e.g. ``'OpSysAndVer == "AlmaLinux9"'``).
        cmd_timeout: seconds a condor command may take before it is killed.
        channel: accepted for the tutorial era's ``LocalChannel()`` (ignored).
    """

    def __init__(self, nodes_per_block=1, cores_per_slot=None, mem_per_slot=None, init_blocks=1, min_blocks=0,
                 max_blocks=1, parallelism=1, environment=None, project="", scheduler_options="",
                 transfer_input_files=(), walltime="00:10:00", worker_init="", launcher=None, requirements="",
                 cmd_timeout=60, channel=None):
        super().__init__("condor", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
                         walltime, launcher, cmd_timeout)
        check_type("cores_per_slot", cores_per_slot, int)
        check_type("mem_per_slot", mem_per_slot, (int, float))
        self.cores_per_slot, self.mem_per_slot = cores_per_slot, mem_per_slot
        # Workers size themselves from these (HTEX reads provider.cores_per_node / mem_per_node).
        self.cores_per_node, self.mem_per_node = cores_per_slot, mem_per_slot
        self.environment = dict(environment or {})
        self.project, self.scheduler_options = project, scheduler_options
        self.transfer_input_files = list(transfer_input_files)
        self.worker_init, self.requirements = worker_init, requirements

    def _template(self):
        return syntax.TEMPLATE

    def _script_values(self, tasks_per_node, job_name, script_path, values):
        job_script = script_path + ".sh"
        write_script(job_script, render(syntax.JOB_SCRIPT, {
            "worker_init": self.worker_init, "jobname": job_name, "user_script": values["user_script"]}, self.label))
        resources = ""
        if self.cores_per_slot:
            resources += f"request_cpus = {self.cores_per_slot}\n"
        if self.mem_per_slot:
            resources += f"request_memory = {int(self.mem_per_slot * 1024)}\n"   # MB
        env = " ".join(f"{k}='{v}'" for k, v in self.environment.items())
        return {
            "job_script_path": job_script,
            "job_log_path": script_path + ".log",
            "walltime_seconds": wtime_to_minutes(self.walltime) * 60,
            "should_transfer_files": "YES" if self.transfer_input_files else "IF_NEEDED",
            "transfer_input_files": (f"transfer_input_files = {','.join(self.transfer_input_files)}\n"
                                     if self.transfer_input_files else ""),
            "resources": resources,
            "requirements": f"requirements = {self.requirements}\n" if self.requirements else "",
            "project": f'+ProjectName = "{self.project}"\n' if self.project else "",
            "environment": f'environment = "{env}"\n' if env else "",
            "scheduler_options": self.scheduler_options.rstrip("\n") + "\n" if self.scheduler_options else "",
        }

    def _submit_command(self, script_path):
        return f"condor_submit {shlex.quote(script_path)}"

    def _parse_submit(self, out):
        return syntax.parse_condor_submit(out)

    def _status_command(self, ids):
        return "condor_q " + " ".join(shlex.quote(i) for i in ids) + " -af:j JobStatus ExitCode"

    def _parse_status(self, rc, out, err, ids, cmd):
        if rc != 0:
            raise SchedulerCommandError(cmd, rc, out, err)
        return syntax.parse_condor_q(out, ids, cmd)

    def _cancel_command(self, ids):
        return "condor_rm " + " ".join(shlex.quote(i) for i in ids)
