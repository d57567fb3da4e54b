"""A workflow that the crash-safety test kills with SIGKILL at random moments.

Usage: python crash_workflow.py RUN_DIR EXEC_LOG N

Every task appends its number to EXEC_LOG when it *executes* (so the test can see which tasks
ran in which attempt) and returns (i, i*i). Checkpointing is task_exit; every attempt reloads
all earlier checkpoints with get_all_checkpoints(), as a user resuming would.
"""
import os
import sys

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import get_all_checkpoints


def main():
    run_dir, log_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    @python_app(cache=True)
    def work(i):
        import time
        os.write(log_fd, f"{i}\n".encode())   # one write: whole lines even under SIGKILL
        time.sleep(0.005)
        return (i, i * i)

    config = Config(executors=[ThreadPoolExecutor(max_threads=4)], run_dir=run_dir,
                    checkpoint_mode="task_exit", checkpoint_files=get_all_checkpoints(run_dir),
                    initialize_logging=False)
    with parsl.load(config):
        futures = [work(i) for i in range(n)]
        results = [f.result() for f in futures]
    assert results == [(i, i * i) for i in range(n)], "wrong results"
    print("COMPLETE", flush=True)


if __name__ == "__main__":
    main()
