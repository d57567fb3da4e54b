"""A real one-node Slurm for the docs' Slurm examples, started once by .ci/slurm-up.sh."""
import os
import shutil
import subprocess

import pytest

from docs_examples import REPO


@pytest.fixture(scope="session")
def docs_slurm():
    if os.geteuid() != 0:
        pytest.skip("the Slurm examples start slurmctld/slurmd/munge and need root")
    try:
        r = subprocess.run(["bash", os.path.join(REPO, ".ci", "slurm-up.sh")], capture_output=True, text=True,
                           timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip(".ci/slurm-up.sh did not finish within 600 s")
    if r.returncode != 0 or not shutil.which("sbatch"):
        pytest.skip(f"Slurm could not be started by .ci/slurm-up.sh (exit {r.returncode}): {r.stderr[-800:]}")
    return True
