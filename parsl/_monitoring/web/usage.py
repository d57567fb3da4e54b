"""Resource use for the dashboard: CPU, memory and I/O over time per app and per node, and
per-app summaries (mean, p95, max of each task's peak) to size resource requests.

Over time: one scan of the run's resource samples joined to their task, bucketed in SQL.
Summaries: per task first (its peak RSS, its CPU seconds, its wall time), then per app in
Python; above ``SUMMARY_SAMPLE`` tasks an evenly spread sample of tasks is used, and the
answer says so.
"""
from __future__ import annotations

import math
from typing import Dict, List

import sqlalchemy as sa

from parsl._monitoring.web.series import Filters, Window

SUMMARY_SAMPLE = 50_000
OVER_TIME_SAMPLE = 20_000
MAX_GROUPS = 12


def over_time(conn, run_id: str, f: Filters, w: Window, by: str, stride: int = 1) -> Dict[str, dict]:
    """{group: {cpu: [...], rss: [...], io: [...]}} per bucket; group = app or node; the
    samples of every ``stride``-th task (means need no more)."""
    tsql, tparams = f.task_sql("t")
    key = "t.task_func_name" if by == "app" else "coalesce(r.hostname, t.hostname, '?')"
    rows = conn.execute(sa.text(
        f"SELECT {key} g, {w.bucket_sql('r.timestamp')} b, avg(r.psutil_process_cpu_percent),"
        " avg(r.psutil_process_memory_resident),"
        " avg(coalesce(r.psutil_process_disk_read, 0) + coalesce(r.psutil_process_disk_write, 0)), count(*)"
        " FROM resource r JOIN task t ON t.run_id = r.run_id AND t.task_id = r.task_id"
        f" WHERE r.run_id = :r AND r.task_id % :k = 0 AND r.timestamp >= :w_t0 AND r.timestamp <= :w_t1{tsql}"
        " GROUP BY g, b"), {"r": run_id, "k": stride, **w.params, **tparams}).fetchall()
    totals: Dict[str, int] = {}
    for g, _b, _c, _m, _io, n in rows:
        totals[str(g)] = totals.get(str(g), 0) + n
    keep = sorted(totals, key=lambda g: -totals[g])[:MAX_GROUPS]
    out: Dict[str, dict] = {g: {"cpu": [None] * w.n, "rss": [None] * w.n, "io": [None] * w.n} for g in sorted(keep)}
    for g, b, cpu, rss, io, _n in rows:
        d = out.get(str(g))
        if d is None or b is None or not 0 <= b < w.n:
            continue
        d["cpu"][b], d["rss"][b], d["io"][b] = cpu, rss, io
    return out


def _p95(values: List[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(0.95 * len(values)) - 1))]


def app_summary(conn, run_id: str, f: Filters) -> dict:
    """Per app: tasks measured, and mean / p95 / max of peak RSS, CPU seconds, wall seconds."""
    tsql, tparams = f.task_sql("t")
    total = conn.execute(sa.text(f"SELECT count(*) FROM task t WHERE t.run_id = :r{tsql}"),
                         {"r": run_id, **tparams}).scalar() or 0
    stride = max(1, -(-total // SUMMARY_SAMPLE))
    rows = conn.execute(sa.text(
        "SELECT t.task_func_name, u.rss, u.cpu,"
        " (julianday(t.task_time_returned) - julianday(t.task_time_running)) * 86400.0"
        " FROM (SELECT task_id, max(psutil_process_memory_resident) rss,"
        "       max(coalesce(psutil_process_time_user, 0) + coalesce(psutil_process_time_system, 0)) cpu"
        "       FROM resource WHERE run_id = :r AND task_id % :k = 0 GROUP BY task_id) u"
        f" JOIN task t ON t.run_id = :r AND t.task_id = u.task_id WHERE 1 = 1{tsql}"),
        {"r": run_id, "k": stride, **tparams}).fetchall()
    per_app: Dict[str, Dict[str, List[float]]] = {}
    for app, rss, cpu, wall in rows:
        d = per_app.setdefault(str(app), {"rss": [], "cpu": [], "wall": []})
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
