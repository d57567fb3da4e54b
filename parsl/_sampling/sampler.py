"""Resource sampling inside a worker process: one thread per worker, never a process per task.

A worker runs its tasks in its own process, so "the task's resources" are the worker
process plus whatever the task started (bash apps, subprocesses).  ``TaskResourceMonitor``
samples that tree every ``interval`` seconds while a task runs, and once more when it
ends, and sends Parsl's ``psutil_process_*`` fields through the ``send`` callable the
worker gives it (HTEX: ``parsl._htex.worker.send_monitoring``).

Process-tree reading (the /proc fast paths) is in ``parsl._sampling.proc``.

Per-task values are *deltas since the task began*: CPU times and I/O counters of the
worker are cumulative, so the counters at the previous task's end are the baseline
(no extra sampling at task start; a start reads the clock only).  CPU of children
that already exited is included through the process's ``children_*`` CPU times.
``psutil_process_cpu_percent`` is Δ(user+system)/Δ(wall) since the previous sample
(Parsl's was always 0).

Messages per task (fewest possible, since each crosses two hops):

* every task ends with ONE end-of-task report: its start, its end and the final sample.
  HTEX workers pack it into a ~100-byte struct that rides inside the result record
  (``records.TASK_END``, see ``parsl._sampling.records``); ``task_finished`` gives the same
  content as Parsl's ``WORKER_TASK_INFO`` message (``first_msg``/``last_msg``,
  ``timestamp``, ``end_timestamp``, ``resource``);
* a task still running after ``START_REPORT_DELAY`` also sends ``first_msg`` then (so live
  views show it running), and a ``RESOURCE_INFO`` every ``interval``.

Worker messages carry the executor's task id (``executor_task_id``) unless the worker
knows the DFK's ``task_id``/``try_id``; the hub maps one to the other.
"""
from __future__ import annotations

import os
import resource
import socket
import threading
import time
from typing import Callable, Optional

import psutil

from parsl._base.message_type import MessageType
from parsl._sampling import records
from parsl._sampling.proc import ProcessTreeSampler, _ProcSelfReader

_pack_end = records.pack_task_end
NO_SAMPLE = records.NO_SAMPLE
_time = time.time
_getrusage = resource.getrusage
_RUSAGE_SELF = resource.RUSAGE_SELF
_times = os.times


#: A task still running this long after it started is reported as running.
START_REPORT_DELAY = 0.2
#: An idle sampler thread blocks (no wake-ups) after this long without a task.
IDLE_PARK_AFTER = 2.0
#: A task's final sample is a full one (memory, I/O, live children) whenever the last full
#: one is at least this old, so every task longer than this gets one.  Within a stream of
#: shorter tasks the final sample reads CPU times, context switches and the end time
#: (getrusage + times: cheap, no /proc text to format and parse) and repeats memory and
#: I/O counters of the last full sample: a short task's I/O is then counted in the next
#: full sample's task, at most this much later.  Measured on HTEX no-op tasks: the /proc
#: reads at every end cost ~10% of the node's throughput.
FULL_SAMPLE_EVERY = 0.02
#: A CPU-only final sample reads the children's CPU (``times``) only for tasks that ran at
#: least this long: starting, running and reaping a process takes longer, so a shorter task
#: cannot have added any (saves a syscall per no-op task).
CHILDREN_CPU_AFTER = 0.001
#: CPU times are read at a task's end whenever the last read is at least this old, so every
#: task that ran this long has its own CPU figures.  A shorter task ending sooner after the
#: last read reads no counter at all (only the clock): its CPU, context switches and I/O
#: are counted in the next task that reads them (within this much time on the same
#: worker), so sums over tasks stay exact; its ``cpu_percent`` repeats the last read's.
#: Why: a system call costs a few microseconds on a core shared with the manager and the
#: other workers (cold caches), the largest part of what monitoring cost a no-op task.
CPU_SAMPLE_EVERY = 0.001

_TOTAL_MEMORY = None


def _total_memory() -> int:
    global _TOTAL_MEMORY
    if _TOTAL_MEMORY is None:
        _TOTAL_MEMORY = psutil.virtual_memory().total
    return _TOTAL_MEMORY



def resource_fields(now: dict, base: dict, prev: dict, interval: float,
                    total_memory: Optional[int] = None) -> dict:
    """Parsl's ``resource`` columns for one sample (pure; values are per task).
    ``total_memory``: the sampled machine's, when computed elsewhere (default: this one's)."""
    dt = now["wall"] - prev["wall"]
    dcpu = now["cpu"] - prev["cpu"]
    return {
        "timestamp": now["wall"],
        "resource_monitoring_interval": interval,
        "psutil_process_cpu_percent": max(0.0, 100.0 * dcpu / dt) if dt > 0 else 0.0,
        "psutil_process_memory_percent": 100.0 * now["rss"] / (total_memory or _total_memory()),
        "psutil_process_children_count": now["children"],
        "psutil_process_time_user": max(0.0, now["user"] - base["user"]),
        "psutil_process_time_system": max(0.0, now["system"] - base["system"]),
        "psutil_process_memory_virtual": now["vms"],
        "psutil_process_memory_resident": now["rss"],
        "psutil_process_disk_read": max(0.0, now["read"] - base["read"]),
        "psutil_process_disk_write": max(0.0, now["write"] - base["write"]),
        "psutil_process_status": now["status"],
        "psutil_cpu_num": None if now["cpu_num"] is None else str(now["cpu_num"]),
        "psutil_process_num_ctx_switches_voluntary": max(0, now["vol"] - base["vol"]),
        "psutil_process_num_ctx_switches_involuntary": max(0, now["invol"] - base["invol"]),
    }


#: A running task is a list (built without a Python-level call on the worker's path):
#: ``[ids, start, base, prev, first]`` — ids: a dict, or the executor's task id (int);
#: start: epoch seconds; base: the counters at which its usage is zero; prev: ``(wall,
#: cpu)`` of its last periodic sample, or None; first: a one-shot token, taken by whichever
#: of the worker (at the end) and the sampler thread (after ``START_REPORT_DELAY``) first
#: reports the task running: ``next(first, 0)`` is one C call, atomic under the GIL, so
#: exactly one of them gets 1 without a lock on the worker's path.
_IDS, _START, _BASE, _PREV, _FIRST = range(5)
_ONE = (1,)


def running_task(ids, start: float, base: dict) -> list:
    return [ids, start, base, None, iter(_ONE)]


def _prev(task) -> tuple:
    """(wall, cpu) that a task's next cpu_percent is measured from: its last periodic
    sample, else its base sample (both from one sample: CPU over the same interval)."""
    prev = task[_PREV]
    if prev is not None:
        return prev
    base = task[_BASE]
    return base["wall"], base["cpu"]


def _ids(task) -> dict:
    ids = task[_IDS]
    return ids if isinstance(ids, dict) else {"executor_task_id": ids}


class TaskResourceMonitor:
    """One per worker process.  ``task_started`` and ``task_end`` (or ``task_finished``) are
    called by the worker around each task (same thread); a daemon thread does the periodic
    part.

    ``interval`` None or 0 means only the final sample of each task.  ``close()`` is
    idempotent and joins the thread.
    """

    def __init__(self, send: Callable, interval: Optional[float], *, hostname: Optional[str] = None,
                 block_id=None, run_id: Optional[str] = None, executor_label: Optional[str] = None,
                 pid: Optional[int] = None, sample_resources: bool = True):
        self.send = send
        self.interval = interval or 0.0
        #: False: resource monitoring is off; tasks' start and end are still reported
        #: (Parsl records "running" and "running_ended" either way)
        self.sample_resources = sample_resources
        self.common = {"hostname": hostname or socket.gethostname(),
                       "block_id": None if block_id is None else str(block_id)}
        if run_id is not None:
            self.common["run_id"] = run_id
        if executor_label is not None:
            self.common["executor_label"] = executor_label
        self.sampler = ProcessTreeSampler(pid)
        self._pid = self.sampler.pid
        #: names this worker in its binary end-of-task records (see ``hello``)
        self.worker_key = int.from_bytes(os.urandom(8), "little") >> 1
        # Counters at the previous task's end are the next task's zero: no sampling at start.
        self._last = self.sampler.read()
        # CPU-only end samples read getrusage/times, which describe this process only.
        fast = self.sampler._fast
        self._cpu_only_ok = isinstance(fast, _ProcSelfReader) and fast._own
        t = os.times()
        self._children_cpu = (t[2], t[3])
        #: the running task (``running_task``) or None; set and cleared by the worker only
        self._task: Optional[list] = None
        self._lock = threading.Lock()            # guards the sampler (its /proc readers)
        self._unpark = threading.Event()
        self._parked = False
        self._closing = False
        self._thread: Optional[threading.Thread] = None

    def hello(self) -> tuple:
        """``(WORKER_HELLO, description)``: what every ``task_end`` record of this worker
        leaves out; to be sent once, before the first record."""
        return records.WORKER_HELLO, dict(self.common, worker_key=self.worker_key, pid=self._pid,
                                         resource_monitoring_interval=self.interval,
                                         total_memory=_total_memory())

    def _resource_message(self, task: list, sample: dict) -> dict:
        prev_wall, prev_cpu = _prev(task)
        fields = resource_fields(sample, task[_BASE], {"wall": prev_wall, "cpu": prev_cpu}, self.interval)
        task[_PREV] = (sample["wall"], sample["cpu"])
        fields.update(_ids(task))
        fields["psutil_process_pid"] = self._pid
        fields["hostname"] = self.common["hostname"]
        if "run_id" in self.common:
            fields["run_id"] = self.common["run_id"]
        return fields

    # ---- worker side --------------------------------------------------------------------
    def task_started(self, **ids) -> None:
        """``ids``: ``task_id``/``try_id`` if known, else ``executor_task_id``."""
        self.begin(ids)

    def begin(self, ids) -> None:
        """A task starts: ``ids`` is a dict (see ``task_started``) or, cheaper, the executor's
        task id.  On the worker's path: no sampling, no lock, no Python-level call."""
        self._task = [ids, _time(), self._last, None, iter(_ONE)]     # == running_task(...)
        if self._thread is None:
            self._start_thread()
        elif self._parked:
            self._unpark.set()

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="parsl-resource-sampler", daemon=True)
        self._thread.start()
        if self._pid == os.getpid():
            with self._lock:
                self.sampler.add_quiet_thread(self._thread.native_id)

    _full_at = 0.0
    _cpu_at = 0.0
    _cpu_pct = 0.0
    _status_code = records.STATUS_RUNNING

    def _full_sample(self) -> dict:
        """A full final sample, which becomes the next task's base (caller holds the lock);
        also what CPU-only samples carry forward until the next one."""
        now = self._last = self.sampler.read_final()
        t = _times()
        self._children_cpu = (t[2], t[3])
        self._full_at = self._cpu_at = now["wall"]
        self._status_code = records.status_code(now["status"])
        return now

    def _end(self):
        task, self._task = self._task, None
        if task is None:
            return None, None
        with self._lock:
            now = self._full_sample()
        return task, now

    def task_end(self, executor_task_id: int) -> bytes:
        """Take the final sample; the task's start, end and usage as one packed
        ``records.TASK_END`` record (b"" if no task was started).  See
        ``CPU_SAMPLE_EVERY`` and ``FULL_SAMPLE_EVERY`` for what a short task's sample reads.

        This runs after every task on the worker's path, in a process that shares its
        cores with the manager and the other workers: with cold caches a Python-level call
        or a ``with lock`` costs 1-2 us and a system call 3-5 us (~3x a warm loop), so the
        common case is written out flat, takes no lock and makes no system call."""
        task = self._task
        if task is None:
            return b""
        self._task = None
        wall = _time()
        first = next(task[_FIRST], 0)
        start = task[_START]
        if not self.sample_resources:
            return _pack_end(executor_task_id, self.worker_key, start, wall, 0.0, 0.0, 0.0, 0, 0, 0, 0,
                             0, 0, -1, 0, NO_SAMPLE | first, records.STATUS_RUNNING)
        last = self._last
        # The light paths read this process alone (getrusage), so they are exact only
        # against a base with no live descendant in it: a full sample that summed a live
        # child's counters would make them go backwards (and a negative count does not
        # pack).  With children alive, every end takes a full sample.
        if (self._cpu_only_ok and task[_BASE] is last and wall - self._full_at < FULL_SAMPLE_EVERY
                and not last["children"]):
            cpu_num = last["cpu_num"]
            cpu_num = -1 if cpu_num is None else cpu_num
            if wall - self._cpu_at < CPU_SAMPLE_EVERY:
                # A sub-millisecond task soon after the last read: the clock only.  ``last``
                # stays the base, so the next task that reads the counters gets this one's.
                return _pack_end(executor_task_id, self.worker_key, start, wall, 0.0, 0.0, self._cpu_pct,
                                 last["rss"], last["vms"], 0, 0, 0, 0, cpu_num, last["children"], first,
                                 self._status_code)
            # CPU times, context switches and the end time; memory, I/O and children as at
            # the last full sample (so this task's I/O delta is 0 here).
            self._cpu_at = wall
            ru = _getrusage(_RUSAGE_SELF)
            if wall - start >= CHILDREN_CPU_AFTER:
                t = _times()
                cuser, csys = t[2], t[3]
                self._children_cpu = (cuser, csys)
            else:
                # Too short to have started and reaped a process of any weight: the
                # children's CPU is as at the last read (a next read counts any).
                cuser, csys = self._children_cpu
            user = ru.ru_utime + cuser
            system = ru.ru_stime + csys
            vol, invol = ru.ru_nvcsw, ru.ru_nivcsw
            prev_wall, prev_cpu = _prev(task)
            dt = wall - prev_wall
            cpu = user + system
            pct = self._cpu_pct = 100.0 * (cpu - prev_cpu) / dt if dt > 0 else 0.0
            # The next task's base: a new dict (the sampler thread may still be reading this
            # task's, so it is not changed in place).
            self._last = dict(last, wall=wall, cpu=cpu, user=user, system=system, vol=vol, invol=invol)
            return _pack_end(executor_task_id, self.worker_key, start, wall, user - last["user"],
                             system - last["system"], pct, last["rss"], last["vms"], 0, 0,
                             vol - last["vol"], invol - last["invol"], cpu_num, last["children"], first,
                             self._status_code)
        with self._lock:
            now = self._full_sample()
        base = task[_BASE]
        prev_wall, prev_cpu = _prev(task)
        end = now["wall"]
        dt = end - prev_wall
        cpu_num = now["cpu_num"]
        pct = self._cpu_pct = max(0.0, 100.0 * (now["cpu"] - prev_cpu) / dt) if dt > 0 else 0.0
        return _pack_end(
            executor_task_id, self.worker_key, start, end,
            max(0.0, now["user"] - base["user"]), max(0.0, now["system"] - base["system"]), pct,
            int(now["rss"]), int(now["vms"]),
            max(0, int(now["read"] - base["read"])), max(0, int(now["write"] - base["write"])),
            max(0, now["vol"] - base["vol"]), max(0, now["invol"] - base["invol"]),
            -1 if cpu_num is None else cpu_num, now["children"], first, self._status_code)

    def task_finished(self, send: Optional[Callable] = None) -> None:
        """Take the final sample and report the task's start, end and usage as one Parsl
        ``WORKER_TASK_INFO`` message (through ``send`` when given).  For callers that know
        the DFK's ids; HTEX workers use the binary ``task_end``."""
        task, now = self._end()
        if task is None:
            return
        prev_wall, prev_cpu = _prev(task)
        resource = resource_fields(now, task[_BASE], {"wall": prev_wall, "cpu": prev_cpu}, self.interval)
        resource.update(_ids(task))
        resource["psutil_process_pid"] = self._pid
        resource["hostname"] = self.common["hostname"]
        if "run_id" in self.common:
            resource["run_id"] = self.common["run_id"]
        msg = dict(self.common, **_ids(task))
        msg.update(first_msg=bool(next(task[_FIRST], 0)), last_msg=True, timestamp=task[_START],
                   end_timestamp=now["wall"], resource=resource)
        (send or self.send)(MessageType.WORKER_TASK_INFO, msg)

    # ---- sampler thread -----------------------------------------------------------------
    def _tick(self) -> float:
        """Do what is due for the running task; return seconds until something is next due."""
        task = self._task
        if task is None:
            return START_REPORT_DELAY
        now = time.time()
        due = task[_START] + START_REPORT_DELAY
        if now < due:
            return due - now
        if next(task[_FIRST], 0):      # not yet reported by anyone: the worker has not ended it
            self.send(MessageType.WORKER_TASK_INFO,
                      dict(self.common, **_ids(task), first_msg=True, last_msg=False, timestamp=task[_START]))
        if self.interval <= 0 or not self.sample_resources:
            return 3600.0
        due = _prev(task)[0] + self.interval
        if now < due:
            return due - now
        with self._lock:
            sample = self.sampler.read()
        self.send(MessageType.RESOURCE_INFO, self._resource_message(task, sample))
        return self.interval

    def _run(self) -> None:
        idle_since = None
        while not self._closing:
            wait = self._tick()
            if self._task is None:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > IDLE_PARK_AFTER:
                    # Park: no wake-ups at all until a task starts (task_started sets it).
                    self._parked = True
                    self._unpark.clear()
                    if self._task is None and not self._closing:
                        self._unpark.wait()
                    self._parked = False
                    idle_since = None
                    continue
            else:
                idle_since = None
            # A timed wait is the sampling clock itself (bounded so a task that starts while
            # we wait for a long interval is still reported as running on time).
            self._unpark.wait(min(wait, START_REPORT_DELAY))
            self._unpark.clear()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._unpark.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        with self._lock:
            self.sampler.close()
