"""Helpers shared by the slurm tests (a uniquely named module: `conftest` is ambiguous on sys.path)."""
import subprocess

from waiting import wait_until


def squeue_ids():
    """Job ids Slurm still has queued or running (finished ones are not listed)."""
    out = subprocess.run(["squeue", "--noheader", "--format=%i"], capture_output=True, text=True,
                         timeout=30).stdout
    return set(out.split())


def wait_until_gone(job_ids, timeout=60):
    wait_until(lambda: not (set(job_ids) & squeue_ids()), f"jobs {sorted(job_ids)} to leave squeue",
               timeout=timeout, interval=0.2)
