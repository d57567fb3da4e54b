"""One HTEX worker process: runs tasks it reads from a pipe, writes results to another.

Started by the manager (``python -m parsl._htex.worker '<protocol.WorkerConfig as JSON>'``)
with three inherited file descriptors:

* ``task_fd``     length-prefixed task records from the manager;
* ``result_fd``   length-prefixed result records to the manager;
* ``lifeline_fd`` the read end of a pipe whose write end only the manager holds.  EOF on it
  means the manager is gone, even while this worker is busy in user code, so a watcher
  thread kills this worker's process group (the worker and any bash children).

The worker is a session leader so that the manager can kill it *and* its children.
"""
from __future__ import annotations

import logging
import mmap
import os
import pickle
import signal
import sys
import threading
from typing import Any, Optional, Tuple

from parsl._base import hard_stop
from parsl._base.dill_fallback import try_dill
from parsl._base.errors import SerializationError
from parsl._base.logfiles import SafeFileHandler
from parsl._base.remote import RemoteExceptionWrapper
from parsl._htex import protocol, taskfiles
from parsl._htex.protocol import WorkerConfig
from parsl._sampling.records import encode_message

logger = logging.getLogger("parsl.htex.worker")

_result_file = None
_result_lock = threading.Lock()
#: The executor's id of the task this worker is running (None between tasks); for the
#: monitoring sampler, which labels its messages with it.
current_task_id = None


def send_monitoring(message_type, payload) -> None:
    """Hook for the per-task resource sampler: forward a monitoring message upstream.

    Safe from any thread of the worker; the manager forwards it to the interchange, which
    hands it to ``executor.monitoring_messages``.
    """
    if _result_file is None:
        return
    _write_record(protocol.encode_result(0, protocol.OUTCOME_MONITORING, encode_message(message_type, payload)))


def _write_record(record: bytes) -> None:
    # One write per record: the manager wakes once and reads it whole.
    data = protocol.RECORD_HEAD.pack(len(record)) + record
    with _result_lock:
        _write_all(_result_file, data)


def _write_all(f, data) -> None:
    view = memoryview(data)
    while view:
        n = f.write(view)
        view = view[n:]


def _watch_lifeline(fd: int) -> None:
    try:
        while os.read(fd, 1):
            pass
    except OSError:
        pass
    # The manager is gone: take our children (bash apps) with us.
    try:
        os.killpg(0, signal.SIGKILL)
    finally:
        os._exit(1)


def _die_with_parent(parent_pid) -> None:
    """Linux: have the kernel SIGKILL us when the manager dies, even if user code holds the
    GIL so the lifeline thread cannot run (belt and braces for the lifeline)."""
    try:
        import ctypes  # deferred: only here, and a platform may lack it
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except Exception:
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)   # the manager died before the request took effect


def _pickled(value) -> Tuple[Optional[bytes], str]:
    """``value`` pickled by the first of C pickle (fast), cloudpickle (what is defined in
    ``__main__``) and dill (what Parsl would send); or None and why none could."""
    try:
        return pickle.dumps(value, protocol=5), ""
    except Exception:
        pass
    try:
        import cloudpickle  # deferred: only for values plain pickle refuses (worker start-up cost)
        return cloudpickle.dumps(value, protocol=5), ""
    except Exception as e:
        return try_dill(e, value)


def _dump_result(task_id: int, value, task_end: bytes = b"") -> bytes:
    data, reason = _pickled(value)
    if data is not None:
        return protocol.encode_result(task_id, protocol.OUTCOME_RESULT, data, task_end)
    try:
        raise SerializationError("result", f"the task's return value could not be pickled: {reason}") from None
    except SerializationError:
        return _dump_exception(task_id, task_end)


def _dump_exception(task_id: int, task_end: bytes = b"") -> bytes:
    wrapper = RemoteExceptionWrapper(*sys.exc_info())
    data, reason = _pickled(wrapper)
    if data is None:  # the exception itself does not pickle: send its text
        try:
            raise RuntimeError(f"{wrapper.e_type.__name__}: {wrapper.e_value} "
                               f"(the original exception could not be pickled: {reason})") from None
        except RuntimeError:
            data = pickle.dumps(RemoteExceptionWrapper(*sys.exc_info()), protocol=5)
    return protocol.encode_result(task_id, protocol.OUTCOME_EXCEPTION, data, task_end)


def _abandon_running_task(exc: BaseException) -> None:
    """``hard_stop``'s handler, called from the walltime's timer thread: the running task
    overran its walltime where the AppTimeout cannot reach it.  Send ``exc`` as its outcome,
    flagged so the manager sends this worker nothing more, and end the process; the manager
    kills what the app started (its process group) and starts another worker."""
    task_id = current_task_id
    if task_id is None:
        return              # not inside a task: nothing to abandon
    try:
        raise exc
    except BaseException:  # noqa: B902 - to give _dump_exception its exc_info
        _write_record(protocol.flag_worker_exits(_dump_exception(task_id)))
    os._exit(protocol.WORKER_EXIT_ABANDONED)


def _monitoring_fault(task_id: int) -> bytes:
    """The end-of-task sample failed: log it (to stderr, which the block keeps) and send
    the result without one; the task's own outcome stands."""
    import traceback  # deferred: only on a monitoring fault
    print(f"parsl htex worker: monitoring's end-of-task sample of task {task_id} failed "
          f"(the task's result is unaffected):\n{traceback.format_exc()}", file=sys.stderr, flush=True)
    return b""


def _apply_affinity(cores) -> None:
    if cores is None:
        return
    try:
        os.sched_setaffinity(0, cores)
    except (AttributeError, OSError) as e:
        logger.warning("could not set CPU affinity %s: %s", cores, e)


def run(config: WorkerConfig) -> None:
    global _result_file, current_task_id
    task_file = os.fdopen(config.task_fd, "rb", buffering=1 << 16)
    _result_file = os.fdopen(config.result_fd, "wb", buffering=0)
    lifeline = threading.Thread(target=_watch_lifeline, args=(config.lifeline_fd,), daemon=True,
                                name="htex-lifeline")
    lifeline.start()
    hard_stop.abandon_running_task = _abandon_running_task
    _die_with_parent(config.manager_pid)
    _apply_affinity(config.cpu_affinity)
    debug = config.debug
    if debug and config.logfile:
        logging.basicConfig(handlers=[SafeFileHandler(config.logfile)], level=logging.DEBUG,
                            format="%(asctime)s %(name)s:%(lineno)d %(levelname)s %(message)s")
        logger.debug("worker %s started, pid %d", config.rank, os.getpid())

    monitor = None
    if config.resource_monitoring_interval is not None:
        # Monitoring's per-worker sampler: a thread here, never a process per task.
        # Deferred: it loads psutil, which a worker without monitoring does not need.
        from parsl._sampling.sampler import TaskResourceMonitor
        # A negative interval: resource monitoring is off, but tasks' start and end are
        # still reported (as Parsl records "running"/"running_ended" either way).
        interval = config.resource_monitoring_interval
        monitor = TaskResourceMonitor(send_monitoring, interval if interval >= 0 else None,
                                      block_id=os.environ.get("PARSL_WORKER_BLOCK_ID"),
                                      sample_resources=interval >= 0)
        monitor.sampler.add_quiet_thread(lifeline.native_id)
        # What the binary end-of-task records leave out, once, ahead of all of them.
        send_monitoring(*monitor.hello())

    funcs: dict = {}
    loads = pickle.loads
    read = task_file.read
    unpack_head = protocol.RECORD_HEAD.unpack
    head_size = protocol.RECORD_HEAD.size
    write = _write_record
    # A record is bytes from the pipe or a mapped file (taskfiles.py); its views are
    # dropped before the mapping is released.
    record: Any = None
    fbytes: Any = None
    abytes: Any = None
    mapped: Optional[mmap.mmap] = None
    while True:
        head = read(head_size)
        if len(head) < head_size:
            return  # manager closed the pipe: orderly exit
        (n,) = unpack_head(head)
        if n == taskfiles.FILE_POINTER:     # a large record, in a file (taskfiles.py)
            try:
                task_id, path = taskfiles.read_pointer(read)
            except EOFError:
                return
            try:
                record = mapped = taskfiles.map_record(path)
            except OSError:
                write(_dump_exception(task_id))
                continue
        else:
            record = read(n)
        task_id, fbytes, abytes = protocol.decode_task(record)
        current_task_id = task_id
        end = b""
        if monitor is not None:
            monitor.begin(task_id)
        try:
            try:
                fkey = bytes(fbytes)
                func = funcs.get(fkey)
                if func is None:
                    if len(funcs) > 256:
                        funcs.clear()
                    func = funcs[fkey] = loads(fkey)
                args, kwargs = loads(abytes)
            finally:
                if mapped is not None:      # loaded or not, nothing needs the mapping any more
                    record = fbytes = abytes = None
                    taskfiles.release(mapped)
                    mapped = None
            if debug:
                logger.debug("task %d: running %s", task_id, getattr(func, "__name__", func))
            value = func(*args, **kwargs)
            if monitor is not None:
                # The final sample, before pickling the result (that is not the task's
                # work); it travels inside the result record: no second record or write.
                # A monitoring fault must never fail the task (a try costs nothing here).
                try:
                    end = monitor.task_end(task_id)
                except Exception:
                    end = _monitoring_fault(task_id)
            out = _dump_result(task_id, value, end)
        except BaseException:  # noqa: B902 - everything the app raises (even SystemExit) goes back
            if monitor is not None and not end:
                try:
                    end = monitor.task_end(task_id)
                except Exception:
                    end = _monitoring_fault(task_id)
            out = _dump_exception(task_id, end)
        value = None
        current_task_id = None
        if debug:
            logger.debug("task %d: done", task_id)
        write(out)


def main(argv=None) -> None:
    if __name__ == "__main__":
        # Started with ``-m``: make ``import parsl._htex.worker`` (e.g. from a task calling
        # send_monitoring) find this module, not a second, unconnected copy.
        sys.modules.setdefault("parsl._htex.worker", sys.modules[__name__])
    argv = sys.argv[1:] if argv is None else argv
    config = WorkerConfig.decode(argv[0])
    # Ctrl-C in the terminal reaches the whole foreground group; the manager decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        run(config)
    except BrokenPipeError:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
