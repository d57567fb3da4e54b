"""parsl.load / clear / dfk / cleanup in every order, run directories, parsl.log, exit_mode."""
import os
import re
import threading

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.dflow import DataFlowKernel, DataFlowKernelLoader
from parsl.errors import ConfigurationError, NoDataFlowKernelError
from parsl.executors.threads import ThreadPoolExecutor

from kernel_helpers import DEADLINE, threads_config
from waiting import wait_until


@python_app
def add_one(x):
    return x + 1


def test_load_without_config_uses_the_default(tmp_path):
    d = parsl.load()
    try:
        assert isinstance(d, DataFlowKernel)
        assert parsl.dfk() is d is DataFlowKernelLoader.dfk()
        assert set(d.executors) == {"threads", "_parsl_internal"}
        assert add_one(1).result(timeout=DEADLINE) == 2
    finally:
        d.cleanup()
    assert DataFlowKernelLoader._dfk is None


def test_dfk_before_load_says_what_to_do():
    with pytest.raises(NoDataFlowKernelError, match="load"):
        parsl.dfk()
    with pytest.raises(NoDataFlowKernelError, match="load"):
        add_one(1)


def test_loading_twice_is_a_configuration_error(dfk):
    with pytest.raises(ConfigurationError, match="already been loaded.*clear"):
        parsl.load(threads_config())
    assert parsl.dfk() is dfk


def test_a_config_with_a_bad_type_is_refused():
    with pytest.raises(TypeError, match="Config"):
        DataFlowKernel(config={"executors": []})


@pytest.mark.parametrize("order", [
    ("cleanup",), ("clear",), ("cleanup", "clear"), ("clear", "cleanup"),
    ("cleanup", "cleanup", "clear", "clear"), ("clear", "clear", "cleanup", "cleanup"),
])
def test_cleanup_and_clear_in_any_order_are_harmless(order):
    d = parsl.load(threads_config())
    assert add_one(41).result(timeout=DEADLINE) == 42
    for step in order:
        if step == "cleanup":
            d.cleanup()
        else:
            parsl.clear()
    # whatever the order, once cleanup has run (or clear found nothing outstanding) nothing runs
    assert d._closed
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()
    # and another config can be loaded
    d2 = parsl.load(threads_config())
    assert add_one(1).result(timeout=DEADLINE) == 2
    d2.cleanup()


def test_cleanup_of_the_loaded_kernel_unloads_it(dfk):
    dfk.cleanup()
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_submit_after_cleanup_is_refused_with_advice(dfk):
    dfk.cleanup()
    with pytest.raises(NoDataFlowKernelError, match="cleaned up"):
        dfk.submit(len, app_args=("ab",))


def test_six_loads_in_a_row_like_the_tutorial(tmp_path):
    for i in range(6):
        d = parsl.load(threads_config())
        assert d.run_dir == str(tmp_path / "runinfo" / f"{i:03d}")
        assert add_one(i).result(timeout=DEADLINE) == i + 1
        parsl.clear()  # the tutorial only clears; the kernel must still not leak
    assert sorted(os.listdir(tmp_path / "runinfo")) == [f"{i:03d}" for i in range(6)]


def test_clear_with_tasks_outstanding_cleans_up_when_they_finish():
    gate = threading.Event()

    @python_app
    def blocked():
        return gate.wait(DEADLINE)

    d = parsl.load(threads_config())
    fut = blocked()
    parsl.clear()
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()
    assert not d._closed  # the running task is not cut short
    gate.set()
    assert fut.result(timeout=DEADLINE) is True
    wait_until(lambda: d._closed, "the cleared kernel to clean itself up")


def test_run_dir_run_id_and_log(tmp_path):
    d = parsl.load(threads_config())
    run_dir, run_id = d.run_dir, d.run_id
    add_one(1).result(timeout=DEADLINE)
    d.cleanup()
    assert os.path.isabs(run_dir) and run_dir == str(tmp_path / "runinfo" / "000")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", run_id)
    log = open(os.path.join(run_dir, "parsl.log")).read()
    assert run_id in log
    assert "cleanup" in log.lower()


def test_custom_run_dir_and_no_logging(tmp_path):
    d = parsl.load(threads_config(run_dir=str(tmp_path / "runs"), initialize_logging=False))
    d.cleanup()
    assert d.run_dir == str(tmp_path / "runs" / "000")
    assert not os.path.exists(os.path.join(d.run_dir, "parsl.log"))


def test_a_second_kernel_does_not_write_into_the_first_log(tmp_path):
    d1 = parsl.load(threads_config())
    d1.cleanup()
    size = os.path.getsize(os.path.join(d1.run_dir, "parsl.log"))
    d2 = parsl.load(threads_config())
    add_one(1).result(timeout=DEADLINE)
    d2.cleanup()
    assert os.path.getsize(os.path.join(d1.run_dir, "parsl.log")) == size
    assert d2.run_id in open(os.path.join(d2.run_dir, "parsl.log")).read()


def test_kernel_attributes():
    dfk = parsl.load(threads_config())  # loaded here, not in a fixture, so this file is the workflow
    try:
        assert dfk.config.executors[0].label == "threads"
        assert dfk.workflow_name == os.path.basename(__file__)
        assert isinstance(dfk.workflow_version, str) and dfk.workflow_version
        assert dfk.executors["_parsl_internal"].max_threads == 10
        assert dfk.executors["threads"].run_dir == dfk.run_dir
        assert dfk.executors["threads"].run_id == dfk.run_id
        add_one(1).result(timeout=DEADLINE)
        assert dfk.task_count == 1
    finally:
        dfk.cleanup()


def test_internal_executor_size_follows_config(load):
    d = load(internal_tasks_max_threads=3)
    assert d.executors["_parsl_internal"].max_threads == 3


# -- context manager and exit_mode ---------------------------------------------------

def test_context_manager_cleanup_mode():
    with parsl.load(threads_config()) as d:
        assert add_one(1).result(timeout=DEADLINE) == 2
    assert d._closed
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_context_manager_skip_mode_leaves_the_kernel_running():
    with parsl.load(threads_config(exit_mode="skip")) as d:
        pass
    try:
        assert not d._closed and parsl.dfk() is d
        assert add_one(1).result(timeout=DEADLINE) == 2
    finally:
        d.cleanup()


def test_context_manager_wait_mode_waits_for_tasks():
    gate = threading.Event()

    @python_app
    def slow_then(x):
        gate.wait(DEADLINE)
        return x

    def open_gate_soon():
        gate.set()
    with parsl.load(threads_config(exit_mode="wait")) as d:
        futs = [slow_then(i) for i in range(4)]
        threading.Timer(0.05, open_gate_soon).start()
    # the with-block only ended once every task had finished
    assert all(f.done() for f in futs)
    assert [f.result() for f in futs] == [0, 1, 2, 3]
    assert d._closed


def test_context_manager_wait_mode_on_exception_cleans_up_at_once():
    with pytest.raises(RuntimeError, match="user error"):
        with parsl.load(threads_config(exit_mode="wait")) as d:
            add_one(1).result(timeout=DEADLINE)
            raise RuntimeError("user error")
    assert d._closed


def test_context_manager_exception_propagates_in_cleanup_mode():
    with pytest.raises(KeyError):
        with parsl.load(threads_config()) as d:
            raise KeyError("x")
    assert d._closed


def test_kernel_built_directly_is_not_the_loaded_one():
    with DataFlowKernel(threads_config()) as d:
        app = python_app(lambda: 5, data_flow_kernel=d)
        assert app().result(timeout=DEADLINE) == 5
        with pytest.raises(NoDataFlowKernelError):
            parsl.dfk()


def test_failed_executor_start_cleans_up_what_started(tmp_path):
    class Broken(ThreadPoolExecutor):
        def start(self):
            raise RuntimeError("cannot start")

    with pytest.raises(RuntimeError, match="cannot start"):
        parsl.load(Config(executors=[ThreadPoolExecutor(label="ok"), Broken(label="broken")]))
    # nothing left loaded or running; loading again works
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()
    d = parsl.load(threads_config())
    d.cleanup()


# -- the same Config object loaded again -------------------------------------------------------

def test_the_same_config_object_can_be_loaded_again_after_cleanup():
    # notebooks re-run the cell that loads a config they built once
    cfg = threads_config()
    for _ in range(3):
        d = parsl.load(cfg)
        assert add_one(1).result(timeout=DEADLINE) == 2
        d.cleanup()


def test_the_same_config_object_after_clear_with_tasks_still_running():
    cfg = threads_config()
    gate = threading.Event()

    @python_app
    def blocked():
        return gate.wait(DEADLINE)
    d1 = parsl.load(cfg)
    fut = blocked()
    parsl.clear()
    # the first kernel still uses the executors: loading the same Config again is refused clearly
    with pytest.raises(ConfigurationError, match="already in use by another DataFlowKernel"):
        parsl.load(cfg)
    gate.set()
    assert fut.result(timeout=DEADLINE) is True
    wait_until(lambda: d1._closed, "the cleared kernel to clean itself up")
    d2 = parsl.load(cfg)
    assert add_one(1).result(timeout=DEADLINE) == 2
    d2.cleanup()


def test_one_config_in_two_live_kernels_is_refused():
    cfg = threads_config()
    with parsl.load(cfg):
        with pytest.raises(ConfigurationError, match="threads.*already in use"):
            DataFlowKernel(cfg)
        assert add_one(1).result(timeout=DEADLINE) == 2  # the first kernel is unharmed


def test_initialize_logging_with_a_log_config_object(load):
    calls = []

    class MyLogging:
        def initialize_logging(self, log_dir, log_name):
            calls.append((log_dir, log_name))
            return lambda: calls.append("undone")
    d = load(initialize_logging=MyLogging())
    d.cleanup()
    assert calls == [(d.run_dir, "parsl.log"), "undone"]


def test_add_executors_after_load(dfk):
    dfk.add_executors([ThreadPoolExecutor(label="late", thread_name_prefix="late")])
    app = python_app(lambda: threading.current_thread().name, executors=["late"])
    assert app().result(timeout=DEADLINE).startswith("late")
    assert dfk.executors["late"].run_dir == dfk.run_dir
    with pytest.raises(ConfigurationError, match="'late' is already loaded"):
        dfk.add_executors([ThreadPoolExecutor(label="late")])
