"""Launchers that start a block's command through an HPC parallel runtime.

Each one writes the command to ``cmd_$JOBNAME.sh`` in the job's working directory
(Chervil's providers start jobs in the submit-script directory, a shared file
system on clusters) and asks the runtime (srun, aprun, jsrun, mpiexec, mpirun, GNU
parallel) to run it ``tasks_per_node`` times on each of ``nodes_per_block`` nodes.
The runtime's exit code becomes the block's: a launch that fails fails the job,
so the block error handler sees it.
"""
from __future__ import annotations

from parsl.launchers.base import Launcher


def _write_cmd_file(command: str, var: str = "JOBNAME") -> str:
    # A quoted heredoc keeps $VARS in the command for the task's own shell to expand.
    return (f"cat << 'CHERVIL_CMD_EOF' > cmd_${var}.sh\n{command}\nCHERVIL_CMD_EOF\n"
            f"chmod u+x cmd_${var}.sh\n")


def _debug(flag: bool) -> str:
    return "set -x\n" if flag else ""


class _OverridesLauncher(Launcher):
    """A launcher whose runtime command takes extra user ``overrides``."""

    def __init__(self, debug: bool = True, overrides: str = ""):
        super().__init__(debug=debug)
        self.overrides = overrides


class SrunLauncher(_OverridesLauncher):
    """Start the command on every node of a Slurm job with ``srun``.

    Runs ``srun --ntasks <nodes_per_block * tasks_per_node> -l <overrides> bash <script>`` from the
    job script, so each node of the block runs one HTEX manager. Use it with ``SlurmProvider``
    when ``nodes_per_block > 1``.

    Args:
        debug: trace the launch script (``set -x``) into the job's output.
        overrides: extra ``srun`` options, e.g. ``"--cpu-bind=none"`` or ``"--mpi=pmix"``.
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}export CORES=$SLURM_CPUS_ON_NODE\nexport NODES=$SLURM_JOB_NUM_NODES\n"
                f"{_write_cmd_file(command, 'SLURM_JOB_NAME')}"
                f"srun --ntasks {total} -l {self.overrides} bash cmd_$SLURM_JOB_NAME.sh\n")

    def __repr__(self):
        return f"SrunLauncher(debug={self.debug!r}, overrides={self.overrides!r})"


class SrunMPILauncher(_OverridesLauncher):
    """Start each worker with its own ``srun`` on its own share of the block's nodes, for apps that
    call ``srun``/``mpirun`` themselves (MPI apps).

    Workers get ``nodes_per_block / tasks_per_node`` nodes each (at least one), so an MPI app a
    worker starts finds free nodes.

    Args:
        debug: trace the launch script (``set -x``) into the job's output.
        overrides: extra ``srun`` options for each worker's ``srun``.
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        workers = tasks_per_node
        nodes_each = max(1, nodes_per_block // max(1, workers))
        return (f"{_debug(self.debug)}export CORES=$SLURM_CPUS_ON_NODE\nexport NODES=$SLURM_JOB_NUM_NODES\n"
                f"{_write_cmd_file(command, 'SLURM_JOB_NAME')}"
                f"CHERVIL_PIDS=\"\"\n"
                f"for CHERVIL_W in $(seq 1 {workers}); do\n"
                f"    srun --exclusive --nodes {nodes_each} --ntasks 1 -l {self.overrides} "
                f"bash cmd_$SLURM_JOB_NAME.sh &\n"
                f"    CHERVIL_PIDS=\"$CHERVIL_PIDS $!\"\ndone\n"
                f"CHERVIL_RC=0\nfor p in $CHERVIL_PIDS; do wait $p || CHERVIL_RC=1; done\nexit $CHERVIL_RC\n")


class AprunLauncher(_OverridesLauncher):
    """Start the command with Cray ALPS ``aprun -n <total> -N <tasks_per_node>`` (the default of
    ``TorqueProvider``).

    Args:
        debug: trace the launch script (``set -x``) into the job's output.
        overrides: extra ``aprun`` options, e.g. ``"-cc none"``.
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}{_write_cmd_file(command)}"
                f"aprun -n {total} -N {tasks_per_node} {self.overrides} /bin/bash cmd_$JOBNAME.sh\n")


class JsrunLauncher(_OverridesLauncher):
    """Start the command with IBM ``jsrun -n <total> -r <tasks_per_node>`` (LSF systems such as Summit).

    Args:
        debug: trace the launch script (``set -x``) into the job's output.
        overrides: extra ``jsrun`` options, e.g. ``"-a 1 -c 42 -g 6"``.
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}{_write_cmd_file(command)}"
                f"jsrun -n {total} -r {tasks_per_node} {self.overrides} /bin/bash cmd_$JOBNAME.sh\n")


class MpiExecLauncher(Launcher):
    """Start one copy of the command per task slot with ``mpiexec``, over the hosts of
    ``$PBS_NODEFILE`` (each host once), or this host when it is unset.

    Args:
        debug: trace the launch script (``set -x``) into the job's output.
        bind_cmd: the option that sets binding (``"--bind-to"`` for MPICH/Hydra and Open MPI);
            binding is set to ``none`` so workers are not pinned to one core.
        overrides: extra ``mpiexec`` options.
    """

    def __init__(self, debug: bool = True, bind_cmd: str = "--bind-to", overrides: str = ""):
        super().__init__(debug=debug)
        self.bind_cmd = bind_cmd
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}{_write_cmd_file(command)}"
                f"CHERVIL_HOSTFILE=$(mktemp)\n"
                f"if [ -n \"$PBS_NODEFILE\" ]; then sort -u \"$PBS_NODEFILE\" > \"$CHERVIL_HOSTFILE\"; "
                f"else hostname > \"$CHERVIL_HOSTFILE\"; fi\n"
                f"mpiexec -n {total} {self.bind_cmd} none --hostfile \"$CHERVIL_HOSTFILE\" {self.overrides} "
                f"/usr/bin/env bash cmd_$JOBNAME.sh\n"
                f"CHERVIL_RC=$?\nrm -f \"$CHERVIL_HOSTFILE\"\nexit $CHERVIL_RC\n")


class MpiRunLauncher(Launcher):
    """Start the command with ``mpirun -np <total>``.

    Args:
        debug: trace the launch script (``set -x``) into the job's output.
        bash_location: the bash that runs the command on each rank.
        overrides: extra ``mpirun`` options.
    """

    def __init__(self, debug: bool = True, bash_location: str = "/bin/bash", overrides: str = ""):
        super().__init__(debug=debug)
        self.bash_location = bash_location
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}{_write_cmd_file(command)}"
                f"mpirun -np {total} {self.overrides} {self.bash_location} cmd_$JOBNAME.sh\n")


class GnuParallelLauncher(Launcher):
    """Start ``tasks_per_node`` copies on each host of the job with GNU parallel over ssh.

    Hosts come from ``$PBS_NODEFILE``, else ``$SLURM_JOB_NODELIST`` (expanded by ``scontrol``),
    else this host. Needs ``parallel`` and password-less ssh between the nodes.

    Args:
        debug: trace the launch script (``set -x``) into the job's output.
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}{_write_cmd_file(command)}"
                f"CHERVIL_HOSTS=$(mktemp)\n"
                f"if [ -n \"$PBS_NODEFILE\" ]; then sort -u \"$PBS_NODEFILE\" > \"$CHERVIL_HOSTS\";\n"
                f"elif [ -n \"$SLURM_JOB_NODELIST\" ]; then "
                f"scontrol show hostnames \"$SLURM_JOB_NODELIST\" > \"$CHERVIL_HOSTS\";\n"
                f"else hostname > \"$CHERVIL_HOSTS\"; fi\n"
                f"seq 1 {total} | parallel --env _ --joblog \"$JOBNAME.sh.parallel.log\" "
                f"--sshloginfile \"$CHERVIL_HOSTS\" --jobs {tasks_per_node} --workdir \"$PWD\" "
                f"bash \"$PWD/cmd_$JOBNAME.sh\"\n"
                f"CHERVIL_RC=$?\nrm -f \"$CHERVIL_HOSTS\"\nexit $CHERVIL_RC\n")
