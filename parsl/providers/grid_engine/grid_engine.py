"""``GridEngineProvider``: blocks as Grid Engine jobs (qsub -terse, qstat, qdel)."""
from __future__ import annotations

import shlex

from parsl._base.job_errors import SchedulerCommandError
from parsl._batch import sge as syntax
from parsl._batch.scripts import directive_lines
from parsl.providers.cluster_provider import ClusterProvider, check_type


class GridEngineProvider(ClusterProvider):
    """Blocks as (Sun/Univa/Son of) Grid Engine jobs (``qsub``/``qstat``/``qdel``).

    Args:
        nodes_per_block: nodes per job.
        init_blocks: blocks to start when the executor starts.
        min_blocks: the fewest blocks kept, even when there is no work.
        max_blocks: the most blocks (jobs) at once.
        parallelism: how eagerly to add blocks, from 0 to 1.
        walltime: job time limit, ``"HH:MM:SS"`` (``#$ -l h_rt=``).
        scheduler_options: extra ``#$`` lines for the job script's header (e.g. ``"#$ -pe smp 8"``).
        worker_init: shell lines run at the start of the job (modules, venv).
        launcher: how the command is started in the job; default ``SingleNodeLauncher()``.
        cmd_timeout: seconds a qsub/qstat/qdel may take before it is killed.
        queue: ``#$ -q``.
        channel: accepted for the tutorial era's ``LocalChannel()`` (ignored).
    """

    def __init__(self, nodes_per_block=1, init_blocks=1, min_blocks=0, max_blocks=1, parallelism=1,
                 walltime="00:10:00", scheduler_options="", worker_init="", launcher=None, cmd_timeout=60,
                 queue=None, channel=None):
        super().__init__("grid_engine", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
                         walltime, launcher, cmd_timeout)
        check_type("queue", queue, str)
        self.scheduler_options, self.worker_init, self.queue = scheduler_options, worker_init, queue

    def _template(self):
        return syntax.TEMPLATE

    def _script_values(self, tasks_per_node, job_name, script_path, values):
        opts = directive_lines("#$", [f"-q {self.queue}" if self.queue else ""])
        if self.scheduler_options:
            opts += self.scheduler_options.rstrip("\n") + "\n"
        return {"walltime": self.walltime, "scheduler_options": opts, "worker_init": self.worker_init}

    def _submit_command(self, script_path):
        return f"qsub -terse {shlex.quote(script_path)}"

    def _parse_submit(self, out):
        return syntax.parse_qsub_terse(out)

    def _status_command(self, ids):
        return "qstat"     # Grid Engine's qstat lists the user's jobs; finished ones are absent

    def _parse_status(self, rc, out, err, ids, cmd):
        if rc != 0:
            raise SchedulerCommandError(cmd, rc, out, err)
        return syntax.parse_qstat(out, ids, cmd)

    def _cancel_command(self, ids):
        return "qdel " + " ".join(shlex.quote(i) for i in ids)
