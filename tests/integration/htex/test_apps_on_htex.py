"""Python and bash apps through the DataFlowKernel on HTEX, and the tutorial's multi-site run."""
import os
import subprocess
import sys
import textwrap

import cloudpickle
import pytest

import parsl
from parsl.app.app import bash_app, python_app
from parsl.app.errors import AppTimeout
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

from waiting import wait_until

pytestmark = pytest.mark.htex
cloudpickle.register_pickle_by_value(sys.modules[__name__])

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples")


@pytest.fixture
def htex_dfk():
    dfk = parsl.load(Config(executors=[HighThroughputExecutor(
        label="htex", address="127.0.0.1", max_workers_per_node=2, encrypted=False,
        provider=LocalProvider(init_blocks=1))], retries=1))
    yield dfk
    dfk.cleanup()
    parsl.clear()


@python_app
def add(a, b):
    return a + b


@python_app
def explode(msg):
    raise ZeroDivisionError(msg)


@python_app
def die_once(marker):
    import os
    import signal
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


@bash_app
def shout(word, stdout=None, stderr=None):
    return f"echo {word}; echo {word}-err >&2"


@bash_app
def fail_bash():
    return "exit 3"


def test_python_apps_chain_and_errors(htex_dfk):
    x = add(0, 1)
    for _ in range(50):
        x = add(x, 1)
    assert x.result(timeout=60) == 51
    with pytest.raises(ZeroDivisionError, match="nope"):
        explode("nope").result(timeout=60)


@python_app
def exits(code):
    import sys
    sys.exit(code)


@python_app
def worker_pid():
    import os
    return os.getpid()


def test_system_exit_in_an_app_fails_the_task_and_keeps_the_worker(htex_dfk):
    before = {worker_pid().result(timeout=60) for _ in range(8)}
    fut = exits(4)
    with pytest.raises(SystemExit) as ei:
        fut.result(timeout=60)
    assert ei.value.code == 4
    assert fut.task_record["fail_count"] == 2          # retries=1: both tries ran and failed
    after = {worker_pid().result(timeout=60) for _ in range(8)}
    assert len(before | after) <= 2      # two workers, no new process: none was replaced


@python_app
def use_queue(q):
    import threading
    q.put(q.get() + 1)
    return q, threading.Lock()


def test_values_only_dill_pickles_travel_both_ways(htex_dfk):
    pytest.importorskip("dill")
    import queue
    q = queue.Queue()
    q.put(41)
    back, lock = use_queue(q).result(timeout=60)
    assert back.get_nowait() == 42
    assert lock.acquire(blocking=False)


@python_app
def stuck_in_c(pid_dir, walltime=0.2):
    import os
    import subprocess
    import time
    child = subprocess.Popen(["sleep", "300"])
    open(os.path.join(pid_dir, str(child.pid)), "w").close()
    time.sleep(300)          # in C: the AppTimeout cannot interrupt it


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:       # a zombie not yet reaped by its parent
        return f.read().split(") ")[-1].startswith("Z")


def test_walltime_ends_an_app_blocked_in_c_code_and_what_it_started(htex_dfk, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    fut = stuck_in_c(str(pids))
    with pytest.raises(AppTimeout, match="its worker process was ended"):
        fut.result(timeout=60)
    assert fut.task_record["fail_count"] == 2          # retries=1: both tries were ended
    children = [int(name) for name in os.listdir(pids)]
    assert len(children) == 2
    wait_until(lambda: all(_gone(pid) for pid in children), "the apps' child processes to be killed")
    assert add(1, 2).result(timeout=60) == 3           # the replacement workers take tasks


def test_worker_lost_is_retried(htex_dfk, tmp_path):
    assert die_once(str(tmp_path / "marker")).result(timeout=60) == "survived"


def test_bash_apps_write_stdout_and_stderr(htex_dfk, tmp_path):
    out, err = str(tmp_path / "o.txt"), str(tmp_path / "e.txt")
    assert shout("hello", stdout=out, stderr=err).result(timeout=60) == 0
    assert open(out).read() == "hello\n" and "hello-err" in open(err).read()
    from parsl.app.errors import BashExitFailure
    with pytest.raises(BashExitFailure):
        fail_bash().result(timeout=60)


MAIN_SCRIPT = textwrap.dedent("""
    import parsl
    from parsl.app.app import python_app
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    class Point:                      # a class only __main__ knows
        def __init__(self, x):
            self.x = x

    def helper(p):
        return Point(p.x * 10)

    @python_app
    def scale(p):
        return helper(p)

    with parsl.load(Config(executors=[HighThroughputExecutor(address="127.0.0.1", max_workers_per_node=1,
                                                           provider=LocalProvider())])):
        print(scale(Point(4)).result().x)
""")


def test_functions_and_classes_from_main(tmp_path):
    script = tmp_path / "main_app.py"
    script.write_text(MAIN_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "40"


def test_tutorial_multi_site_example(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, "multi_site.py")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    numbers = [int(x) for x in (tmp_path / "all.txt").read_text().split()]
    assert len(numbers) == 5
    assert int(out.stdout.strip()) == sum(numbers)
    # the HTEX ran with worker_debug=True: its logs are under the run directory
    logs = tmp_path / "runinfo" / "000" / "local_htex" / "block-0"
    assert any((d / "manager.log").exists() for d in logs.iterdir())
