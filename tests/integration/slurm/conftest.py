"""A real one-node Slurm for the `slurm` tests, started once per session by .ci/slurm-up.sh."""
import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="session")
def slurm_cluster():
    if os.geteuid() != 0:
        pytest.skip("the slurm tests start slurmctld/slurmd/munge and need root")
    try:
        r = subprocess.run(["bash", os.path.join(REPO, ".ci", "slurm-up.sh")], capture_output=True, text=True,
                           timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip(".ci/slurm-up.sh did not finish within 600 s")
    if r.returncode != 0 or not shutil.which("sbatch"):
        pytest.skip(f"Slurm could not be started by .ci/slurm-up.sh (exit {r.returncode}): {r.stderr[-800:]}")
    return True

