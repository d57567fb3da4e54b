"""HPC launchers: the script each produces runs under bash with a stand-in runtime
that records its arguments and runs the command file once."""
import os
import stat
import subprocess

import pytest

from parsl.launchers import (
    AprunLauncher,
    GnuParallelLauncher,
    JsrunLauncher,
    MpiExecLauncher,
    MpiRunLauncher,
    SrunLauncher,
    SrunMPILauncher,
)
from parsl.launchers.base import Launcher

RUNTIMES = ["srun", "aprun", "jsrun", "mpiexec", "mpirun", "parallel", "scontrol"]


@pytest.fixture
def fake_runtime(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in RUNTIMES:
        f = bin_dir / name
        # Record the arguments; then run the last argument that names a cmd_ file.
        f.write_text(f"""#!/bin/bash
echo "{name} $*" >> "$RUNTIME_LOG"
for a in "$@"; do case "$a" in *cmd_*.sh) exec bash "$a";; esac; done
""")
        f.chmod(f.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def run_block(script, tmp_path, fake_runtime):
    env = dict(os.environ, PATH=f"{fake_runtime}:{os.environ['PATH']}", JOBNAME="blk", SLURM_JOB_NAME="blk",
               RUNTIME_LOG=str(tmp_path / "runtime.log"), OUT=str(tmp_path / "out"))
    env.pop("PBS_NODEFILE", None)
    env.pop("SLURM_JOB_NODELIST", None)
    r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    log = (tmp_path / "runtime.log").read_text()
    return r, log


@pytest.mark.parametrize("launcher,expect", [
    (SrunLauncher(overrides="--mpi=none"), "srun --ntasks 6 -l --mpi=none bash cmd_blk.sh"),
    (SrunMPILauncher(), "srun --exclusive --nodes 1 --ntasks 1 -l"),
    (AprunLauncher(overrides="-cc none"), "aprun -n 6 -N 2 -cc none /bin/bash cmd_blk.sh"),
    (JsrunLauncher(), "jsrun -n 6 -r 2"),
    (MpiExecLauncher(), "mpiexec -n 6 --bind-to none --hostfile"),
    (MpiRunLauncher(), "mpirun -np 6 /bin/bash cmd_blk.sh"),
    (GnuParallelLauncher(), "parallel --env _ --joblog"),
])
def test_launcher_runs_the_command_through_its_runtime(launcher, expect, tmp_path, fake_runtime):
    assert isinstance(launcher, Launcher)
    script = launcher('echo "ran $JOBNAME" >> "$OUT"', 2, 3)
    r, log = run_block(script, tmp_path, fake_runtime)
    assert r.returncode == 0, r.stderr
    assert expect in log
    assert "ran blk" in (tmp_path / "out").read_text()   # $JOBNAME expanded by the task, not the writer


def test_launcher_failure_fails_the_block(tmp_path, fake_runtime):
    r, _ = run_block(SrunLauncher(debug=False)("exit 7", 1, 1), tmp_path, fake_runtime)
    assert r.returncode == 7
