"""Resource use for the dashboard: CPU, memory and I/O over time per app and per node, and
per-app summaries (mean, p95, max of each task's peak) to size resource requests.

One pass reads the samples of every k-th task (all tasks up to ``SAMPLE_TASKS``; the answer
says when k > 1) with their app, node and run time; the charts (means per time bucket)
and the summaries (per task first: its peak RSS, its CPU seconds, its wall time; then per
app) are computed from those rows.
"""
from __future__ import annotations

import math
from typing import Dict, List

import sqlalchemy as sa

from parsl._monitoring.web.series import Filters, Window, parse_time

#: tasks whose samples are read (every k-th task beyond this many)
SAMPLE_TASKS = 20_000
MAX_GROUPS = 12


def samples(conn, run_id: str, f: Filters, stride: int) -> list:
    """The resource samples of every ``stride``-th task, with the task's app, node and run
    time: one pass over the (run, task, time) index; everything else is computed from them."""
    tsql, tparams = f.task_sql("t")
    return conn.execute(sa.text(
        "SELECT r.task_id, t.task_func_name, coalesce(r.hostname, t.hostname, '?'), r.timestamp,"
        " r.psutil_process_cpu_percent, r.psutil_process_memory_resident,"
        " coalesce(r.psutil_process_disk_read, 0) + coalesce(r.psutil_process_disk_write, 0),"
        " coalesce(r.psutil_process_time_user, 0) + coalesce(r.psutil_process_time_system, 0),"
        " (julianday(t.task_time_returned) - julianday(t.task_time_running)) * 86400.0"
        " FROM resource r JOIN task t ON t.run_id = r.run_id AND t.task_id = r.task_id"
        f" WHERE r.run_id = :r AND r.task_id % :k = 0{tsql}"), {"r": run_id, "k": stride, **tparams}).fetchall()


def over_time(rows: list, w: Window, by: str) -> Dict[str, dict]:
    """{group: {cpu: [...], rss: [...], io: [...]}}: the mean per bucket; group = app or node
    (the ``MAX_GROUPS`` with most samples)."""
    col = 1 if by == "app" else 2
    acc: Dict[str, Dict[int, list]] = {}
    t0 = w.t0
    for row in rows:
        ts = parse_time(row[3])
        if ts is None:
            continue
        b = int((ts - t0).total_seconds() / w.width)
        if not 0 <= b < w.n:
            continue
        cell = acc.setdefault(str(row[col]), {}).setdefault(b, [0.0, 0, 0.0, 0, 0.0, 0])
        for i, v in ((0, row[4]), (2, row[5]), (4, row[6])):
            if v is not None:
                cell[i] += v
                cell[i + 1] += 1
    keep = sorted(acc, key=lambda g: -sum(c[1] + c[3] for c in acc[g].values()))[:MAX_GROUPS]
    out: Dict[str, dict] = {}
    for g in sorted(keep):
        d = out[g] = {"cpu": [None] * w.n, "rss": [None] * w.n, "io": [None] * w.n}
        for b, c in acc[g].items():
            for k, i in (("cpu", 0), ("rss", 2), ("io", 4)):
                if c[i + 1]:
                    d[k][b] = c[i] / c[i + 1]
    return out


def _p95(values: List[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(0.95 * len(values)) - 1))]


def app_summary(rows: list, stride: int, total: int) -> dict:
    """Per app: tasks measured, and mean / p95 / max of each task's peak RSS, CPU seconds
    and wall seconds."""
    peaks: Dict[int, list] = {}
    for tid, app, _node, _ts, _cpu, rss, _io, cpu_time, wall in rows:
        p = peaks.get(tid)
        if p is None:
            p = peaks[tid] = [str(app), None, None, wall]
        if rss is not None and (p[1] is None or rss > p[1]):
            p[1] = rss
        if cpu_time is not None and (p[2] is None or cpu_time > p[2]):
            p[2] = cpu_time
    per_app: Dict[str, Dict[str, List[float]]] = {}
    for app, rss, cpu, wall in peaks.values():
        d = per_app.setdefault(app, {"rss": [], "cpu": [], "wall": []})
        for k, v in (("rss", rss), ("cpu", cpu), ("wall", wall)):
            if v is not None:
                d[k].append(float(v))
    apps = []
    for app in sorted(per_app):
        d = per_app[app]
        row: dict = {"app": app, "tasks": max(len(v) for v in d.values())}
        for k, vs in d.items():
            row[k] = ({"mean": sum(vs) / len(vs), "p95": _p95(vs), "max": max(vs)} if vs else None)
        apps.append(row)
    return {"apps": apps, "sampled_every": stride, "tasks": total}
