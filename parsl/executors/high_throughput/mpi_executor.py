"""MPIExecutor: an HTEX whose tasks each launch an MPI application across a block's nodes.

One worker per block (the block's nodes belong to the task that runs); each task must say
how many ranks it wants.  The worker exports ``PARSL_<KEY>`` for the resource
specification, ``PARSL_MPI_NODELIST`` and ready-made launcher prefixes
(``$PARSL_MPI_PREFIX`` and ``PARSL_{MPIEXEC,SRUN,APRUN}_PREFIX``) so a bash app can write
``f"$PARSL_MPI_PREFIX ./my_mpi_app"``.
"""
from __future__ import annotations

import functools
import os
import socket
from typing import Any, Dict, Optional

from parsl._htex.resources import MPI_KEYS, PRIORITY  # noqa: F401  (MPI_KEYS: this module's name for them)
from parsl.executors.high_throughput.executor import HighThroughputExecutor
from parsl.launchers import SimpleLauncher

VALID_LAUNCHERS = ("mpiexec", "srun", "aprun")


def launcher_prefixes(spec: Dict[str, Any]) -> Dict[str, str]:
    """Pure: the command prefix of each MPI launcher for one resource specification."""
    ranks = spec.get("num_ranks", 1)
    nodes = spec.get("num_nodes", 1)
    per_node = spec.get("ranks_per_node", max(1, ranks // max(1, nodes)))
    opts = spec.get("launcher_options", "")
    return {
        "mpiexec": f"mpiexec -n {ranks} -ppn {per_node} {opts}".strip(),
        "srun": f"srun -N {nodes} -n {ranks} {opts}".strip(),
        "aprun": f"aprun -n {ranks} -N {per_node} {opts}".strip(),
    }


def _run_with_mpi_env(func, spec, launcher, *args, **kwargs):
    env = {f"PARSL_{k.upper()}": str(v) for k, v in spec.items()}
    env["PARSL_MPI_NODELIST"] = os.environ.get("SLURM_JOB_NODELIST") or socket.gethostname()
    prefixes = launcher_prefixes(spec)
    env.update({f"PARSL_{name.upper()}_PREFIX": p for name, p in prefixes.items()})
    env["PARSL_MPI_PREFIX"] = prefixes[launcher]
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return func(*args, **kwargs)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class MPIExecutor(HighThroughputExecutor):
    """An HTEX for MPI applications: each block is one batch job whose nodes are handed out to
    tasks, and a task says how many nodes and ranks it needs in its
    ``parsl_resource_specification`` (``num_nodes``, ``num_ranks``, ``ranks_per_node``). The
    launch prefix for the task's command is in ``$PARSL_MPI_PREFIX``.

    Args:
        label: the executor's name.
        provider: where blocks come from (a batch provider; ``SimpleLauncher`` is used).
        launch_cmd: the command a block runs (as for ``HighThroughputExecutor``).
        max_workers_per_block: tasks a block runs at once.
        mpi_launcher: ``"mpiexec"``, ``"srun"`` or ``"aprun"``: how ``$PARSL_MPI_PREFIX`` starts ranks.
        encrypted: CurveZMQ between this process and the block's manager.
        **kwargs: other ``HighThroughputExecutor`` parameters.
    """

    def __init__(self, label: str = "MPIExecutor", provider=None, launch_cmd: Optional[str] = None,
                 max_workers_per_block: int = 1, mpi_launcher: str = "mpiexec", encrypted: bool = False,
                 **kwargs):
        if mpi_launcher not in VALID_LAUNCHERS:
            raise ValueError(f"mpi_launcher={mpi_launcher!r}: use one of {VALID_LAUNCHERS}")
        super().__init__(label=label, provider=provider, launch_cmd=launch_cmd,
                         max_workers_per_node=max_workers_per_block, encrypted=encrypted, **kwargs)
        # getattr: the provider is the user's; not every provider has a launcher.
        launcher = getattr(self.provider, "launcher", None)
        if launcher is not None and not isinstance(launcher, SimpleLauncher):
            raise TypeError(f"MPIExecutor needs a provider with launcher=SimpleLauncher() (got {launcher!r}): "
                            "the MPI launcher, not the provider, spreads ranks over nodes")
        self.max_workers_per_block = max_workers_per_block
        self._settings = self._settings.replace(enable_mpi_mode=True, mpi_launcher=mpi_launcher)

    def monitor_resources(self) -> bool:
        return False

    def submit(self, func, resource_specification, *args, **kwargs):
        # HTEX's submit validates the specification in MPI mode (parsl._htex.resources)
        # before anything is sent; the wrapper only needs the MPI keys.
        spec = {k: v for k, v in (resource_specification or {}).items() if k != PRIORITY}
        wrapped = functools.partial(_run_with_mpi_env, func, spec, self.mpi_launcher)
        return super().submit(wrapped, resource_specification, *args, **kwargs)
