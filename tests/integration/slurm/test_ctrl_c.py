"""Ctrl-C in a user script leaves no Slurm job behind."""
import signal
import subprocess
import sys
import textwrap

import pytest

from slurm_helpers import wait_until_gone

pytestmark = [pytest.mark.slurm, pytest.mark.htex]

SCRIPT = textwrap.dedent("""
    import sys, time
    import parsl
    from parsl.app.app import python_app
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import SlurmProvider

    @python_app
    def job_id():
        import os
        return os.environ["SLURM_JOB_ID"]

    provider = SlurmProvider(init_blocks=2, max_blocks=2, exclusive=False, walltime="00:05:00")
    parsl.load(Config(executors=[HighThroughputExecutor(max_workers_per_node=1, provider=provider)]))
    print(job_id().result(timeout=120), flush=True)
    print(" ".join(parsl.dfk().executors["HighThroughputExecutor"].blocks_to_job_id.values()), flush=True)
    time.sleep(600)      # the user presses Ctrl-C here
""")


def test_ctrl_c_cancels_every_job(slurm_cluster, tmp_path):
    script = tmp_path / "user_script.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        jobs = proc.stdout.readline().split()
        assert len(jobs) == 2
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert "KeyboardInterrupt" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wait_until_gone(jobs, 30)
