"""``SlurmProvider``: blocks as Slurm jobs (sbatch, squeue/sacct, scancel)."""
from __future__ import annotations

import logging
import math
import shlex
from typing import Optional

from parsl._base.job_errors import SchedulerCommandError
from parsl._batch import slurm as syntax
from parsl._batch.scripts import directive_lines
from parsl._batch.walltime import wtime_to_minutes
from parsl.providers.cluster_provider import ClusterProvider, check_type

logger = logging.getLogger(__name__)


class SlurmProvider(ClusterProvider):
    """Blocks as Slurm batch jobs: ``sbatch`` to start, ``squeue``/``sacct`` to watch, ``scancel`` to stop.

    Each block is one job of ``nodes_per_block`` nodes for ``walltime``; the launcher (default
    ``SingleNodeLauncher``; use ``SrunLauncher`` for more than one node) starts one HTEX manager
    per node inside it. Job states come from ``sacct`` when accounting works and from
    ``squeue --states=all`` otherwise, so a job killed by its time limit reads as ``TIMEOUT``.
    ``status_polling_interval`` (seconds, default 60) may be set on the instance.

    Args:
        partition: ``#SBATCH --partition``; ``None`` uses the cluster's default partition.
        account: ``#SBATCH --account`` to charge.
        qos: ``#SBATCH --qos``.
        constraint: ``#SBATCH --constraint`` (node features, e.g. ``"haswell"``).
        clusters: ``#SBATCH --clusters`` for a multi-cluster Slurm; also passed to squeue/scancel.
        nodes_per_block: nodes per job.
        cores_per_node: ``#SBATCH --cpus-per-task``; ``None`` leaves it to Slurm.
        mem_per_node: memory per node in GB (``#SBATCH --mem``).
        gpus_per_node: ``#SBATCH --gpus-per-node`` (a count, or a string such as ``"a100:2"``).
        gres: ``#SBATCH --gres`` (e.g. ``"gpu:4"``).
        init_blocks: blocks to start when the executor starts.
        min_blocks: the fewest blocks kept, even when there is no work.
        max_blocks: the most blocks (jobs) at once.
        parallelism: how eagerly to add blocks, from 0 to 1 (see the elasticity guide).
        walltime: job time limit, ``"HH:MM:SS"``.
        scheduler_options: extra lines for the job script's header, e.g. ``"#SBATCH --mail-type=END"``.
        regex_job_id: how to read the job id from sbatch's output.
        worker_init: shell lines run at the start of the job, before the workers: load modules,
            activate the venv (``"source /shared/chervil/.venv/bin/activate"``).
        cmd_timeout: seconds an sbatch/squeue/scancel may take before it is killed.
        status_batch_size: job ids per ``squeue``/``sacct`` call.
        exclusive: ``#SBATCH --exclusive`` (whole nodes); ``False`` lets jobs share a node.
        launcher: how the command is started on the job's nodes; default ``SingleNodeLauncher()``.
        channel: accepted for the tutorial era's ``LocalChannel()`` (ignored); SSH channels are refused.
        move_files: accepted for compatibility.

    Example::

        SlurmProvider(partition="debug", nodes_per_block=2, walltime="01:00:00",
                      launcher=SrunLauncher(), worker_init="source ~/chervil/.venv/bin/activate")
    """

    def __init__(self, partition: Optional[str] = None, account: Optional[str] = None,
                 qos: Optional[str] = None, constraint: Optional[str] = None, clusters: Optional[str] = None,
                 nodes_per_block: int = 1, cores_per_node: Optional[int] = None,
                 mem_per_node: Optional[int] = None, gpus_per_node: Optional[int] = None,
                 gres: Optional[str] = None, init_blocks: int = 1, min_blocks: int = 0, max_blocks: int = 1,
                 parallelism: float = 1, walltime: str = "00:10:00", scheduler_options: str = "",
                 regex_job_id: str = syntax.DEFAULT_JOB_ID_REGEX, worker_init: str = "",
                 cmd_timeout: int = 10, status_batch_size: int = 50, exclusive: bool = True,
                 launcher=None, channel=None, move_files=None):
        if channel is not None:
            _accept_local_channel(channel)
        super().__init__("slurm", nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism,
                         walltime, launcher, cmd_timeout)
        for name in ("partition", "account", "qos", "constraint", "clusters", "gres"):
            check_type(name, locals()[name], str)
        check_type("cores_per_node", cores_per_node, int)
        check_type("mem_per_node", mem_per_node, (int, float))
        check_type("gpus_per_node", gpus_per_node, (int, str))
        check_type("scheduler_options", scheduler_options, str, none_ok=False)
        check_type("worker_init", worker_init, str, none_ok=False)
        check_type("exclusive", exclusive, bool, none_ok=False)
        wtime_to_minutes(walltime)   # refuse a malformed walltime now, not at the first submit
        self.partition, self.account, self.qos = partition, account, qos
        self.constraint, self.clusters = constraint, clusters
        self.cores_per_node, self.mem_per_node = cores_per_node, mem_per_node
        self.gpus_per_node, self.gres = gpus_per_node, gres
        self.exclusive = exclusive
        self.scheduler_options = scheduler_options
        self.worker_init = worker_init
        self.regex_job_id = regex_job_id
        self.status_batch_size = status_batch_size
        self._use_sacct = self._sacct_works()

    def _sacct_works(self) -> bool:
        rc, _, _ = self.execute_wait("sacct -X --noheader --starttime now", timeout=self.cmd_timeout)
        logger.debug("Slurm status via %s", "sacct" if rc == 0 else "squeue")
        return rc == 0

    # --- script ---------------------------------------------------------------------
    def _template(self):
        return syntax.TEMPLATE

    def scheduler_directives(self, tasks_per_node: int):
        opts = []
        if self.exclusive:
            opts.append("--exclusive")
        for flag, value in (("partition", self.partition), ("account", self.account), ("qos", self.qos),
                            ("constraint", self.constraint), ("clusters", self.clusters),
                            ("gpus-per-node", self.gpus_per_node), ("gres", self.gres)):
            if value is not None:
                opts.append(f"--{flag}={value}")
        if self.mem_per_node is not None:
            opts.append(f"--mem={self.mem_per_node}g")
        if self.cores_per_node is not None:
            opts.append(f"--cpus-per-task={max(1, math.floor(self.cores_per_node / max(1, tasks_per_node)))}")
        return opts

    def _script_values(self, tasks_per_node, job_name, script_path, values):
        options = directive_lines("#SBATCH", self.scheduler_directives(tasks_per_node))
        if self.scheduler_options:
            options += self.scheduler_options.rstrip("\n") + "\n"
        init = self.worker_init
        if self.mem_per_node is not None:
            init = f"export PARSL_MEMORY_GB={self.mem_per_node}\n{init}"
        if self.cores_per_node is not None:
            init = f"export PARSL_CORES={self.cores_per_node}\n{init}"
        return {"walltime": wtime_to_minutes(self.walltime), "scheduler_options": options, "worker_init": init}

    # --- commands ---------------------------------------------------------------------
    def _clusters_flag(self):
        return f" --clusters={shlex.quote(self.clusters)}" if self.clusters else ""

    def _submit_command(self, script_path):
        return f"sbatch {shlex.quote(script_path)}"

    def _parse_submit(self, out):
        return syntax.parse_sbatch(out, self.regex_job_id)

    def _status_command(self, ids):
        joined = ",".join(ids)
        if self._use_sacct:
            return f"sacct -X --noheader --format=jobid,state%20 --job '{joined}'{self._clusters_flag()}"
        # --states=all: also report jobs that ended (TO, CA, F) while Slurm still remembers them.
        return f"squeue --noheader --states=all --format='%i %t %r' --job '{joined}'{self._clusters_flag()}"

    def _parse_status(self, rc, out, err, ids, cmd):
        if rc != 0:
            if not self._use_sacct and syntax.invalid_job_ids_only(err):
                return syntax.parse_squeue("", ids, cmd)   # all of them have left the queue
            raise SchedulerCommandError(cmd, rc, out, err)
        parse = syntax.parse_sacct if self._use_sacct else syntax.parse_squeue
        return parse(out, ids, cmd)

    def _cancel_command(self, ids):
        return f"scancel{self._clusters_flag()} {' '.join(shlex.quote(i) for i in ids)}"


def _accept_local_channel(channel):
    """The tutorial passes ``channel=LocalChannel()``: a no-op; remote channels are gone."""
    if type(channel).__name__ != "LocalChannel":
        from parsl._base.job_errors import ConfigurationError
        raise ConfigurationError(f"channel={channel!r}: only LocalChannel is supported (SSH channels were "
                                 f"removed from Parsl); run Chervil on the cluster's login node instead")
