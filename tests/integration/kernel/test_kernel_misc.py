"""ThreadPoolExecutor, logging helpers, ParslPoolExecutor, wait_for_current_tasks, usage_tracking."""
import io
import logging
import os
import socket
import threading

import pytest

import parsl
from parsl import python_app
from parsl.concurrent import ParslPoolExecutor
from parsl.errors import ConfigurationError
from parsl.executors.threads import ThreadPoolExecutor

from kernel_helpers import DEADLINE, threads_config

# -- ThreadPoolExecutor ---------------------------------------------------------------------

def test_thread_pool_parameters():
    ex = ThreadPoolExecutor(label="tp", max_threads=3, thread_name_prefix="worker",
                            storage_access=[], working_dir="/tmp")
    assert (ex.label, ex.max_threads, ex.thread_name_prefix, ex.storage_access, ex.working_dir) == \
        ("tp", 3, "worker", [], "/tmp")
    assert "tp" in repr(ex)
    ex.shutdown()


@pytest.mark.parametrize("kwargs", [dict(max_threads=0), dict(max_threads="4"), dict(label="")])
def test_thread_pool_bad_parameters(kwargs):
    with pytest.raises(ConfigurationError):
        ThreadPoolExecutor(**kwargs)


def test_thread_pool_used_standalone():
    with ThreadPoolExecutor(max_threads=2, thread_name_prefix="solo") as ex:
        ex.start()
        futs = [ex.submit(lambda x: (x, threading.current_thread().name), {}, i) for i in range(10)]
        results = [f.result(timeout=DEADLINE) for f in futs]
    assert [r[0] for r in results] == list(range(10))
    assert {r[1] for r in results} <= {"solo-0", "solo-1"}


def test_thread_pool_never_exceeds_max_threads():
    ex = ThreadPoolExecutor(max_threads=2)
    gate = threading.Event()
    futs = [ex.submit(gate.wait, {}, DEADLINE) for _ in range(10)]
    assert len(ex._threads) == 2
    gate.set()
    for f in futs:
        f.result(timeout=DEADLINE)
    ex.shutdown()


def test_thread_pool_shutdown_finishes_queued_work_and_is_idempotent():
    ex = ThreadPoolExecutor(max_threads=1)
    futs = [ex.submit(lambda i: i, {}, i) for i in range(20)]
    ex.shutdown()
    ex.shutdown()
    assert [f.result(timeout=0) for f in futs] == list(range(20))
    with pytest.raises(RuntimeError, match="shut down"):
        ex.submit(lambda: 1, {})


def test_thread_names_follow_the_prefix(load):
    load(threads_config(executors=[ThreadPoolExecutor(label="named", thread_name_prefix="mypool")]))

    @python_app
    def name():
        return threading.current_thread().name
    assert name().result(timeout=DEADLINE).startswith("mypool")


def test_an_exception_in_one_task_does_not_kill_the_worker_thread():
    ex = ThreadPoolExecutor(max_threads=1)

    def boom():
        raise ValueError("x")
    assert isinstance(ex.submit(boom, {}).exception(timeout=DEADLINE), ValueError)
    assert ex.submit(lambda: 2, {}).result(timeout=DEADLINE) == 2
    ex.shutdown()


# -- wait_for_current_tasks ---------------------------------------------------------------------

def test_wait_for_current_tasks(dfk):
    gate = threading.Event()

    @python_app
    def blocked(i):
        gate.wait(DEADLINE)
        return i

    @python_app
    def child(x):
        return x * 2
    futs = [child(blocked(i)) for i in range(5)]
    threading.Timer(0.05, gate.set).start()
    parsl.wait_for_current_tasks()
    assert all(f.done() for f in futs)
    assert [f.result() for f in futs] == [0, 2, 4, 6, 8]


def test_wait_for_current_tasks_includes_failures(dfk):
    @python_app
    def bad():
        raise ValueError()
    futs = [bad() for _ in range(3)]
    dfk.wait_for_current_tasks()
    assert all(f.done() for f in futs)


def test_wait_for_current_tasks_with_nothing_submitted(dfk):
    parsl.wait_for_current_tasks()


# -- logging ------------------------------------------------------------------------------------------

def test_logging_names_importable_from_parsl():
    from parsl import NullHandler, set_file_logger, set_stream_logger  # noqa: F401  (tutorial spelling)
    assert NullHandler is logging.NullHandler
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("parsl").handlers)


def test_set_stream_logger_writes_and_unregisters():
    stream = io.StringIO()
    logger = logging.getLogger("parsl.test_stream")
    old_level = logging.getLogger("parsl").level
    undo = parsl.set_stream_logger(name="parsl", level=logging.INFO, stream=stream)
    try:
        logger.info("hello stream")
        logger.debug("not shown")
    finally:
        undo()
        logging.getLogger("parsl").setLevel(old_level)
    logger.info("after undo")
    text = stream.getvalue()
    assert "hello stream" in text and "[INFO]" in text
    assert "not shown" not in text and "after undo" not in text


def test_set_file_logger_writes_in_the_background_and_closes(tmp_path):
    path = tmp_path / "my.log"
    undo = parsl.set_file_logger(str(path), name="parsl.test_file", level=logging.DEBUG,
                                 format_string="%(levelname)s %(message)s")
    logging.getLogger("parsl.test_file").debug("to the file")
    undo()
    undo()  # idempotent
    assert path.read_text() == "DEBUG to the file\n"


def test_kernel_log_records_task_failures(load):
    d = load()

    @python_app
    def broken():
        raise KeyError("logged")
    with pytest.raises(KeyError):
        broken().result(timeout=DEADLINE)
    d.cleanup()
    text = open(os.path.join(d.run_dir, "parsl.log")).read()
    assert "KeyError" in text and "broken" in text


# -- ParslPoolExecutor ---------------------------------------------------------------------------------

def square(x):
    return x * x


def test_pool_executor_owning_its_kernel():
    with ParslPoolExecutor(config=threads_config()) as pool:
        assert pool.submit(square, 3).result(timeout=DEADLINE) == 9
        assert list(pool.map(square, range(5), timeout=DEADLINE)) == [0, 1, 4, 9, 16]
        assert pool.get_app(square) is pool.get_app(square)
        assert pool.app_count == 1
        dfk = pool._dfk
    assert dfk._closed


def test_pool_executor_on_an_existing_kernel_leaves_it_running(dfk):
    pool = ParslPoolExecutor(dfk=dfk)
    assert pool.submit(square, 4).result(timeout=DEADLINE) == 16
    pool.shutdown()
    assert not dfk._closed
    assert python_app(square)(5).result(timeout=DEADLINE) == 25


def test_pool_executor_needs_exactly_one_of_config_and_dfk(dfk):
    with pytest.raises(ValueError, match="got neither"):
        ParslPoolExecutor()
    with pytest.raises(ValueError, match="not both"):
        ParslPoolExecutor(config=threads_config(), dfk=dfk)


def test_pool_executor_shutdown_cancel_futures_warns():
    pool = ParslPoolExecutor(config=threads_config())
    with pytest.warns(UserWarning, match="cancel"):
        pool.shutdown(cancel_futures=True)


# -- usage tracking -------------------------------------------------------------------------------------

def test_usage_tracking_is_accepted_and_sends_nothing(load, monkeypatch):
    opened = []
    real_socket = socket.socket

    def spy(*args, **kwargs):
        opened.append(args)
        return real_socket(*args, **kwargs)
    monkeypatch.setattr(socket, "socket", spy)
    d = load(usage_tracking=3, project_name="demo")
    assert d.config.usage_tracking == 3
    assert python_app(square)(2).result(timeout=DEADLINE) == 4
    d.cleanup()
    assert opened == []
