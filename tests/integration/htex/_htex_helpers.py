"""Shared helpers for the HTEX integration tests (imported by name; no package)."""
import psutil
import pytest

from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

from waiting import wait_until


def all_gone(pids, timeout, what=None):
    """Wait until none of ``pids`` is running (a zombie counts as gone); fail naming ``what``."""
    def gone():
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    return False
            except psutil.NoSuchProcess:
                pass
        return True
    return wait_until(gone, what or f"processes {sorted(pids)} to exit", timeout=timeout)


class ExecutorFactory:
    """Starts standalone executors for a test and shuts every one down afterwards."""

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.executors = []

    def __call__(self, start=True, **kw):
        kw.setdefault("address", "127.0.0.1")
        kw.setdefault("max_workers_per_node", 2)
        kw.setdefault("encrypted", False)
        kw.setdefault("provider", LocalProvider(init_blocks=1))
        ex = HighThroughputExecutor(**kw)
        ex.run_dir = str(self.run_dir)
        self.executors.append(ex)
        if start:
            ex.start()
        return ex

    def close(self):
        for ex in self.executors:
            ex.shutdown()


@pytest.fixture
def htex(tmp_path):
    factory = ExecutorFactory(tmp_path / "runinfo")
    yield factory
    factory.close()


def manager_pids(ex, count=1, timeout=20):
    managers = wait_until(lambda: len(ex.connected_managers()) >= count and ex.connected_managers(),
                          f"{count} manager(s) to connect", timeout=timeout)
    return [m["pid"] for m in managers]


def worker_pids(manager_pid):
    return [c.pid for c in psutil.Process(manager_pid).children()]
