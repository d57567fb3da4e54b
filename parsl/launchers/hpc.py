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
    """``srun --ntasks <nodes*tasks_per_node> -l <overrides> bash cmd_$SLURM_JOB_NAME.sh``."""

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}export CORES=$SLURM_CPUS_ON_NODE\nexport NODES=$SLURM_JOB_NUM_NODES\n"
                f"{_write_cmd_file(command, 'SLURM_JOB_NAME')}"
                f"srun --ntasks {total} -l {self.overrides} bash cmd_$SLURM_JOB_NAME.sh\n")

    def __repr__(self):
        return f"SrunLauncher(debug={self.debug!r}, overrides={self.overrides!r})"


class SrunMPILauncher(_OverridesLauncher):
    """For MPI apps: one ``srun`` per worker, each on its own share of the block's nodes,
    so that the workers' own ``srun`` (an MPI app) finds free nodes.  Workers get
    ``nodes_per_block / tasks_per_node`` nodes each (at least one)."""

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
    """``aprun -n <total> -N <tasks_per_node> <overrides> /bin/bash cmd_$JOBNAME.sh`` (Cray ALPS)."""

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}{_write_cmd_file(command)}"
                f"aprun -n {total} -N {tasks_per_node} {self.overrides} /bin/bash cmd_$JOBNAME.sh\n")


class JsrunLauncher(_OverridesLauncher):
    """``jsrun -n <total> -r <tasks_per_node> <overrides> /bin/bash cmd_$JOBNAME.sh`` (IBM LSF/Summit)."""

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}{_write_cmd_file(command)}"
                f"jsrun -n {total} -r {tasks_per_node} {self.overrides} /bin/bash cmd_$JOBNAME.sh\n")


class MpiExecLauncher(Launcher):
    """``mpiexec -n <total> <bind_cmd> none --hostfile`` with the hosts from ``$PBS_NODEFILE``
    (or this host when unset), each host once: one rank per task slot."""

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
    """``mpirun -np <total> <overrides> <bash> cmd_$JOBNAME.sh``."""

    def __init__(self, debug: bool = True, bash_location: str = "/bin/bash", overrides: str = ""):
        super().__init__(debug=debug)
        self.bash_location = bash_location
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        total = tasks_per_node * nodes_per_block
        return (f"{_debug(self.debug)}{_write_cmd_file(command)}"
                f"mpirun -np {total} {self.overrides} {self.bash_location} cmd_$JOBNAME.sh\n")


class GnuParallelLauncher(Launcher):
    """GNU parallel over ssh: ``tasks_per_node`` copies on each host of ``$PBS_NODEFILE``
    (or ``$SLURM_JOB_NODELIST`` expanded by scontrol, or this host)."""

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
