"""What every fault scenario shares: the workflow's apps, the ledger that checks each future
resolved exactly once with the right value, the consistency checks of the checkpoint and
the monitoring database, the suite's tally, and the ways to hurt a run (kill, stop, garbage).

Imported by name (``pythonpath = ["tests"]`` puts tests/ on sys.path; conftest adds this
folder): ``from fault_tools import ...``.
"""
from __future__ import annotations

import glob
import os
import random
import signal
import socket
import sqlite3
import sys
import threading
import time
from concurrent.futures import wait
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import cloudpickle
import psutil

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

from waiting import wait_until

# The apps below travel to HTEX workers by value: the workers do not have tests/ on sys.path.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

#: how long a scenario's futures may take after the fault before they count as hung
SETTLE_S = 90.0


def value_of(i: int) -> int:
    """What task ``i`` returns: distinct per task, so a result given to the wrong future or
    twice is seen."""
    return i * 7919 + 13


@parsl.python_app(cache=True)
def work(i: int, seconds: float = 0.0):
    import time
    time.sleep(seconds)
    return i * 7919 + 13


@parsl.python_app
def whose(i: int, seconds: float = 0.0):
    """(value, pid): which worker ran it."""
    import os
    import time
    time.sleep(seconds)
    return i * 7919 + 13, os.getpid()


@parsl.python_app(cache=True)
def carry(i: int, blob: bytes):
    """A task whose arguments fill packets (a congested link has something to queue)."""
    return i * 7919 + 13 if len(blob) else None


# ---- the suite's figures -------------------------------------------------------------------
@dataclass
class Figures:
    faults: int = 0
    tasks: int = 0
    lost: int = 0
    duplicates: int = 0
    hangs: int = 0

    def add(self, other: Figures) -> None:
        for k in ("faults", "tasks", "lost", "duplicates", "hangs"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


#: nodeid -> the figures of that scenario (conftest adds up those that passed)
FIGURES: Dict[str, Figures] = {}
_current: List[Figures] = []


def figures_for(nodeid: str) -> Figures:
    f = FIGURES[nodeid] = Figures()
    _current[:] = [f]
    return f


def fault(n: int = 1) -> None:
    """Count ``n`` faults injected into the running scenario."""
    if _current:
        _current[0].faults += n


# ---- the ledger ------------------------------------------------------------------------------
@dataclass
class Ledger:
    """Futures by task number; counts how often each resolves."""

    futures: Dict[int, object] = field(default_factory=dict)
    resolved: Dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, i: int, fut) -> None:
        self.futures[i] = fut
        fut.add_done_callback(lambda f, i=i: self._done(i))

    def _done(self, i: int) -> None:
        with self.lock:
            self.resolved[i] = self.resolved.get(i, 0) + 1

    def submit(self, n: int, seconds: float = 0.0, start: int = 0, app=work, blob: bytes = b"") -> None:
        for i in range(start, start + n):
            self.add(i, carry(i, blob) if blob else app(i, seconds))

    def done(self) -> int:
        return sum(f.done() for f in self.futures.values())

    def wait_done(self, n: int, timeout: float = 60) -> None:
        """Wait until ``n`` futures resolved (the run is under way)."""
        wait_until(lambda: self.done() >= n, f"{n} of {len(self.futures)} tasks to finish", timeout=timeout)

    def settle(self, timeout: float = SETTLE_S) -> List[int]:
        """Wait for every future; the numbers of those still unresolved (hung)."""
        wait(list(self.futures.values()), timeout=timeout)
        return [i for i, f in self.futures.items() if not f.done()]

    def check(self, *, may_fail=lambda i, exc: False, record: bool = True,
              settle_s: float = SETTLE_S) -> Dict[int, object]:
        """Settle, then assert every future resolved exactly once, with its own value (or a
        failure ``may_fail`` accepts); record the figures.  Returns the values by task."""
        hung = self.settle(settle_s)
        values, lost, dup = {}, [], []
        for i, f in self.futures.items():
            if not f.done():
                continue
            if self.resolved.get(i, 0) != 1:
                dup.append(i)
            exc = f.exception()
            if exc is not None:
                if not may_fail(i, exc):
                    lost.append((i, repr(exc)[:200]))
                continue
            got = f.result()
            got = got[0] if isinstance(got, tuple) else got
            if got != value_of(i):
                dup.append(i)            # someone else's result: a duplicate delivery
            values[i] = got
        if record and _current:
            fig = _current[0]
            fig.tasks += len(self.futures)
            fig.lost += len(lost)
            fig.duplicates += len(dup)
            fig.hangs += len(hung)
        assert not hung, f"{len(hung)} futures never resolved: {hung[:10]}"
        assert not lost, f"{len(lost)} tasks lost: {lost[:5]}"
        assert not dup, f"{len(dup)} futures resolved more than once or with another task's value: {dup[:10]}"
        return values


# ---- workflows -------------------------------------------------------------------------------
def htex(label="htex", workers=2, blocks=1, **kw) -> HighThroughputExecutor:
    kw.setdefault("address", "127.0.0.1")
    kw.setdefault("heartbeat_period", 1)
    kw.setdefault("heartbeat_threshold", 4)
    provider = kw.pop("provider", None) or LocalProvider(init_blocks=blocks, min_blocks=blocks, max_blocks=blocks)
    return HighThroughputExecutor(label=label, max_workers_per_node=workers, provider=provider, **kw)


def load(executor, tmp_path, *, retries=2, monitoring=None, checkpoint=False, **kw):
    cfg = Config(executors=[executor], run_dir=str(tmp_path / "runinfo"), retries=retries, monitoring=monitoring,
                 strategy_period=0.5, checkpoint_mode="task_exit" if checkpoint else None, **kw)
    return parsl.load(cfg)


def close(dfk, deadline: float = 60.0) -> float:
    """Clean up; return how long it took (a scenario asserts it was prompt)."""
    t0 = time.monotonic()
    try:
        dfk.cleanup()
    finally:
        parsl.clear()
    return time.monotonic() - t0


# ---- consistency of what a run leaves ---------------------------------------------------------
def check_checkpoint(run_dir: str, values: Dict[int, object]) -> None:
    """The checkpoint holds exactly the values the futures returned, each once."""
    from parsl._core.checkpoint import read_checkpoint_file
    files = glob.glob(os.path.join(run_dir, "*", "checkpoint", "tasks.ckpt"))
    assert len(files) == 1, f"one checkpoint file expected, found {files}"
    stored = sorted(read_checkpoint_file(files[0]).results.values())
    assert stored == sorted(values.values()), (
        f"checkpoint holds {len(stored)} results, futures returned {len(values)}")


def check_monitoring(db_path: str, ledger: Ledger, values: Dict[int, object], *, complete: bool = True) -> dict:
    """The database has one task row per future, in the final state the future ended in, one
    final status row each, and a completed workflow; ``complete``: not marked incomplete."""
    con = sqlite3.connect(db_path)
    try:
        wf = con.execute("SELECT run_id, time_completed, monitoring_incomplete FROM workflow").fetchall()
        assert len(wf) == 1 and wf[0][1] is not None, f"the workflow must show as completed: {wf}"
        if complete:
            assert wf[0][2] is None, f"the record is marked incomplete: {wf[0][2]}"
        rows = dict(con.execute("SELECT task_id, task_status_name FROM task").fetchall())
        finals = con.execute("SELECT task_id, count(*) FROM status WHERE task_status_name IN "
                             "('exec_done', 'failed', 'memo_done', 'dep_fail') GROUP BY task_id").fetchall()
    finally:
        con.close()
    by_task = {f.tid: i for i, f in ledger.futures.items()}
    assert len(rows) == len(ledger.futures), f"{len(rows)} task rows for {len(ledger.futures)} futures"
    for tid, state in rows.items():
        i = by_task[tid]
        want = ("exec_done", "memo_done") if i in values else ("failed", "dep_fail")
        assert state in want, f"task {tid}: database says {state}, the future {'returned' if i in values else 'failed'}"
    assert all(n == 1 for _, n in finals) and len(finals) == len(rows), "one final status row per task"
    return {"run_id": wf[0][0], "incomplete": wf[0][2]}


# ---- hurting a run ---------------------------------------------------------------------------
def manager_pids(ex, count=1, timeout=30) -> List[int]:
    managers = wait_until(lambda: len(ex.connected_managers()) >= count and ex.connected_managers(),
                          f"{count} manager(s) to connect", timeout=timeout)
    return [m["pid"] for m in managers]


def worker_pids(manager_pid: int) -> List[int]:
    try:
        return [c.pid for c in psutil.Process(manager_pid).children()]
    except psutil.NoSuchProcess:
        return []


def signal_pid(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    fault()


def stop_for(pid: int, seconds: float) -> threading.Timer:
    """SIGSTOP ``pid`` now and SIGCONT it after ``seconds`` (a process frozen by the
    scheduler, a swapped-out node); the timer is returned so the test can join it."""
    signal_pid(pid, signal.SIGSTOP)
    t = threading.Timer(seconds, lambda: _cont(pid))
    t.start()
    return t


def _cont(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


def listening(pid: Optional[int] = None) -> List[tuple]:
    """(kind, address, port) of every socket this process and its children listen on (TCP)
    or are bound to (UDP)."""
    out = set()
    me = psutil.Process(pid)
    for p in [me] + me.children(recursive=True):
        try:
            conns = p.net_connections(kind="inet")
        except psutil.Error:
            continue
        for c in conns:
            if c.type == socket.SOCK_STREAM and c.status == psutil.CONN_LISTEN:
                out.add(("tcp", c.laddr.ip, c.laddr.port))
            elif c.type == socket.SOCK_DGRAM and c.laddr:
                out.add(("udp", c.laddr.ip, c.laddr.port))
    return sorted(out)


def _target(ip: str) -> str:
    return "127.0.0.1" if ip in ("0.0.0.0", "") else "::1" if ip == "::" else ip


def garbage_tcp(ip: str, port: int, rng: random.Random, half_open: int = 20) -> List[socket.socket]:
    """Random bytes, a ZMTP greeting that goes wrong, a huge length prefix, and connections
    that say nothing (returned open: the caller closes them after the run)."""
    host = _target(ip)
    payloads = [
        rng.randbytes(4096),
        b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL" + b"\x00" * 16 + b"\x00" * 32 + rng.randbytes(512),
        b"\xff\xff\xff\xff\xff\xff\xff\xff" * 4,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x00" * 65536,
    ]
    for data in payloads:
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                s.sendall(data)
                fault()
        except OSError:
            pass
    held = []
    for _ in range(half_open):
        try:
            held.append(socket.create_connection((host, port), timeout=2))
            fault()
        except OSError:
            break
    return held


def garbage_zmq(ip: str, port: int, rng: random.Random) -> None:
    """Well-formed ZMQ (no CurveZMQ) carrying frames no Chervil peer sends."""
    import pickle

    import zmq
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDTIMEO, 500)
    try:
        s.connect(f"tcp://{_target(ip)}:{port}")
        for frames in ([b"R", b"\x01"], [rng.randbytes(64)], [b"", pickle.dumps(42)], [b"\x00" * 3, b"", b""],
                       [pickle.dumps({"type": "registration"})]):
            try:
                s.send_multipart(frames)
                fault()
            except zmq.ZMQError:
                pass
    finally:
        s.close(0)


def garbage_udp(ip: str, port: int, rng: random.Random, n: int = 200) -> None:
    s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for k in range(n):
            s.sendto(rng.randbytes(rng.randint(0, 600)) if k % 2 else b"\x00" * 80, (_target(ip), port))
        fault(n)
    finally:
        s.close()


def tmpfs(path: str, size: str) -> None:
    import subprocess
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", path], check=True,
                   capture_output=True, timeout=30)


def umount(path: str) -> None:
    import subprocess
    subprocess.run(["umount", "-l", path], capture_output=True, timeout=30)


def fill(path: str) -> None:
    """Fill the file system holding ``path`` to the last byte."""
    fd = os.open(os.path.join(path, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = b"\0" * 65536
        while True:
            try:
                os.write(fd, block)
            except OSError:
                if len(block) == 1:
                    break
                block = block[:len(block) // 2]
    finally:
        os.close(fd)
    fault()
