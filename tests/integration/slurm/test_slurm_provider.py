"""SlurmProvider and SrunLauncher against a real Slurm (slurmctld + slurmd + munge)."""
import os
import subprocess

import pytest

from parsl.jobs.states import JobState
from parsl.launchers import SimpleLauncher, SrunLauncher
from parsl.providers import SlurmProvider
from parsl.providers.errors import SubmitException

from slurm_helpers import wait_until_gone
from waiting import wait_until

pytestmark = [pytest.mark.slurm]


def wait_for_state(provider, job_id, wanted, timeout=90):
    def reached():
        st = provider.status([job_id])[0]
        return st if st.state in wanted else None
    return wait_until(reached, f"job {job_id} to reach {wanted}", timeout=timeout, interval=0.2)


def provider(tmp_path, **kw):
    kw.setdefault("exclusive", False)
    kw.setdefault("launcher", SimpleLauncher())
    p = SlurmProvider(**kw)
    p.script_dir = str(tmp_path / "submit_scripts")
    return p


def test_submit_run_complete_and_read_the_jobs_output(slurm_cluster, tmp_path):
    p = provider(tmp_path, walltime="00:02:00", worker_init="export GREETING=hello-from-init")
    job = p.submit('echo "$GREETING $SLURM_JOB_ID"', 1, "parsl.test")
    st = wait_for_state(p, job, {JobState.COMPLETED})
    assert st.stdout.strip() == f"hello-from-init {job}"


def test_cancel_leaves_nothing_in_squeue(slurm_cluster, tmp_path):
    p = provider(tmp_path)
    job = p.submit("sleep 300", 1)
    wait_for_state(p, job, {JobState.RUNNING})
    assert p.cancel([job]) == [True]
    assert p.status([job])[0].state == JobState.CANCELLED
    wait_until_gone([job], 30)


def test_a_job_cancelled_behind_our_back_is_noticed(slurm_cluster, tmp_path):
    p = provider(tmp_path)
    job = p.submit("sleep 300", 1)
    wait_for_state(p, job, {JobState.RUNNING})
    subprocess.run(["scancel", job], check=True, timeout=30)
    assert wait_for_state(p, job, {JobState.CANCELLED}).state == JobState.CANCELLED


def test_failing_job_is_failed_with_its_stderr(slurm_cluster, tmp_path):
    p = provider(tmp_path)
    job = p.submit("echo 'no such module' >&2; exit 3", 1)
    st = wait_for_state(p, job, {JobState.FAILED})
    assert "no such module" in st.stderr


def test_unknown_partition_quotes_sbatch(slurm_cluster, tmp_path):
    p = provider(tmp_path, partition="no_such_partition")
    with pytest.raises(SubmitException, match="(?i)invalid partition"):
        p.submit("true", 1)


def test_srun_launcher_runs_one_copy_per_task(slurm_cluster, tmp_path):
    p = provider(tmp_path, launcher=SrunLauncher(debug=False))
    job = p.submit('echo "rank $SLURM_PROCID of $SLURM_NTASKS"', 2)
    st = wait_for_state(p, job, {JobState.COMPLETED, JobState.FAILED})
    assert st.state == JobState.COMPLETED, st.stderr
    lines = sorted(line.split(":", 1)[1].strip() for line in st.stdout.splitlines() if ":" in line)
    assert lines == ["rank 0 of 2", "rank 1 of 2"]
    assert os.path.exists(os.path.join(p.script_dir, f"cmd_{p.resources[job]['job_name']}.sh"))


@pytest.mark.slow
def test_walltime_kill_is_reported_as_timeout(slurm_cluster, tmp_path):
    p = provider(tmp_path, walltime="00:01:00")
    job = p.submit("sleep 600", 1)
    st = wait_for_state(p, job, {JobState.TIMEOUT, JobState.FAILED, JobState.COMPLETED}, timeout=180)
    assert st.state == JobState.TIMEOUT
