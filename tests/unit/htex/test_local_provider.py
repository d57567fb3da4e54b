"""LocalProvider with real bash: scripts, status mapping, cancel of the whole group."""
import os

import psutil
import pytest

from parsl.jobs.states import JobState
from parsl.launchers import SimpleLauncher
from parsl.providers import LocalProvider

from waiting import wait_until


@pytest.fixture
def provider(tmp_path):
    p = LocalProvider(launcher=SimpleLauncher(), worker_init="export GREETING=hello")
    p.script_dir = str(tmp_path / "scripts")
    return p


def test_completed_job_with_output(provider):
    job = provider.submit("echo $GREETING $JOBNAME", 1, job_name="parsl.t.block-0")
    wait_until(lambda: provider.status([job])[0].terminal, f"job {job} to end", timeout=10)
    st = provider.status([job])[0]
    assert st.state == JobState.COMPLETED and st.exit_code == 0
    assert st.stdout.strip() == "hello parsl.t.block-0"
    assert any(f.endswith(".sh") for f in os.listdir(provider.script_dir))


def test_failed_job_reports_exit_code_and_stderr(provider):
    job = provider.submit("echo oops >&2; exit 7", 1)
    wait_until(lambda: provider.status([job])[0].terminal, f"job {job} to end", timeout=10)
    st = provider.status([job])[0]
    assert st.state == JobState.FAILED and st.exit_code == 7 and "oops" in st.stderr


def test_cancel_kills_the_process_group(provider):
    job = provider.submit("sleep 300 & sleep 300; wait", 1)
    assert provider.status([job])[0].state == JobState.RUNNING
    wait_until(lambda: len(psutil.Process(int(job)).children(recursive=True)) >= 2, f"job {job} to start its children",
               timeout=10)
    kids = psutil.Process(int(job)).children(recursive=True)
    assert provider.cancel([job]) == [True]
    assert provider.status([job])[0].state == JobState.CANCELLED
    wait_until(lambda: not any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE for k in kids),
               f"the children of job {job} to be killed", timeout=10)



def test_running_job_names_its_output_files(provider):
    # HTEX's "no manager has connected" warning quotes these paths while the block still runs
    job = provider.submit("echo started >&2; sleep 300", 1)
    try:
        st = provider.status([job])[0]
        assert st.state == JobState.RUNNING
        assert st.stdout_path.endswith(".out") and st.stderr_path.endswith(".err")
        wait_until(lambda: "started" in (provider.status([job])[0].stderr or ""), "the job's stderr", timeout=10)
    finally:
        provider.cancel([job])

def test_killed_outside_parsl_is_reported(provider):
    job = provider.submit("sleep 300", 1)
    os.killpg(int(job), 9)
    wait_until(lambda: provider.status([job])[0].terminal, f"job {job} to end", timeout=10)
    st = provider.status([job])[0]
    assert st.state == JobState.CANCELLED and st.message == "Killed"


def test_validation_messages_name_the_field():
    with pytest.raises(ValueError, match="min_blocks"):
        LocalProvider(min_blocks=3, max_blocks=1)
    with pytest.raises(ValueError, match="parallelism"):
        LocalProvider(parallelism=2)
