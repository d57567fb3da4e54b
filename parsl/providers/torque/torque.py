"""``TorqueProvider``: blocks as Torque/PBS jobs (qsub, qstat, qdel); default launcher aprun."""
from __future__ import annotations

import shlex

from parsl._base.job_errors import SchedulerCommandError
from parsl._batch import pbs as syntax
from parsl._batch.scripts import directive_lines
from parsl.providers.cluster_provider import ClusterProvider, check_type


class TorqueProvider(ClusterProvider):
    """Blocks as Torque/PBS jobs (``qsub``/``qstat``/``qdel``), resources asked with ``-l nodes=``.

    Args:
        account: ``#PBS -A``.
        queue: ``#PBS -q``.
        scheduler_options: extra ``#PBS`` lines for the job script's header.
        worker_init: shell lines run at the start of the job (modules, venv).
        nodes_per_block: nodes per job.
        init_blocks: blocks to start when the executor starts.
        min_blocks: the fewest blocks kept, even when there is no work.
        max_blocks: the most blocks (jobs) at once.
        parallelism: how eagerly to add blocks, from 0 to 1.
        launcher: how the command is started on the job's nodes; default ``AprunLauncher()``, as in Parsl.
        walltime: job time limit, ``"HH:MM:SS"``.
        cmd_timeout: seconds a qsub/qstat/qdel may take before it is killed.
        channel: accepted for the tutorial era's ``LocalChannel()`` (ignored).
    """

    def __init__(self, account=None, queue=None, scheduler_options="", worker_init="", nodes_per_block=1,
                 init_blocks=1, min_blocks=0, max_blocks=1, parallelism=1, launcher=None,
                 walltime="00:20:00", cmd_timeout=120, channel=None):
        if launcher is None:
            from parsl.launchers.hpc import AprunLauncher
            launcher = AprunLauncher()
        super().__init__("torque", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
                         walltime, launcher, cmd_timeout)
        check_type("account", account, str)
        check_type("queue", queue, str)
        self.account, self.queue = account, queue
        self.scheduler_options, self.worker_init = scheduler_options, worker_init

    def _template(self):
        return syntax.TORQUE_TEMPLATE

    def _script_values(self, tasks_per_node, job_name, script_path, values):
        opts = directive_lines("#PBS", [f"-q {self.queue}" if self.queue else "",
                                        f"-A {self.account}" if self.account else ""])
        if self.scheduler_options:
            opts += self.scheduler_options.rstrip("\n") + "\n"
        return {"walltime": self.walltime, "scheduler_options": opts, "worker_init": self.worker_init}

    def _submit_command(self, script_path):
        return f"qsub {shlex.quote(script_path)}"

    def _parse_submit(self, out):
        return syntax.parse_qsub(out)

    def _status_command(self, ids):
        return "qstat " + " ".join(shlex.quote(i) for i in ids)

    def _parse_status(self, rc, out, err, ids, cmd):
        if rc != 0 and not out.strip():
            if "Unknown Job Id" in err:
                return syntax.parse_torque_qstat("", ids, cmd)
            raise SchedulerCommandError(cmd, rc, out, err)
        return syntax.parse_torque_qstat(out, ids, cmd)

    def _cancel_command(self, ids):
        return "qdel " + " ".join(shlex.quote(i) for i in ids)
