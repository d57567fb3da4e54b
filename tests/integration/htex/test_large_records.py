"""Task records over taskfiles.FILE_RECORD_BYTES reach the worker through /dev/shm files:
the task runs with its argument intact, and no file outlives its task, even when the worker
holding it dies."""
import hashlib
import os
import signal
import sys

import cloudpickle
import pytest

from parsl._htex import taskfiles
from parsl.executors.high_throughput.errors import WorkerLost

from _htex_helpers import htex, manager_pids  # noqa: F401
from waiting import wait_until

pytestmark = [pytest.mark.htex,
              pytest.mark.skipif(not os.access(taskfiles.SHM_DIR, os.W_OK), reason="no writable /dev/shm")]
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def files_of(manager_pid):
    mine = f"{taskfiles.PREFIX}{taskfiles._PID_NS}-{manager_pid}-"
    return [n for n in os.listdir(taskfiles.SHM_DIR) if n.startswith(mine)]


def digest(blob, n=0):
    return len(blob), hashlib.sha256(blob).hexdigest(), files_of(os.getppid())


def die_holding(blob):
    os.kill(os.getpid(), signal.SIGKILL)


BIG = taskfiles.FILE_RECORD_BYTES * 3 + 12345


def test_a_large_argument_arrives_intact_and_its_file_is_gone_before_the_task_runs(htex):
    ex = htex(max_workers_per_node=1)
    manager = manager_pids(ex)[0]
    blob = os.urandom(BIG)
    futs = [ex.submit(digest, {}, blob, i) for i in range(3)] + [ex.submit(digest, {}, b"small")]
    for f in futs[:3]:
        n, h, left = f.result(timeout=60)
        assert (n, h) == (len(blob), hashlib.sha256(blob).hexdigest())
        assert left == [], "the worker unlinks the file once it has mapped it"
    assert futs[3].result(timeout=60)[0] == 5
    assert files_of(manager) == []


def test_a_worker_that_dies_with_a_large_argument_leaves_no_file_and_is_replaced(htex):
    ex = htex(max_workers_per_node=1)
    manager = manager_pids(ex)[0]
    err = ex.submit(die_holding, {}, bytes(BIG)).exception(timeout=60)
    assert isinstance(err, WorkerLost)
    wait_until(lambda: files_of(manager) == [], "the dead worker's task file to be removed")
    assert ex.submit(digest, {}, bytes(BIG)).result(timeout=60)[0] == BIG, "the replacement worker reads files"
