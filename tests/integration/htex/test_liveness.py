"""Liveness with nothing lost: dead workers, lost managers, a killed user process."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import cloudpickle
import psutil
import pytest

from parsl.executors.high_throughput.errors import ManagerLost, WorkerLost

from _htex_helpers import all_gone, htex, manager_pids, worker_pids  # noqa: F401
from waiting import wait_until

pytestmark = pytest.mark.htex
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def my_pid():
    return os.getpid()


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def test_killed_worker_fails_its_task_and_is_replaced(htex):
    ex = htex()
    manager = manager_pids(ex)[0]
    before = set(wait_until(lambda: len(worker_pids(manager)) == 2 and worker_pids(manager), "two workers"))
    err = ex.submit(die, {}).exception(timeout=30)
    assert isinstance(err, WorkerLost)
    assert "died while running" in str(err)
    after = wait_until(lambda: len(set(worker_pids(manager)) - before) == 1 and worker_pids(manager),
                       "a replacement worker")
    assert len(after) == 2, "the dead worker was replaced"
    seen = {ex.submit(my_pid, {}).result(timeout=30) for _ in range(40)}
    assert seen <= set(after)


def test_stopped_manager_is_declared_lost_after_threshold(htex):
    ex = htex(heartbeat_period=0.2, heartbeat_threshold=1.5)
    manager = manager_pids(ex)[0]
    workers = worker_pids(manager)
    fut = ex.submit(time.sleep, {}, 30)
    wait_until(lambda: ex.connected_managers()[0]["running"] == 1, "the task to start on the manager")
    os.kill(manager, signal.SIGSTOP)
    try:
        err = fut.exception(timeout=30)
        assert isinstance(err, ManagerLost)
        assert "stopped heartbeating" in str(err)
        assert ex.connected_managers() == []
    finally:
        os.kill(manager, signal.SIGCONT)
    # Woken up, it hears it was dropped (or misses the interchange) and exits with its workers.
    all_gone([manager] + workers, 15)


def test_shutdown_leaves_nothing(htex):
    ex = htex()
    manager = manager_pids(ex)[0]
    workers = wait_until(lambda: len(worker_pids(manager)) == 2 and worker_pids(manager), "two workers")
    busy = ex.submit(time.sleep, {}, 60)
    t = time.monotonic()
    ex.shutdown()
    assert time.monotonic() - t < 5
    assert busy.done()
    all_gone([manager] + workers, 5)


USER_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    def pids():
        return os.getpid(), os.getppid()

    ex = HighThroughputExecutor(address="127.0.0.1", max_workers_per_node=2, heartbeat_period=0.5,
                                heartbeat_threshold=2, provider=LocalProvider(init_blocks=1))
    ex.run_dir = sys.argv[1]
    ex.start()
    worker, manager = ex.submit(pids, {}).result(timeout=30)
    ex.submit(time.sleep, {}, 600)             # keeps one worker busy in user code
    print(manager, worker, flush=True)
    time.sleep(600)
""")


def test_everything_exits_when_the_user_process_is_killed(tmp_path):
    script = tmp_path / "user.py"
    script.write_text(USER_SCRIPT)
    user = subprocess.Popen([sys.executable, str(script), str(tmp_path / "run")], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        line = user.stdout.readline()
        assert line, "the user script did not start its executor"
        manager = int(line.split()[0])
        ours = [manager] + [c.pid for c in psutil.Process(manager).children(recursive=True)]
        bash = [p.pid for p in psutil.Process(user.pid).children(recursive=True)]
        assert len(ours) >= 2
        user.kill()
        user.wait()
        # heartbeat_threshold (2 s) + a few seconds
        all_gone(ours + bash, 2 + 5, "manager/workers to exit after the user process died")
    finally:
        if user.poll() is None:
            user.kill()
            user.wait()
        user.stdout.close()


def hog_the_gil():
    return sum(range(10**14))   # one C call: the lifeline thread never gets the GIL


def test_workers_die_with_a_killed_manager_even_inside_c_code(htex):
    ex = htex(heartbeat_period=0.5, heartbeat_threshold=2)
    manager = manager_pids(ex)[0]
    workers = wait_until(lambda: len(worker_pids(manager)) == 2 and worker_pids(manager), "two workers")
    futs = [ex.submit(hog_the_gil, {}) for _ in range(2)]
    wait_until(lambda: ex.connected_managers()[0]["running"] == 2, "both tasks to start on the manager")
    os.kill(manager, signal.SIGKILL)
    all_gone(workers, 5)
    assert all(isinstance(f.exception(timeout=30), ManagerLost) for f in futs)


def test_user_process_killed_managers_exit_fast_without_waiting_for_heartbeats(tmp_path):
    """heartbeat_threshold is 120 s here, but the closed TCP connection says it all."""
    script = tmp_path / "user.py"
    script.write_text(USER_SCRIPT.replace("heartbeat_period=0.5,", "heartbeat_period=30,")
                                 .replace("heartbeat_threshold=2", "heartbeat_threshold=120"))
    user = subprocess.Popen([sys.executable, str(script), str(tmp_path / "run")], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        line = user.stdout.readline()
        assert line, "the user script did not start its executor"
        manager = int(line.split()[0])
        ours = [manager] + [c.pid for c in psutil.Process(manager).children(recursive=True)]
        user.kill()
        user.wait()
        all_gone(ours, 10, "manager/workers to exit without waiting for heartbeat_threshold")
    finally:
        if user.poll() is None:
            user.kill()
            user.wait()
        user.stdout.close()


def test_killed_manager_is_lost_quickly_even_with_a_long_heartbeat_threshold(htex):
    ex = htex(heartbeat_threshold=120)
    manager = manager_pids(ex)[0]
    fut = ex.submit(time.sleep, {}, 60)
    wait_until(lambda: ex.connected_managers()[0]["running"] == 1, "the task to start on the manager")
    t = time.monotonic()
    os.kill(manager, signal.SIGKILL)
    assert isinstance(fut.exception(timeout=30), ManagerLost)
    assert time.monotonic() - t < 30, "the closed connection, not heartbeat_threshold, gave it away"
    assert ex.connected_managers() == []


def test_a_live_manager_wrongly_suspected_answers_the_ping_and_stays(htex):
    from parsl._htex import protocol
    from parsl._htex.interchange import SUSPECT_GRACE_S
    ex = htex(heartbeat_threshold=120)
    manager_pids(ex)

    def suspect(ix):
        (m,) = ix.managers.values()
        m.suspect_since = time.monotonic()
        ix._sock.send_multipart([m.uid, protocol.PING])
    ex.interchange.call(suspect)
    wait_until(lambda: ex.interchange.call(
        lambda ix: all(m.suspect_since is None for m in ix.managers.values())),
        "the suspected manager to be cleared", timeout=SUSPECT_GRACE_S)
    # cleared, so the sweep has nothing against it
    assert len(ex.connected_managers()) == 1
    assert ex.submit(my_pid, {}).result(timeout=30)
