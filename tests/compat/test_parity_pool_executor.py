"""``parsl.concurrent.ParslPoolExecutor`` as Parsl documents it (spec §11; issue 16 item 1)."""
import threading

import pytest

import parsl
from parsl import python_app
from parsl.concurrent import ParslPoolExecutor
from parsl.config import Config
from parsl.dataflow.futures import AppFuture
from parsl.errors import ConfigurationError, NoDataFlowKernelError
from parsl.executors import ThreadPoolExecutor

from waiting import wait_until

DEADLINE = 30


def threads_config():
    return Config(executors=[ThreadPoolExecutor(max_threads=2)])


def add_one(x):
    return x + 1


def power(x, y):
    return x ** y


@python_app
def parity(x):
    return "odd" if x % 2 else "even"


def test_user_guide_example_pool_future_as_app_argument():
    # The user guide: a future from the pool is a dependency of an ordinary app.
    with ParslPoolExecutor(threads_config()) as executor:
        fut = executor.submit(add_one, 1)
        assert isinstance(fut, AppFuture)
        assert parity(fut).result(timeout=DEADLINE) == "even"


def test_pool_futures_chain_through_the_pool_itself():
    with ParslPoolExecutor(threads_config()) as executor:
        first = executor.submit(add_one, 1)
        second = executor.submit(add_one, first)   # a pool future as a pool argument
        assert second.result(timeout=DEADLINE) == 3


def test_config_pool_loads_and_owns_its_kernel():
    executor = ParslPoolExecutor(config=threads_config())
    try:
        assert parsl.dfk() is executor._dfk        # apps called directly find it
        with pytest.raises(ConfigurationError):
            parsl.load(threads_config())          # it is the loaded kernel: no second one
    finally:
        executor.shutdown()
    assert executor._dfk._closed
    with pytest.raises(NoDataFlowKernelError):
        parsl.dfk()


def test_config_pool_refused_while_another_kernel_is_loaded():
    dfk = parsl.load(threads_config())
    try:
        with pytest.raises(ConfigurationError):
            ParslPoolExecutor(config=threads_config())
    finally:
        dfk.cleanup()


def test_dfk_pool_leaves_the_kernel_running():
    dfk = parsl.load(threads_config())
    try:
        with ParslPoolExecutor(dfk=dfk) as executor:
            assert executor.submit(add_one, 4).result(timeout=DEADLINE) == 5
        assert not dfk._closed
        assert parsl.dfk() is dfk
        assert python_app(add_one)(6).result(timeout=DEADLINE) == 7
    finally:
        dfk.cleanup()


def test_submit_passes_args_and_kwargs():
    with ParslPoolExecutor(threads_config()) as executor:
        assert executor.submit(power, 2, y=5).result(timeout=DEADLINE) == 32


def test_map_zips_iterables_and_keeps_order():
    with ParslPoolExecutor(threads_config()) as executor:
        assert list(executor.map(add_one, range(6), timeout=DEADLINE, chunksize=3)) == [1, 2, 3, 4, 5, 6]
        assert list(executor.map(power, [1, 2, 3], [2, 2, 2, 99])) == [1, 4, 9]
        assert executor.app_count == 2
        assert executor.get_app(add_one) is executor.get_app(add_one)


def test_map_submits_before_iteration():
    seen = []
    with ParslPoolExecutor(threads_config()) as executor:
        executor.map(seen.append, [1, 2, 3])     # never iterated
        executor._dfk.wait_for_current_tasks()
    assert sorted(seen) == [1, 2, 3]


def test_map_timeout_raises_timeout_error():
    release = threading.Event()
    with ParslPoolExecutor(threads_config()) as executor:
        results = executor.map(release.wait, [DEADLINE], timeout=0)
        with pytest.raises(TimeoutError):
            next(results)
        release.set()


@pytest.mark.parametrize("kwargs", [{}, {"config": None, "dfk": None}])
def test_neither_config_nor_dfk_is_a_value_error(kwargs):
    with pytest.raises(ValueError, match="config=.*dfk="):
        ParslPoolExecutor(**kwargs)


def test_both_config_and_dfk_is_a_value_error():
    dfk = parsl.load(threads_config())
    try:
        with pytest.raises(ValueError, match="not both"):
            ParslPoolExecutor(config=threads_config(), dfk=dfk)
    finally:
        dfk.cleanup()


@pytest.mark.parametrize("owns", [True, False])
def test_submit_and_map_after_shutdown_raise_runtime_error(owns):
    dfk = None if owns else parsl.load(threads_config())
    executor = ParslPoolExecutor(threads_config()) if owns else ParslPoolExecutor(dfk=dfk)
    executor.shutdown()
    executor.shutdown()                          # idempotent
    try:
        with pytest.raises(RuntimeError, match="shutdown"):
            executor.submit(add_one, 1)
        with pytest.raises(RuntimeError, match="shutdown"):
            executor.map(add_one, [1])
    finally:
        if dfk is not None:
            dfk.cleanup()


def test_shutdown_cancel_futures_cancels_only_unstarted_tasks_of_the_pool():
    dfk = parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=1)]))
    started, release = threading.Event(), threading.Event()
    try:
        executor = ParslPoolExecutor(dfk=dfk)
        running = executor.submit(started_then_wait, started, release)
        queued = executor.submit(add_one, 1)
        not_the_pools = python_app(add_one)(2)
        wait_until(started.is_set, "the first task to start")
        with pytest.warns(UserWarning, match="cancel"):
            executor.shutdown(cancel_futures=True)
        release.set()
        assert queued.cancelled()
        assert running.result(timeout=DEADLINE) is True
        assert not_the_pools.result(timeout=DEADLINE) == 3
    finally:
        release.set()
        dfk.cleanup()


def started_then_wait(started, release):
    started.set()
    return release.wait(DEADLINE)
