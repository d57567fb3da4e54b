"""``parsl_resource_specification`` as Parsl documents it (spec §5; issue 16 item 2).

HTEX takes only ``priority`` (smaller runs first), MPIExecutor the MPI keys (and a
priority); ``validate_resource_spec`` and ``submit`` refuse anything else with
``parsl.executors.errors.InvalidResourceSpecification``; the thread pool refuses every
non-empty specification.
"""
import os
import sys

import cloudpickle
import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, MPIExecutor, ThreadPoolExecutor
from parsl.executors.errors import InvalidResourceSpecification
from parsl.launchers import SimpleLauncher
from parsl.providers import LocalProvider

from waiting import wait_until

# HTEX workers cannot import this test module: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

DEADLINE = 60


def mpi_executor():
    return MPIExecutor(address="127.0.0.1", provider=LocalProvider(launcher=SimpleLauncher()))


# -- validate_resource_spec, no executor started ---------------------------------------------

@pytest.mark.parametrize("spec", [{}, None, {"priority": 1}, {"priority": -2.5}, {"priority": 10**9}])
def test_htex_accepts_priority_only(spec):
    assert HighThroughputExecutor().validate_resource_spec(spec) is None


@pytest.mark.parametrize("spec, keys", [
    ({"cores": 1}, {"cores"}),
    ({"memory": 1, "disk": 2, "running_time_min": 3}, {"memory", "disk", "running_time_min"}),
    ({"priority": 1, "foo": 2}, {"foo"}),
])
def test_htex_refuses_unknown_keys_naming_them(spec, keys):
    with pytest.raises(InvalidResourceSpecification) as info:
        HighThroughputExecutor().validate_resource_spec(spec)
    assert info.value.invalid_keys == keys
    for key in keys:
        assert key in str(info.value)
    assert "priority" in str(info.value)            # says what it does accept


@pytest.mark.parametrize("spec", [{"num_nodes": 2}, {"num_ranks": 4}, {"ranks_per_node": 2},
                                  {"launcher_options": "-x"}, {"num_nodes": 2, "num_ranks": 4}])
def test_htex_refuses_mpi_keys_outside_mpi_mode(spec):
    with pytest.raises(InvalidResourceSpecification, match="MPIExecutor") as info:
        HighThroughputExecutor().validate_resource_spec(spec)
    assert info.value.invalid_keys == set(spec)


@pytest.mark.parametrize("priority", ["high", None, True, float("nan"), [1]])
def test_htex_priority_must_be_a_number(priority):
    with pytest.raises(InvalidResourceSpecification, match="priority") as info:
        HighThroughputExecutor().validate_resource_spec({"priority": priority})
    assert info.value.invalid_keys == {"priority"}


@pytest.mark.parametrize("spec", [
    {"num_nodes": 2}, {"num_ranks": 2}, {"ranks_per_node": 2, "num_nodes": 1},
    {"launcher_options": "-x"}, {"num_nodes": 2, "num_ranks": 5, "ranks_per_node": 2},
    {"num_ranks": 4, "priority": 3},
])
def test_mpi_accepts_mpi_keys(spec):
    assert mpi_executor().validate_resource_spec(spec) is None


@pytest.mark.parametrize("spec", [{}, None, {"priority": 1}])
def test_mpi_needs_a_specification(spec):
    with pytest.raises(InvalidResourceSpecification, match="num_nodes") as info:
        mpi_executor().validate_resource_spec(spec)
    assert info.value.invalid_keys == set()


@pytest.mark.parametrize("spec, bad", [
    ({"num_nodes": 1, "cores": 2}, {"cores"}),
    ({"num_nodes": 0}, {"num_nodes"}),
    ({"num_ranks": "4"}, {"num_ranks"}),
    ({"ranks_per_node": 1.5}, {"ranks_per_node"}),
    ({"num_nodes": 1, "launcher_options": ["-x"]}, {"launcher_options"}),
    ({"num_nodes": 1, "priority": "high"}, {"priority"}),
])
def test_mpi_refuses_unknown_keys_and_bad_values(spec, bad):
    with pytest.raises(InvalidResourceSpecification) as info:
        mpi_executor().validate_resource_spec(spec)
    assert info.value.invalid_keys == bad
    assert sorted(bad)[0] in str(info.value)


# -- at submit, through the kernel: the task's future fails, as in Parsl ----------------------

@python_app
def echo(x, parsl_resource_specification={}):  # noqa: B006 - Parsl's documented app-signature idiom
    return x


@pytest.mark.parametrize("spec", [{"priority": 1}, {"cores": 2}, {"num_nodes": 1}])
def test_thread_pool_refuses_any_specification(spec):
    dfk = parsl.load(Config(executors=[ThreadPoolExecutor()]))
    try:
        assert echo(1, parsl_resource_specification={}).result(timeout=DEADLINE) == 1
        fut = echo(1, parsl_resource_specification=spec)
        with pytest.raises(InvalidResourceSpecification) as info:
            fut.result(timeout=DEADLINE)
        assert info.value.invalid_keys == set(spec)
    finally:
        dfk.cleanup()


@pytest.mark.htex
def test_htex_submit_refuses_a_bad_specification(one_worker_htex):
    assert echo(2, parsl_resource_specification={"priority": 4}).result(timeout=DEADLINE) == 2
    for spec in ({"cores": 2}, {"num_ranks": 2}, {"priority": "high"}):
        with pytest.raises(InvalidResourceSpecification):
            echo(1, parsl_resource_specification=spec).result(timeout=DEADLINE)


@python_app
def blocker(started, fifo, parsl_resource_specification={}):  # noqa: B006
    open(started, "w").close()
    with open(fifo) as f:         # blocks until the test writes: the one worker is busy till then
        return f.read()


@python_app
def log_run(tag, path, parsl_resource_specification={}):  # noqa: B006
    with open(path, "a") as f:
        f.write(f"{tag}\n")
    return tag


@pytest.mark.htex
@pytest.mark.parametrize("first_spec", [{}, {"priority": 100}])
def test_smaller_priority_queued_behind_others_runs_first(one_worker_htex, tmp_path, first_spec):
    started, fifo, log = str(tmp_path / "started"), str(tmp_path / "fifo"), str(tmp_path / "log")
    os.mkfifo(fifo)
    busy = blocker(started, fifo, parsl_resource_specification=first_spec)
    wait_until(lambda: os.path.exists(started), "the blocking task to start on the only worker")
    low = log_run("low", log, parsl_resource_specification={"priority": 10})
    high = log_run("high", log, parsl_resource_specification={"priority": 1})
    wait_until(lambda: low.task_status() == high.task_status() == "launched",
               "both tasks to reach the executor")
    with open(fifo, "w") as f:
        f.write("released")
    assert busy.result(timeout=DEADLINE) == "released"
    assert [low.result(timeout=DEADLINE), high.result(timeout=DEADLINE)] == ["low", "high"]
    with open(log) as f:
        assert f.read().split() == ["high", "low"]
