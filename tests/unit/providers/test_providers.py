"""Each batch provider end to end against fake scheduler commands that replay recorded output.

The fake commands sit first on PATH, log their arguments, and print what the real
scheduler printed; the provider's scripts, commands and state tracking are real.
"""
import os
import stat
import time

import pytest

from parsl.errors import ConfigurationError
from parsl.jobs.states import JobState
from parsl.launchers import SimpleLauncher, SingleNodeLauncher
from parsl.launchers.base import BadLauncher
from parsl.providers.condor.condor import CondorProvider
from parsl.providers.errors import SchedulerCommandError, SubmitException
from parsl.providers.grid_engine.grid_engine import GridEngineProvider
from parsl.providers.lsf.lsf import LSFProvider
from parsl.providers.pbspro.pbspro import PBSProProvider
from parsl.providers.slurm.slurm import SlurmProvider
from parsl.providers.torque.torque import TorqueProvider


class FakeScheduler:
    def __init__(self, tmp_path, monkeypatch):
        self.bin = tmp_path / "fakebin"
        self.bin.mkdir()
        self.log = tmp_path / "calls.log"
        monkeypatch.setenv("PATH", f"{self.bin}{os.pathsep}{os.environ['PATH']}")

    def command(self, name, stdout="", stderr="", rc=0, sleep=0):
        script = self.bin / name
        (self.bin / f"{name}.out").write_text(stdout)
        (self.bin / f"{name}.err").write_text(stderr)
        script.write_text(f"""#!/bin/bash
echo "{name} $*" >> {self.log}
{f'sleep {sleep}' if sleep else ''}
cat {self.bin}/{name}.out
cat {self.bin}/{name}.err >&2
exit {rc}
""")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)

    def calls(self):
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def sched(tmp_path, monkeypatch):
    return FakeScheduler(tmp_path, monkeypatch)


def slurm(sched, tmp_path, sacct=False, **kw):
    sched.command("sacct", rc=0 if sacct else 1, stderr="" if sacct else "Slurm accounting storage is disabled")
    p = SlurmProvider(**kw)
    p.script_dir = str(tmp_path / "scripts")
    return p


# --- Slurm ----------------------------------------------------------------------------

def test_slurm_script_has_every_configured_option(sched, tmp_path):
    sched.command("sbatch", "Submitted batch job 77\n")
    p = slurm(sched, tmp_path, partition="debug", account="proj", qos="high", constraint="haswell",
              clusters="c1", nodes_per_block=2, cores_per_node=8, mem_per_node=16, gpus_per_node=1,
              gres="gpu:1", walltime="01:30:00", scheduler_options="#SBATCH --comment=hi",
              worker_init="module load python", exclusive=True, launcher=SimpleLauncher())
    assert p.submit("run-worker", 4, "parsl.htex.block-0") == "77"
    text = open(p.resources["77"]["script_path"]).read()
    for line in ["#SBATCH --nodes=2", "#SBATCH --time=90", "#SBATCH --ntasks-per-node=4", "#SBATCH --exclusive",
                 "#SBATCH --partition=debug", "#SBATCH --account=proj", "#SBATCH --qos=high",
                 "#SBATCH --constraint=haswell", "#SBATCH --clusters=c1", "#SBATCH --gpus-per-node=1",
                 "#SBATCH --gres=gpu:1", "#SBATCH --mem=16g", "#SBATCH --cpus-per-task=2",
                 "#SBATCH --comment=hi", "export PARSL_CORES=8", "export PARSL_MEMORY_GB=16",
                 "module load python", "run-worker"]:
        assert line + "\n" in text, line
    assert "#SBATCH --job-name=parsl.htex.block-0." in text
    assert p.resources["77"]["status"].state == JobState.PENDING


def test_slurm_status_via_squeue_then_cancel(sched, tmp_path):
    sched.command("sbatch", "Submitted batch job 5\n")
    p = slurm(sched, tmp_path)
    jid = p.submit("true", 1)
    sched.command("squeue", "5 R None\n")
    assert p.status([jid])[0].state == JobState.RUNNING
    assert "--states=all" in sched.calls()[-1] and "--job 5" in sched.calls()[-1]
    sched.command("scancel")
    assert p.cancel([jid]) == [True]
    assert p.status([jid])[0].state == JobState.CANCELLED
    assert sched.calls()[-1] == "scancel 5"          # a cancelled job is not polled again


def test_slurm_status_via_sacct_when_accounting_works(sched, tmp_path):
    sched.command("sbatch", "Submitted batch job 9\n")
    p = slurm(sched, tmp_path, sacct=True, clusters="c1")
    jid = p.submit("true", 1)
    sched.command("sacct", "9 TIMEOUT\n")
    st = p.status([jid])[0]
    assert st.state == JobState.TIMEOUT
    assert "sacct -X --noheader --format=jobid,state%20 --job 9 --clusters=c1" in sched.calls()[-1]
    assert st.stdout_path.endswith(".submit.stdout")     # the job's own output stays findable


def test_slurm_jobs_squeue_forgot_are_completed(sched, tmp_path):
    sched.command("sbatch", "Submitted batch job 11\n")
    p = slurm(sched, tmp_path)
    jid = p.submit("true", 1)
    sched.command("squeue", stderr="slurm_load_jobs error: Invalid job id specified\n", rc=1)
    assert p.status([jid])[0].state == JobState.COMPLETED


def test_slurm_status_queries_are_batched(sched, tmp_path):
    sched.command("sbatch", "Submitted batch job 1\n")
    p = slurm(sched, tmp_path, status_batch_size=2)
    for i in range(5):
        sched.command("sbatch", f"Submitted batch job {i}\n")
        p.submit("true", 1)
    sched.command("squeue", "")
    p.status([str(i) for i in range(5)])
    assert len([c for c in sched.calls() if c.startswith("squeue")]) == 3


def test_slurm_refused_submit_quotes_sbatch(sched, tmp_path):
    sched.command("sbatch", stderr="sbatch: error: Batch job submission failed: Invalid partition name specified\n",
                  rc=1)
    p = slurm(sched, tmp_path, partition="nosuch")
    with pytest.raises(SubmitException, match="Invalid partition name specified"):
        p.submit("true", 1)
    assert p.resources == {}


def test_slurm_squeue_failure_and_garbage_are_clear_errors(sched, tmp_path):
    sched.command("sbatch", "Submitted batch job 3\n")
    p = slurm(sched, tmp_path)
    jid = p.submit("true", 1)
    sched.command("squeue", stderr="squeue: error: Unable to contact slurm controller\n", rc=1)
    with pytest.raises(SchedulerCommandError, match="Unable to contact slurm controller"):
        p.status([jid])
    sched.command("squeue", "this is not a status line\n")
    with pytest.raises(SchedulerCommandError, match="could not parse the line 'this is not a status line'"):
        p.status([jid])
    assert p.resources[jid]["status"].state == JobState.PENDING    # last known state kept


def test_a_hung_scheduler_command_is_killed_at_cmd_timeout(sched, tmp_path):
    sched.command("sbatch", "Submitted batch job 3\n")
    p = slurm(sched, tmp_path, cmd_timeout=1)
    jid = p.submit("true", 1)
    sched.command("squeue", "3 R None\n", sleep=60)
    t0 = time.monotonic()
    with pytest.raises(SchedulerCommandError, match="did not finish within 1 s"):
        p.status([jid])
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("kw,msg", [
    (dict(partition=3), "partition=3 must be str"),
    (dict(exclusive="yes"), "exclusive='yes' must be bool"),
    (dict(walltime="soon"), "HH:MM:SS"),
    (dict(min_blocks=3, max_blocks=1), "min_blocks=3 is above max_blocks=1"),
    (dict(parallelism=2), "parallelism=2"),
])
def test_slurm_bad_parameters_are_named(sched, tmp_path, kw, msg):
    with pytest.raises((ConfigurationError, ValueError), match=msg):
        slurm(sched, tmp_path, **kw)


def test_launcher_must_be_an_instance(sched, tmp_path):
    with pytest.raises(BadLauncher, match="not the class"):
        slurm(sched, tmp_path, launcher=SingleNodeLauncher)


def test_tutorial_local_channel_is_accepted(sched, tmp_path):
    class LocalChannel:
        pass
    slurm(sched, tmp_path, channel=LocalChannel())


# --- PBS Pro ------------------------------------------------------------------------------

def test_pbspro_submit_status_cancel(sched, tmp_path):
    sched.command("qsub", "11.pbs01\n")
    p = PBSProProvider(account="acct", queue="debug", cpus_per_node=32, select_options="ngpus=4",
                       scheduler_options="#PBS -l filesystems=home", worker_init="source env.sh",
                       nodes_per_block=2, walltime="00:30:00", launcher=SimpleLauncher())
    p.script_dir = str(tmp_path)
    jid = p.submit("run-worker", 1)
    assert jid == "11.pbs01"
    text = open(p.resources[jid]["script_path"]).read()
    for line in ["#PBS -l select=2:ncpus=32:ngpus=4", "#PBS -l walltime=00:30:00", "#PBS -q debug", "#PBS -A acct",
                 "#PBS -l filesystems=home", "source env.sh", "run-worker"]:
        assert line + "\n" in text, line
    sched.command("qstat", '{"Jobs": {"11.pbs01": {"job_state": "F", "Exit_status": 1}}}')
    st = p.status([jid])[0]
    assert st.state == JobState.FAILED and st.exit_code == 1
    assert "qstat -x -f -F json 11.pbs01" in sched.calls()[-1]
    sched.command("qdel")
    assert p.cancel([jid]) == [True]


# --- Torque ---------------------------------------------------------------------------------

def test_torque_defaults_to_aprun_and_parses_qstat(sched, tmp_path):
    sched.command("qsub", "301.torque01\n")
    p = TorqueProvider(queue="batch", nodes_per_block=3)
    p.script_dir = str(tmp_path)
    jid = p.submit("run-worker", 2)
    text = open(p.resources[jid]["script_path"]).read()
    assert "#PBS -l nodes=3:ppn=2\n" in text and "aprun -n 6 -N 2" in text
    sched.command("qstat", "Job ID  Name  User  Time Use S Queue\n---- ---- ---- ---- - ----\n"
                           "301.torque01 parsl.auto alice 00:00:01 R batch\n")
    assert p.status([jid])[0].state == JobState.RUNNING
    sched.command("qstat", stderr="qstat: Unknown Job Id 301.torque01\n", rc=153)
    assert p.status([jid])[0].state == JobState.COMPLETED


# --- LSF ---------------------------------------------------------------------------------

def test_lsf_submit_status(sched, tmp_path):
    sched.command("bsub", "Job <5001> is submitted to queue <normal>.\n")
    p = LSFProvider(project="BIO1", queue="batch", nodes_per_block=2, walltime="00:45:00",
                    bsub_redirection=True, launcher=SimpleLauncher())
    p.script_dir = str(tmp_path)
    jid = p.submit("run-worker", 1)
    assert jid == "5001" and sched.calls()[-1].startswith("bsub")
    text = open(p.resources[jid]["script_path"]).read()
    assert "#BSUB -W 45\n" in text and "#BSUB -nnodes 2\n" in text and "#BSUB -P BIO1\n" in text
    sched.command("bjobs", "5001 EXIT 3\n")
    st = p.status([jid])[0]
    assert st.state == JobState.FAILED and st.exit_code == 3


def test_lsf_cores_per_block_needs_request_by_cores():
    with pytest.raises(ConfigurationError, match="request_by_nodes=False"):
        LSFProvider(cores_per_block=4)


# --- Grid Engine --------------------------------------------------------------------------------

def test_grid_engine_submit_status(sched, tmp_path):
    sched.command("qsub", "401\n")
    p = GridEngineProvider(queue="all.q", walltime="02:00:00", launcher=SimpleLauncher())
    p.script_dir = str(tmp_path)
    jid = p.submit("run-worker", 1)
    text = open(p.resources[jid]["script_path"]).read()
    assert "#$ -l h_rt=02:00:00\n" in text and "#$ -q all.q\n" in text and "#$ -N parsl.auto." in text
    sched.command("qstat", "job-ID prior name user state submit/start at queue slots\n-----\n"
                           "  401 0.5 parsl.auto alice qw 11/26/2026 02:00:00 1\n")
    assert p.status([jid])[0].state == JobState.PENDING


# --- Condor ------------------------------------------------------------------------------------

def test_condor_submit_status(sched, tmp_path):
    sched.command("condor_submit", "Submitting job(s).\n1 job(s) submitted to cluster 88.\n")
    p = CondorProvider(cores_per_slot=4, mem_per_slot=2, requirements='OpSys == "LINUX"', project="proj",
                       environment={"A": "1"}, worker_init="source env.sh", walltime="00:20:00",
                       launcher=SimpleLauncher())
    p.script_dir = str(tmp_path)
    jid = p.submit("run-worker", 1)
    assert jid == "88"
    desc = open(p.resources[jid]["script_path"]).read()
    for line in ["request_cpus = 4", "request_memory = 2048", 'requirements = OpSys == "LINUX"',
                 '+ProjectName = "proj"', "environment = \"A='1'\"", "queue 1",
                 "periodic_remove = JobStatus == 2 && (time() - EnteredCurrentStatus) > 1200"]:
        assert line + "\n" in desc, line
    job_script = open(p.resources[jid]["script_path"] + ".sh").read()
    assert "source env.sh" in job_script and "run-worker" in job_script
    sched.command("condor_q", "88.0 2 undefined\n")
    assert p.status([jid])[0].state == JobState.RUNNING
    sched.command("condor_rm", "All jobs in cluster 88 have been marked for removal\n")
    assert p.cancel([jid]) == [True] and sched.calls()[-1] == "condor_rm 88"
