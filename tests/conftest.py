"""Suite-wide fixtures: every test runs in its own folder and must leave nothing behind.

The leak check fails a test that leaves a loaded DataFlowKernel, a live thread it started,
or a child process (other than Python's multiprocessing resource tracker). Lingering
threads/processes get a short grace period to finish their own shutdown (polling with a
deadline), then the test fails and they are killed.
"""
import threading

import psutil
import pytest

from waiting import WaitTimeout, wait_until

GRACE_SECONDS = 10.0


def _is_resource_tracker(p) -> bool:
    """Python's own multiprocessing helper: started once, for the whole pytest process,
    by the first spawn-context queue or lock (monitoring radios use them, as Parsl's do);
    it lives exactly as long as its parent, so it is not something a test left behind."""
    try:
        return "multiprocessing.resource_tracker" in " ".join(p.cmdline())
    except psutil.Error:
        return False


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture(autouse=True)
def _no_leaks(request):
    before_threads = set(threading.enumerate())
    me = psutil.Process()
    before_children = {p.pid for p in me.children(recursive=True)}
    yield
    problems = []
    from parsl.dataflow.dflow import DataFlowKernelLoader
    dfk = DataFlowKernelLoader._dfk
    if dfk is not None:
        problems.append("a DataFlowKernel was left loaded (call dfk.cleanup() / parsl.clear())")
        try:
            dfk.cleanup()
        finally:
            DataFlowKernelLoader._dfk = None

    def new_threads():
        return [t for t in threading.enumerate() if t not in before_threads and t.is_alive()]

    try:
        wait_until(lambda: not new_threads(), "the test's threads to end", timeout=GRACE_SECONDS)
    except WaitTimeout:
        problems.append(f"threads left running: {[t.name for t in new_threads()]}")

    def new_children():
        out = []
        for p in me.children(recursive=True):
            if p.pid in before_children:
                continue
            try:
                if p.status() != psutil.STATUS_ZOMBIE and not _is_resource_tracker(p):
                    out.append(p)
            except psutil.NoSuchProcess:
                pass
        return out

    try:
        wait_until(lambda: not new_children(), "the test's child processes to exit", timeout=GRACE_SECONDS)
    except WaitTimeout:
        left = new_children()
        problems.append(f"child processes left running: {[(p.pid, ' '.join(p.cmdline()[:4])) for p in left]}")
        for p in left:
            try:
                p.kill()
            except psutil.Error:
                pass
    if problems and not request.node.get_closest_marker("allow_leaks"):
        pytest.fail("; ".join(problems), pytrace=False)
