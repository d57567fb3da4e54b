"""Reading a process tree's counters: CPU times, memory, I/O, context switches.

``ProcessTreeSampler`` reads a process (by default this one) and its live descendants.
On Linux it keeps the /proc files of the sampled process open and re-reads them with
``pread`` (microseconds, against ~85 us through psutil), and finds descendants through
each thread's ``children`` file instead of scanning /proc; elsewhere it uses psutil.
Values are cumulative: ``parsl._sampling.sampler`` turns them into per-task deltas.
"""
from __future__ import annotations

import os
import resource
import time
from typing import Callable, Dict, List, Literal, Optional, Union

import psutil

from parsl._sampling.records import STATUS_NAMES as _STATUS_NAMES

_getrusage = resource.getrusage
_RUSAGE_SELF = resource.RUSAGE_SELF
_times = os.times
_pread = os.pread


def _read_children(path: str) -> List[int]:
    try:
        with open(path, "rb") as f:
            return [int(k) for k in f.read().split()]
    except FileNotFoundError:          # the thread or process just ended
        return []


def descendants(pid: int, own_children: Optional[Callable[[], List[int]]] = None) -> List[int]:
    """Pids of all descendants of ``pid``.  Linux: read each thread's ``children`` file
    (microseconds) rather than scanning every process in /proc (about 1 ms)."""
    out: List[int] = []
    try:
        todo = own_children() if own_children is not None else [pid]
        if own_children is not None:
            out.extend(todo)
        while todo:
            p = todo.pop()
            for tid in os.listdir(f"/proc/{p}/task"):
                kids = _read_children(f"/proc/{p}/task/{tid}/children")
                out.extend(kids)
                todo.extend(kids)
        return out
    except (OSError, ValueError):
        try:
            return [c.pid for c in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            return []


class _ProcSelfReader:
    """Linux fast path for the sampled process itself: keeps /proc files open and
    re-reads them with pread (about 20 us, against about 85 us through psutil)."""

    def __init__(self, pid: int):
        # /proc/<pid>/status is the slow one (~17 us): for our own process the context
        # switches come from getrusage() instead (~1 us).
        self._own = pid == os.getpid()
        names = ("stat", "io", "statm") if self._own else ("stat", "io", "statm", "status")
        self._fds = [os.open(f"/proc/{pid}/{name}", os.O_RDONLY) for name in names]
        self._tick = float(os.sysconf("SC_CLK_TCK"))
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._task_dir = f"/proc/{pid}/task"
        self._child_fds: Dict[str, int] = {}
        #: threads (native ids) that never start processes (the sampler, the worker's
        #: lifeline watcher): their children files are not read at each task's end
        self.quiet_threads: set = set()
        self._threads_seen = self._threads_now = -1
        os.close(os.open(f"{self._task_dir}/{pid}/children", os.O_RDONLY))  # exists? (else: no fast path)
        io = os.pread(self._fds[1], 8192, 0)
        self._io_lines = io.startswith(b"rchar: ") and b"\nwchar: " in io

    def children(self) -> List[int]:
        """Direct children, through kept-open per-thread ``children`` files."""
        # Re-list threads only when their number changed since the last read (stat's
        # num_threads): listing costs more than reading every children file.
        if self._threads_seen != self._threads_now:
            self._threads_seen = self._threads_now
            self._sync_thread_fds(os.listdir(self._task_dir))
        out: List[int] = []
        for fd in self._child_fds.values():
            try:
                data = os.pread(fd, 4096, 0)
            except OSError:
                continue
            if data:
                out.extend(int(k) for k in data.split())
        return out

    def _sync_thread_fds(self, tids) -> None:
        quiet = self.quiet_threads
        if quiet:
            tids = [t for t in tids if int(t) not in quiet]
        if len(tids) != len(self._child_fds) or any(t not in self._child_fds for t in tids):
            for t in list(self._child_fds):
                if t not in tids:
                    os.close(self._child_fds.pop(t))
            for t in tids:
                if t not in self._child_fds:
                    try:
                        self._child_fds[t] = os.open(f"{self._task_dir}/{t}/children", os.O_RDONLY)
                    except FileNotFoundError:
                        pass

    def read(self) -> tuple:
        stat = os.pread(self._fds[0], 8192, 0)
        io = os.pread(self._fds[1], 8192, 0)
        f = stat[stat.rfind(b")") + 2:].split()
        self._threads_now = int(f[17])
        tick = self._tick
        user = (int(f[11]) + int(f[13])) / tick      # utime + cutime (reaped children)
        system = (int(f[12]) + int(f[14])) / tick    # stime + cstime
        rd, wr = _io_chars(io)
        if self._own:
            # The same sources as read_light(), so deltas between the two kinds are exact.
            ru = resource.getrusage(resource.RUSAGE_SELF)
            vol, invol = ru.ru_nvcsw, ru.ru_nivcsw
            t = os.times()
            user, system = ru.ru_utime + t.children_user, ru.ru_stime + t.children_system
        else:
            status = os.pread(self._fds[3], 8192, 0)
            vol = _field(status, b"\nvoluntary_ctxt_switches:")
            invol = _field(status, b"\nnonvoluntary_ctxt_switches:")
        return (user, system, int(f[21]) * self._page, int(f[20]), rd, wr, vol, invol,
                _STATUS_NAMES.get(f[0].decode(), f[0].decode()), int(f[36]))

    def read_light(self) -> tuple:
        """Our own process without /proc/<pid>/stat (the costly file: ~4 us, it walks every
        thread): CPU and context switches from getrusage/times, memory from statm, I/O from
        io.  No status (we are running: this thread is) and no CPU number."""
        ru = _getrusage(_RUSAGE_SELF)
        t = _times()
        statm = _pread(self._fds[2], 256, 0).split(None, 2)
        io = _pread(self._fds[1], 8192, 0)
        if self._io_lines:
            # "rchar: N\nwchar: N\n...": the first two lines, sliced (this runs once per task)
            lines = io.split(b"\n", 2)
            rd, wr = int(lines[0][7:]), int(lines[1][7:])
        else:
            rd, wr = _io_chars(io)
        page = self._page
        return (ru.ru_utime + t[2], ru.ru_stime + t[3], int(statm[1]) * page, int(statm[0]) * page, rd, wr,
                ru.ru_nvcsw, ru.ru_nivcsw)

    def add_quiet_thread(self, native_id: Optional[int]) -> None:
        if native_id is not None:
            self.quiet_threads.add(native_id)
            self._threads_seen = -2      # re-list the threads at the next read

    def close(self) -> None:
        for fd in list(self._fds) + list(self._child_fds.values()):
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []
        self._child_fds = {}


def _io_chars(io: bytes) -> tuple:
    """``rchar`` and ``wchar`` of a /proc/<pid>/io text (found, not split line by line:
    this is on the worker's path to its next task)."""
    return _field(b"\n" + io, b"\nrchar:"), _field(io, b"\nwchar:")


def _field(text: bytes, key: bytes) -> int:
    i = text.find(key)
    if i < 0:
        return 0
    j = text.find(b"\n", i + len(key))
    return int(text[i + len(key): j if j > 0 else None])


class ProcessTreeSampler:
    """Reads the cumulative counters of a process and its descendants."""

    def __init__(self, pid: Optional[int] = None):
        self.pid = pid or os.getpid()
        self.proc = psutil.Process(self.pid)
        self._children: Dict[int, psutil.Process] = {}

    #: the Linux fast path: None until first tried, False where it is not available
    _fast: Union[_ProcSelfReader, None, Literal[False]] = None

    def read(self) -> dict:
        if self._fast is None and self._fast is not False:
            try:
                self._fast = _ProcSelfReader(self.pid)
            except (OSError, ValueError, AttributeError):
                self._fast = False
        if self._fast:
            try:
                user, system, rss, vms, rd, wr, vol, invol, status, cpu_num = self._fast.read()
            except (OSError, ValueError, IndexError):
                self._fast.close()
                self._fast = False
                return self.read()
        else:
            user, system, rss, vms, rd, wr, vol, invol, status, cpu_num = self._read_psutil()
        return self._add_children(user, system, rss, vms, rd, wr, vol, invol, status, cpu_num)

    _cpu_num = None

    def add_quiet_thread(self, native_id: Optional[int]) -> None:
        """A thread of the sampled process that never starts processes: its children need
        not be looked for at each task's end."""
        if self._fast is None:
            self.read()
        if self._fast:
            self._fast.add_quiet_thread(native_id)

    def read_final(self) -> dict:
        """The sample at a task's end: on the worker's path to its next task, so cheap.
        Only when no descendant is alive (the common case: a bash app's child has exited
        and its CPU is in our children times) and only for our own process; otherwise a
        full ``read()``."""
        fast = self._fast
        if fast and fast._own:
            try:
                if not fast.children():
                    user, system, rss, vms, rd, wr, vol, invol = fast.read_light()
                    self._children = {}
                    return {"wall": time.time(), "cpu": user + system, "user": user, "system": system,
                            "rss": rss, "vms": vms, "read": rd, "write": wr, "vol": vol, "invol": invol,
                            "children": 0, "status": "running", "cpu_num": self._cpu_num}
            except (OSError, ValueError, IndexError):
                pass
        return self.read()

    def close(self) -> None:
        if self._fast:
            self._fast.close()
        self._fast = False

    def _read_psutil(self) -> tuple:
        p = self.proc
        with p.oneshot():
            ct = p.cpu_times()
            mem = p.memory_info()
            ctx = p.num_ctx_switches()
            try:
                io = p.io_counters()
                rd, wr = io.read_chars, io.write_chars
            except (psutil.AccessDenied, AttributeError):
                rd = wr = 0.0
            status = p.status()
            try:
                cpu_num = p.cpu_num()
            except AttributeError:
                cpu_num = None
        return (ct.user + ct.children_user, ct.system + ct.children_system, mem.rss, mem.vms,
                rd, wr, ctx.voluntary, ctx.involuntary, status, cpu_num)

    def _add_children(self, user, system, rss, vms, rd, wr, vol, invol, status, cpu_num) -> dict:
        kids = descendants(self.pid, self._fast.children if self._fast else None)
        live = {}
        for pid in kids:
            try:
                c = self._children.get(pid) or psutil.Process(pid)
                with c.oneshot():
                    cct = c.cpu_times()
                    cmem = c.memory_info()
                    cctx = c.num_ctx_switches()
                    try:
                        cio = c.io_counters()
                        rd += cio.read_chars
                        wr += cio.write_chars
                    except (psutil.AccessDenied, AttributeError):
                        pass
            except psutil.Error:
                continue
            live[pid] = c
            # Live children's own time; their exited children show up in their
            # children_* once reaped, and ours in ct.children_* above.
            user += cct.user + cct.children_user
            system += cct.system + cct.children_system
            rss += cmem.rss
            vms += cmem.vms
            vol += cctx.voluntary
            invol += cctx.involuntary
        self._children = live
        self._cpu_num = cpu_num      # read_final() reports the last one seen
        return {
            "wall": time.time(), "cpu": user + system, "user": user, "system": system,
            "rss": rss, "vms": vms, "read": rd, "write": wr, "vol": vol, "invol": invol,
            "children": len(live), "status": status, "cpu_num": cpu_num,
        }

