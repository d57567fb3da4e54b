"""``PBSProProvider``: blocks as PBS Pro jobs (qsub, ``qstat -x -f -F json``, qdel)."""
from __future__ import annotations

import shlex

from parsl._base.job_errors import SchedulerCommandError
from parsl._batch import pbs as syntax
from parsl._batch.scripts import directive_lines
from parsl.providers.cluster_provider import ClusterProvider, check_type


class PBSProProvider(ClusterProvider):
    """Blocks as PBS Pro jobs (``qsub``/``qstat``/``qdel``), resources asked with ``-l select=``.

    Args:
        account: ``#PBS -A``.
        queue: ``#PBS -q``.
        scheduler_options: extra ``#PBS`` lines for the job script's header.
        select_options: appended to the ``select`` statement, e.g. ``"ngpus=4"`` or ``"mem=64gb"``.
        worker_init: shell lines run at the start of the job (modules, venv).
        nodes_per_block: nodes per job (``select=<nodes_per_block>``).
        cpus_per_node: ``ncpus`` per node in the select statement.
        init_blocks: blocks to start when the executor starts.
        min_blocks: the fewest blocks kept, even when there is no work.
        max_blocks: the most blocks (jobs) at once.
        parallelism: how eagerly to add blocks, from 0 to 1.
        launcher: how the command is started on the job's nodes; default ``SingleNodeLauncher()``
            (``MpiExecLauncher()`` for several nodes).
        walltime: job time limit, ``"HH:MM:SS"``.
        cmd_timeout: seconds a qsub/qstat/qdel may take before it is killed.
        channel: accepted for the tutorial era's ``LocalChannel()`` (ignored).
    """

    def __init__(self, account=None, queue=None, scheduler_options="", select_options="", worker_init="",
                 nodes_per_block=1, cpus_per_node=1, init_blocks=1, min_blocks=0, max_blocks=1, parallelism=1,
                 launcher=None, walltime="00:20:00", cmd_timeout=120, channel=None):
        super().__init__("pbspro", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
                         walltime, launcher, cmd_timeout)
        check_type("account", account, str)
        check_type("queue", queue, str)
        check_type("cpus_per_node", cpus_per_node, int, none_ok=False)
        self.account, self.queue = account, queue
        self.scheduler_options, self.select_options = scheduler_options, select_options
        self.worker_init, self.cpus_per_node = worker_init, cpus_per_node

    def _template(self):
        return syntax.PBSPRO_TEMPLATE

    def _script_values(self, tasks_per_node, job_name, script_path, values):
        opts = directive_lines("#PBS", [f"-q {self.queue}" if self.queue else "",
                                        f"-A {self.account}" if self.account else ""])
        if self.scheduler_options:
            opts += self.scheduler_options.rstrip("\n") + "\n"
        select = f":{self.select_options}" if self.select_options else ""
        return {"walltime": self.walltime, "ncpus": self.cpus_per_node, "select_options": select,
                "scheduler_options": opts, "worker_init": self.worker_init}

    def _submit_command(self, script_path):
        return f"qsub {shlex.quote(script_path)}"

    def _parse_submit(self, out):
        return syntax.parse_qsub(out)

    def _status_command(self, ids):
        return "qstat -x -f -F json " + " ".join(shlex.quote(i) for i in ids)

    def _parse_status(self, rc, out, err, ids, cmd):
        if rc != 0 and not out.strip():
            if "Unknown Job Id" in err or "Job has finished" in err:
                return syntax.parse_pbspro_json("", ids, cmd)
            raise SchedulerCommandError(cmd, rc, out, err)
        return syntax.parse_pbspro_json(out, ids, cmd)

    def _cancel_command(self, ids):
        return "qdel " + " ".join(shlex.quote(i) for i in ids)
