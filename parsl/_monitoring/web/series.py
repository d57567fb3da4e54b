"""Aggregates over time for the dashboard's charts: each is one or a few GROUP BY statements
over a run's rows, bucketed in SQL, so the data sent to the browser is a few hundred
points however many tasks the run has.

Times go to the browser as the database's own text (``YYYY-MM-DD HH:MM:SS.ffffff``, local
time, what plotly reads as a date).  ``Window`` is the time range of a chart and its
bucket width; every function takes a connection, a run id, a ``Filters`` and a window.
"""
from __future__ import annotations

import datetime
import heapq
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa

BUCKETS = 240
#: at most this many try bars are sent; a wider window is shown as a heatmap of counts
MAX_BARS = 2500
DONE_STATES = ("exec_done", "memo_done")
FAILED_STATES = ("failed", "dep_fail")
#: block states (``JobState`` names) counted as "requested", "running", "released"
BLOCK_GROUPS = {"PENDING": "requested", "HELD": "requested", "UNKNOWN": "requested",
                "RUNNING": "running", "CANCELLED": "released", "COMPLETED": "released",
                "FAILED": "released", "TIMEOUT": "released", "MISSING": "released", "SCALED_IN": "released"}


def parse_time(v) -> Optional[datetime.datetime]:
    if v is None or isinstance(v, datetime.datetime):
        return v
    try:
        return datetime.datetime.fromisoformat(str(v).replace("T", " ").rstrip("Z"))
    except ValueError:
        return None


def fmt(t: datetime.datetime) -> str:
    return t.isoformat(" ", "microseconds")


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters: app, final state, executor (None: all)."""
    app: Optional[str] = None
    state: Optional[str] = None
    executor: Optional[str] = None

    def task_sql(self, alias: str = "") -> Tuple[str, dict]:
        """Extra WHERE terms on the task table (``alias.`` prefixed) and their parameters."""
        p = alias + "." if alias else ""
        terms, params = [], {}
        if self.app:
            terms.append(f"{p}task_func_name = :f_app")
            params["f_app"] = self.app
        if self.state:
            terms.append(f"{p}task_status_name = :f_state")
            params["f_state"] = self.state
        if self.executor:
            terms.append(f"{p}task_executor = :f_exec")
            params["f_exec"] = self.executor
        return "".join(" AND " + t for t in terms), params

    def try_sql(self) -> Tuple[str, dict]:
        """Extra WHERE terms on the try table: the executor directly, app and state through
        the task table (its (run_id, func, id) index keeps that a lookup)."""
        sql, params = "", {}
        if self.executor:
            sql += " AND task_executor = :f_exec"
            params["f_exec"] = self.executor
        if self.app or self.state:
            inner, p = Filters(self.app, self.state).task_sql()
            sql += f" AND task_id IN (SELECT task_id FROM task WHERE run_id = :r{inner})"
            params.update(p)
        return sql, params

    @property
    def active(self) -> bool:
        return bool(self.app or self.state or self.executor)


@dataclass(frozen=True)
class Window:
    t0: datetime.datetime
    t1: datetime.datetime
    width: float               # seconds per bucket

    @classmethod
    def over(cls, t0: datetime.datetime, t1: datetime.datetime, buckets: int = BUCKETS) -> Window:
        if t1 <= t0:
            t1 = t0 + datetime.timedelta(seconds=1)
        return cls(t0, t1, max((t1 - t0).total_seconds() / buckets, 1e-3))

    @property
    def n(self) -> int:
        return int((self.t1 - self.t0).total_seconds() / self.width) + 1

    def x(self) -> List[str]:
        """The start time of every bucket."""
        return [fmt(self.t0 + datetime.timedelta(seconds=i * self.width)) for i in range(self.n)]

    def bucket_sql(self, col: str) -> str:
        # clamped to -1 (before) .. n (after): a zoomed-in window keeps few groups
        return f"max(-1, min(:w_n, CAST((julianday({col}) - julianday(:w_t0)) * 86400.0 / :w_width AS INTEGER)))"

    @property
    def params(self) -> dict:
        return {"w_t0": fmt(self.t0), "w_width": self.width, "w_t1": fmt(self.t1), "w_n": self.n}


def run_span(conn, run_id: str, wf: dict, now: Optional[datetime.datetime] = None
             ) -> Tuple[datetime.datetime, datetime.datetime]:
    """The run's time range: began .. completed, or .. now while it runs (or .. its last
    recorded return, for a run that stopped long ago without completing)."""
    now = now or datetime.datetime.now()
    t0 = parse_time(wf.get("time_began"))
    t1 = parse_time(wf.get("time_completed"))
    if t0 is None:
        t0 = parse_time(conn.execute(sa.text("SELECT min(task_time_invoked) FROM task WHERE run_id = :r"),
                                     {"r": run_id}).scalar()) or now
    if t1 is None:
        last = parse_time(conn.execute(sa.text(
            "SELECT max(coalesce(task_time_returned, task_time_running, task_time_invoked)) FROM task"
            " WHERE run_id = :r"), {"r": run_id}).scalar())
        t1 = now if last is None or (now - last).total_seconds() < 600 else last
    return t0, max(t1, t0 + datetime.timedelta(seconds=1))


def _counts(conn, sql: str, params: dict, n: int) -> List[int]:
    out = [0] * n
    for b, c in conn.execute(sa.text(sql), params):
        if b is None:
            continue
        out[min(max(int(b), 0), n - 1)] += c
    return out


def _cumsum(xs: List[int], start: int = 0) -> List[int]:
    out, s = [], start
    for v in xs:
        s += v
        out.append(s)
    return out


def task_flow(conn, run_id: str, f: Filters, w: Window, from_start: bool = True) -> Dict[str, Any]:
    """completed / failed per bucket, cumulative completed, queued and running over time.

    One scan of the task table bucketed by (invoked, running, returned, state): a task's
    times are close together, so the groups stay few.  ``running`` counts each task's
    latest try; earlier (failed) tries of retried tasks are added from the try table
    only when the run had retries.  ``from_start``: nothing happened before the window."""
    tsql, tparams = f.task_sql()
    p = {"r": run_id, **w.params, **tparams}
    n = w.n
    done, failed, invoked, started, ended = ([0] * n for _ in range(5))
    before = {"queued": 0, "running": 0, "done": 0}     # levels at the window's start

    def idx(b):
        return None if b is None else min(max(int(b), -1), n)   # -1 before, n after the window

    def add(series, i, c, level=None):
        if i is None or i >= n:
            return
        if i >= 0:
            series[i] += c
        elif level is not None:
            before[level[0]] += level[1] * c

    for bi, br, bt, s, c in conn.execute(sa.text(
            f"SELECT {w.bucket_sql('task_time_invoked')} bi, {w.bucket_sql('task_time_running')} br,"
            f" {w.bucket_sql('task_time_returned')} bt, task_status_name s, count(*) FROM task"
            f" WHERE run_id = :r{tsql} GROUP BY bi, br, bt, s"), p):
        i, r, t = idx(bi), idx(br), idx(bt)
        add(invoked, i, c, ("queued", 1))
        if r is not None:
            add([0] * n, r, c, ("queued", -1))
            add(started, r, c, ("running", 1))
            add(ended, t, c, ("running", -1))
        if s in DONE_STATES:
            add(done, t, c, ("done", 1))
        elif s in FAILED_STATES:
            add(failed, t, c)
    first_run = list(started)
    ysql, yparams = f.try_sql()
    py = {"r": run_id, **w.params, **yparams}
    if conn.execute(sa.text('SELECT 1 FROM "try" WHERE run_id = :r AND try_id > 0 LIMIT 1'), py).first():
        for br, bt, c in conn.execute(sa.text(
                f'SELECT {w.bucket_sql("y.task_try_time_running")} br, {w.bucket_sql("y.task_try_time_returned")} bt,'
                f' count(*) FROM "try" y WHERE y.run_id = :r AND y.task_try_time_running IS NOT NULL{ysql}'
                f' AND EXISTS (SELECT 1 FROM "try" z WHERE z.run_id = :r AND z.task_id = y.task_id'
                f' AND z.try_id = y.try_id + 1) GROUP BY br, bt'), py):
            add(started, idx(br), c, ("running", 1))
            add(ended, idx(bt), c, ("running", -1))
    if from_start:
        before = {k: 0 for k in before}
    running, queued = [], []
    r_now, q_now = before["running"], before["queued"]
    for i in range(n):
        r_now += started[i] - ended[i]
        q_now += invoked[i] - first_run[i]
        running.append(max(r_now, 0))
        queued.append(max(q_now, 0))
    return {"x": w.x(), "width_s": w.width, "completed": done, "failed": failed,
            "completed_total": _cumsum(done, before["done"]), "running": running, "queued": queued}


def _steps(events: List[Tuple[datetime.datetime, str, float]], w: Window) -> Dict[str, List[float]]:
    """(time, key, value) "key holds value from time on" -> per-bucket value of each key."""
    events = sorted(events, key=lambda e: e[0])
    current: Dict[str, float] = {}
    out: Dict[str, List[float]] = {}
    i = 0
    for b in range(w.n):
        edge = w.t0 + datetime.timedelta(seconds=(b + 1) * w.width)
        while i < len(events) and events[i][0] < edge:
            current[events[i][1]] = events[i][2]
            i += 1
        for k, v in current.items():
            out.setdefault(k, [0.0] * w.n)[b] = v
    return out


def workers(conn, run_id: str, running: List[int], w: Window) -> Dict[str, List]:
    """Connected workers (sum of ``worker_count`` over active managers) and the busy share."""
    ev = []
    for uid, host, count, active, ts in conn.execute(sa.text(
            "SELECT uid, hostname, worker_count, active, timestamp FROM node WHERE run_id = :r"
            " AND timestamp IS NOT NULL ORDER BY timestamp LIMIT 20000"), {"r": run_id}):
        t = parse_time(ts)
        if t is not None:
            ev.append((t, str(uid or host), float(count or 0) if active or active is None else 0.0))
    per = _steps(ev, w)
    connected = [sum(v[b] for v in per.values()) for b in range(w.n)] if per else [0.0] * w.n
    busy = [min(1.0, r / c) if c else None for r, c in zip(running, connected)]
    return {"connected": connected, "busy": running, "busy_fraction": busy}


def blocks(conn, run_id: str, w: Window) -> Dict[str, List[int]]:
    """How many blocks are requested (pending), running and released at each bucket."""
    ev = []
    for label, bid, status, ts in conn.execute(sa.text(
            "SELECT executor_label, block_id, status, timestamp FROM block WHERE run_id = :r"
            " AND timestamp IS NOT NULL LIMIT 50000"), {"r": run_id}):
        t = parse_time(ts)
        if t is not None:
            ev.append((t, f"{label}/{bid}", BLOCK_GROUPS.get(str(status).rsplit(".", 1)[-1], "requested")))
    evs = sorted(ev, key=lambda e: e[0])
    out = {g: [0] * w.n for g in ("requested", "running", "released")}
    current: Dict[str, str] = {}
    i = 0
    for b in range(w.n):
        edge = w.t0 + datetime.timedelta(seconds=(b + 1) * w.width)
        while i < len(evs) and evs[i][0] < edge:
            current[evs[i][1]] = evs[i][2]
            i += 1
        for g in current.values():
            out[g][b] += 1
    return out


def stream(conn, run_id: str, f: Filters, w: Window, now: datetime.datetime) -> dict:
    """The tries in the window: bars (zoomed in) or per-lane counts (zoomed out)."""
    ysql, yparams = f.try_sql()
    p = {"r": run_id, **w.params, **yparams, "lim": MAX_BARS + 1}
    rows = conn.execute(sa.text(
        'SELECT task_id, try_id, block_id, hostname, task_executor, task_try_time_launched,'
        ' task_try_time_running, task_try_time_returned FROM "try" WHERE run_id = :r'
        ' AND coalesce(task_try_time_launched, task_try_time_running) <= :w_t1'
        f' AND (task_try_time_returned >= :w_t0 OR task_try_time_returned IS NULL){ysql} LIMIT :lim'), p).fetchall()
    if len(rows) <= MAX_BARS:
        return {"mode": "bars", "bars": _lanes(conn, run_id, rows, now)}
    lane = "coalesce(block_id, hostname, task_executor, '?')"
    counts = conn.execute(sa.text(
        f'SELECT {lane} l, {w.bucket_sql("task_try_time_running")} b, count(*) FROM "try" WHERE run_id = :r'
        f' AND task_try_time_running >= :w_t0 AND task_try_time_running <= :w_t1{ysql} GROUP BY l, b'),
        p).fetchall()
    lanes = sorted({str(r[0]) for r in counts}, key=_natural)
    idx = {name: i for i, name in enumerate(lanes)}
    z = [[0] * w.n for _ in lanes]
    for name, b, c in counts:
        if b is not None:
            z[idx[str(name)]][min(max(int(b), 0), w.n - 1)] += c
    return {"mode": "heat", "x": w.x(), "y": [f"block {name}" for name in lanes], "z": z, "width_s": w.width}


def _natural(s: str):
    return (0, int(s), "") if s.isdigit() else (1, 0, s)


def _lanes(conn, run_id: str, rows, now: datetime.datetime) -> List[dict]:
    """One bar per try, on a lane of its block: tries that overlap in time get separate
    lanes (one lane per busy worker), assigned greedily by start time."""
    ids = sorted({r[0] for r in rows})
    info: Dict[int, Tuple[str, str]] = {}
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        marks = ",".join(str(int(t)) for t in chunk)
        for tid, app, state in conn.execute(sa.text(
                f"SELECT task_id, task_func_name, task_status_name FROM task WHERE run_id = :r"
                f" AND task_id IN ({marks})"), {"r": run_id}):
            info[tid] = (app, state)
    tries = []
    for tid, try_id, block, host, ex, launched, running, returned in rows:
        tl, tr, te = parse_time(launched), parse_time(running), parse_time(returned)
        start = tl or tr
        if start is None:
            continue
        tries.append((start, tid, try_id, str(block if block is not None else host or ex or "?"), host, tl, tr, te))
    tries.sort(key=lambda t: (t[0], t[1]))
    free: Dict[str, List[Tuple[datetime.datetime, int]]] = {}
    used: Dict[str, int] = {}
    bars = []
    for start, tid, try_id, block, host, tl, tr, te in tries:
        heap = free.setdefault(block, [])
        if heap and heap[0][0] <= start:
            _, lane = heapq.heappop(heap)
        else:
            lane = used[block] = used.get(block, 0) + 1
            lane -= 1
        end = te or now
        heapq.heappush(heap, (end, lane))
        app, state = info.get(tid, ("?", "unknown"))
        # The try's outcome: only the task's last try can have its final state; an
        # earlier try that ended failed (and was retried).
        outcome = None if te is None else (state if state in DONE_STATES + FAILED_STATES else "failed")
        bars.append({"task": tid, "try": try_id, "app": app, "block": block, "host": host, "lane": lane,
                     "launched": fmt(tl) if tl else None, "running": fmt(tr) if tr else None,
                     "returned": fmt(te) if te else None, "end": fmt(end), "outcome": outcome})
    # a retried try ended in failure although the task (its last try) may have succeeded
    last: Dict[int, int] = {}
    for b in bars:
        last[b["task"]] = max(last.get(b["task"], -1), b["try"])
    for b in bars:
        if b["returned"] and b["try"] < last[b["task"]]:
            b["outcome"] = "failed"
    return bars
