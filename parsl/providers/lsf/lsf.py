"""``LSFProvider``: blocks as LSF jobs (bsub, bjobs, bkill)."""
from __future__ import annotations

import shlex

from parsl._base.errors import ConfigurationError
from parsl._base.job_errors import SchedulerCommandError
from parsl._batch import lsf as syntax
from parsl._batch.scripts import directive_lines
from parsl._batch.walltime import wtime_to_minutes
from parsl.providers.cluster_provider import ClusterProvider, check_type


class LSFProvider(ClusterProvider):
    """Blocks as IBM LSF jobs (``bsub``/``bjobs``/``bkill``).

    Args:
        project: ``#BSUB -P`` (the project or allocation to charge).
        queue: ``#BSUB -q``.
        scheduler_options: extra ``#BSUB`` lines for the job script's header.
        worker_init: shell lines run at the start of the job (modules, venv).
        nodes_per_block: nodes per job (``#BSUB -nnodes`` when ``request_by_nodes``).
        cores_per_block: cores per job (``#BSUB -n``), used when ``request_by_nodes=False``.
        cores_per_node: cores per node (``span[ptile=...]``), used when ``request_by_nodes=False``.
        init_blocks: blocks to start when the executor starts.
        min_blocks: the fewest blocks kept, even when there is no work.
        max_blocks: the most blocks (jobs) at once.
        parallelism: how eagerly to add blocks, from 0 to 1.
        walltime: job time limit, ``"HH:MM:SS"`` (written as ``#BSUB -W`` minutes).
        bsub_redirection: submit as ``bsub < script`` (some sites need it) instead of ``bsub script``.
        request_by_nodes: ask for whole nodes (``-nnodes``, e.g. Summit) rather than cores.
        launcher: how the command is started on the job's nodes; default ``SingleNodeLauncher()``
            (``JsrunLauncher()`` on jsrun systems).
        cmd_timeout: seconds a bsub/bjobs/bkill may take before it is killed.
        channel: accepted for the tutorial era's ``LocalChannel()`` (ignored).
    """

    def __init__(self, project=None, queue=None, scheduler_options="", worker_init="", nodes_per_block=1,
                 cores_per_block=None, cores_per_node=None, init_blocks=1, min_blocks=0, max_blocks=1,
                 parallelism=1, walltime="00:10:00", bsub_redirection=False, request_by_nodes=True,
                 launcher=None, cmd_timeout=120, channel=None):
        super().__init__("LSF", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
                         walltime, launcher, cmd_timeout)
        check_type("project", project, str)
        check_type("queue", queue, str)
        if request_by_nodes and cores_per_block is not None:
            raise ConfigurationError("cores_per_block is only used with request_by_nodes=False: "
                                     "drop it or set request_by_nodes=False")
        if not request_by_nodes and cores_per_block is None:
            raise ConfigurationError("request_by_nodes=False needs cores_per_block")
        self.project, self.queue = project, queue
        self.scheduler_options, self.worker_init = scheduler_options, worker_init
        self.cores_per_block, self.cores_per_node = cores_per_block, cores_per_node
        self.bsub_redirection, self.request_by_nodes = bsub_redirection, request_by_nodes

    def _template(self):
        return syntax.TEMPLATE

    def _script_values(self, tasks_per_node, job_name, script_path, values):
        opts = [f"-q {self.queue}" if self.queue else "", f"-P {self.project}" if self.project else ""]
        if self.request_by_nodes:
            opts.append(f"-nnodes {self.nodes_per_block}")
        else:
            opts.append(f"-n {self.cores_per_block}")
            if self.cores_per_node:
                opts.append(f'-R "span[ptile={self.cores_per_node}]"')
        text = directive_lines("#BSUB", opts)
        if self.scheduler_options:
            text += self.scheduler_options.rstrip("\n") + "\n"
        return {"walltime": wtime_to_minutes(self.walltime), "scheduler_options": text,
                "worker_init": self.worker_init}

    def _submit_command(self, script_path):
        return f"bsub {'< ' if self.bsub_redirection else ''}{shlex.quote(script_path)}"

    def _parse_submit(self, out):
        return syntax.parse_bsub(out)

    def _status_command(self, ids):
        return "bjobs -noheader -o 'jobid stat exit_code' " + " ".join(shlex.quote(i) for i in ids)

    def _parse_status(self, rc, out, err, ids, cmd):
        if rc != 0 and not out.strip() and "is not found" not in err:
            raise SchedulerCommandError(cmd, rc, out, err)
        return syntax.parse_bjobs(out, ids, cmd)

    def _cancel_command(self, ids):
        return "bkill " + " ".join(shlex.quote(i) for i in ids)
