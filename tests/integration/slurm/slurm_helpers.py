"""Helpers shared by the slurm tests (a uniquely named module: `conftest` is ambiguous on sys.path)."""
import subprocess
import time


def squeue_ids():
    """Job ids Slurm still has queued or running (finished ones are not listed)."""
    out = subprocess.run(["squeue", "--noheader", "--format=%i"], capture_output=True, text=True,
                         timeout=30).stdout
    return set(out.split())


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def wait_until_gone(job_ids, timeout=60):
    wait_until(lambda: not (set(job_ids) & squeue_ids()), timeout, f"jobs {sorted(job_ids)} to leave squeue")
