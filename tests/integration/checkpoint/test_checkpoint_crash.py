"""Crash safety: SIGKILL a task_exit-checkpointing workflow at random moments, many times.

After every kill: all checkpoints still load (no truncated or unreadable file), and the next
attempt re-executes only tasks whose results were not recorded. The last attempt completes
and re-executes exactly the unrecorded tasks.
"""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from parsl._core.checkpoint import get_all_checkpoints, load_checkpoints

from waiting import WaitTimeout, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
N_TASKS = 300


def recorded_tasks(run_dir):
    results, _ = load_checkpoints(get_all_checkpoints(run_dir))   # must never raise
    tasks = set()
    for value in results.values():
        i, sq = value
        assert sq == i * i, f"checkpoint holds a wrong result {value!r}"
        tasks.add(i)
    assert len(tasks) == len(results), "two records for one task"
    return tasks


def executed(log_path):
    if not os.path.exists(log_path):
        return []
    with open(log_path) as f:
        return [int(line) for line in f if line.strip()]


def attempt(tmp_path, n_attempt, kill_after_lines):
    """Run the workflow; SIGKILL it once its log has `kill_after_lines` lines (None: let it finish)."""
    run_dir = str(tmp_path / "runinfo")
    log_path = str(tmp_path / f"exec-{n_attempt}.log")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "crash_workflow.py"), run_dir,
                             log_path, str(N_TASKS)], cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if kill_after_lines is not None:
            try:
                wait_until(lambda: proc.poll() is not None or len(executed(log_path)) >= kill_after_lines,
                           f"{kill_after_lines} executed tasks in {log_path}", timeout=60, interval=0.002)
            except WaitTimeout:
                pass  # kill it wherever it is: a kill at any moment is what this test is about
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out.decode(), err.decode(), executed(log_path)


def crash_rounds(tmp_path, rounds, seed):
    rng = random.Random(seed)
    run_dir = str(tmp_path / "runinfo")
    for n in range(rounds):
        before = recorded_tasks(run_dir)
        remaining = N_TASKS - len(before)
        # from "before the first task" to "near the end", so kills land in start-up, in the
        # middle of tasks and in the middle of checkpoint writes
        kill_after = rng.randint(0, max(1, remaining * 3 // 4))
        rc, out, err, ran = attempt(tmp_path, n, kill_after)
        assert "Traceback" not in err, err
        rerun = before.intersection(ran)
        assert not rerun, f"attempt {n}: tasks {sorted(rerun)[:10]} ran although their results were recorded"
        after = recorded_tasks(run_dir)
        assert before <= after
    before = recorded_tasks(run_dir)
    assert before, "no attempt recorded anything before it was killed: the test proved nothing"
    rc, out, err, ran = attempt(tmp_path, rounds, None)
    assert rc == 0 and "COMPLETE" in out, err
    assert sorted(ran) == sorted(set(range(N_TASKS)) - before)
    assert recorded_tasks(run_dir) == set(range(N_TASKS))


def test_sigkill_during_task_exit_checkpointing(tmp_path):
    crash_rounds(tmp_path, rounds=6, seed=1234)


@pytest.mark.slow
def test_sigkill_many_times(tmp_path):
    crash_rounds(tmp_path, rounds=30, seed=int(time.time()))
