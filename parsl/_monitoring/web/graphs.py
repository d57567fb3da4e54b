"""The task graph for the DAG page, laid out in layers (a node's column is its longest chain
of dependencies), as plain data the browser draws with arrows and labels.

Up to ``DAG_MAX_TASKS`` tasks are drawn one by one; a bigger run is drawn as its graph of
apps, each node counting the app's tasks by state and each edge the task dependencies
between two apps.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import sqlalchemy as sa

from parsl._monitoring.web.series import Filters

DAG_MAX_TASKS = 500
EDGE_SAMPLE = 20_000
EDGE_RANGES = 20


def _layers(nodes: List, parents: Dict) -> Dict:
    """node -> column (longest chain of parents; cycles cut at the first revisit)."""
    depth: Dict = {}
    visiting = set()

    def d(n):
        if n in depth:
            return depth[n]
        if n in visiting:
            return 0
        visiting.add(n)
        depth[n] = 1 + max((d(p) for p in parents.get(n, ()) if p != n), default=-1)
        visiting.discard(n)
        return depth[n]

    for n in nodes:                # ids grow with submission: parents usually come first
        d(n)
    return depth


def _positions(depth: Dict) -> Dict:
    columns: Dict[int, List] = {}
    for n in sorted(depth, key=lambda n: (depth[n], str(n))):
        columns.setdefault(depth[n], []).append(n)
    pos = {}
    for col, members in columns.items():
        off = (len(members) - 1) / 2
        for i, n in enumerate(members):
            pos[n] = (col, i - off)
    return pos


def task_graph(conn, run_id: str, f: Filters) -> dict:
    tsql, tparams = f.task_sql()
    rows = conn.execute(sa.text(
        "SELECT task_id, task_func_name, task_status_name, task_depends FROM task"
        f" WHERE run_id = :r{tsql} ORDER BY task_id LIMIT :lim"),
        {"r": run_id, "lim": DAG_MAX_TASKS, **tparams}).fetchall()
    nodes = {t: (app or "", state or "unknown") for t, app, state, _ in rows}
    parents: Dict[int, List[int]] = {}
    edges: List[Tuple[int, int]] = []
    for t, _, _, deps in rows:
        for d in (deps or "").split(","):
            if d.strip().isdigit() and int(d) in nodes:
                parents.setdefault(t, []).append(int(d))
                edges.append((int(d), t))
    pos = _positions(_layers(sorted(nodes), parents))
    return {"kind": "tasks", "nodes": [{"id": t, "app": a, "state": s, "x": pos[t][0], "y": pos[t][1]}
                                       for t, (a, s) in nodes.items()],
            "edges": [{"from": a, "to": b} for a, b in edges]}


def app_graph(conn, run_id: str, f: Filters) -> dict:
    """Apps with their tasks' states, and the dependencies between apps.

    The edges come from the dependencies of ``EDGE_RANGES`` evenly spread runs of
    consecutive tasks (every task up to ``EDGE_SAMPLE``), counts scaled up; the page says
    when they are estimates.  A dependency's app is found in the (run, app, id) index, which
    stays in memory: looking ids up in the table itself costs ~0.2 ms each in a 1 GB file."""
    tsql, tparams = f.task_sql()
    params = {"r": run_id, **tparams}
    counts: Dict[str, Dict[str, int]] = {}
    for app, state, n in conn.execute(sa.text(
            f"SELECT task_func_name, task_status_name, count(*) FROM task WHERE run_id = :r{tsql}"
            " GROUP BY task_func_name, task_status_name"), params):
        counts.setdefault(app or "", {})[state or "unknown"] = n
    total = sum(sum(c.values()) for c in counts.values())
    lo, hi = conn.execute(sa.text("SELECT min(task_id), max(task_id) FROM task WHERE run_id = :r"),
                          {"r": run_id}).first()
    lo, hi = lo or 0, (hi or 0) + 1
    ranges, scale = [(lo, hi)], 1.0
    if total > EDGE_SAMPLE:
        step, width = (hi - lo) / EDGE_RANGES, max(1, EDGE_SAMPLE // EDGE_RANGES)
        ranges = [(lo + int(i * step), lo + int(i * step) + width) for i in range(EDGE_RANGES)]
        scale = (hi - lo) / (width * EDGE_RANGES)
    sampled = []
    for a, b in ranges:
        sampled += conn.execute(sa.text(
            "SELECT task_func_name, task_depends FROM task WHERE run_id = :r AND task_id >= :lo"
            f" AND task_id < :hi AND task_depends IS NOT NULL{tsql}"), {**params, "lo": a, "hi": b}).fetchall()
    ids = sorted({int(d) for _, deps in sampled for d in deps.split(",") if d.strip().isdigit()})
    app_of: Dict[int, str] = {}
    apps = [a for a in counts if a] if len(counts) <= 40 else []
    for i in range(0, len(ids), 900):
        chunk = ",".join(str(x) for x in ids[i:i + 900])
        if apps:
            for app in apps:
                for (tid,) in conn.execute(sa.text(
                        f"SELECT task_id FROM task WHERE run_id = :r AND task_func_name = :a AND task_id IN ({chunk})"),
                        {"r": run_id, "a": app}):
                    app_of[tid] = app
        else:
            for tid, app in conn.execute(sa.text(
                    f"SELECT task_id, task_func_name FROM task WHERE run_id = :r AND task_id IN ({chunk})"),
                    {"r": run_id}):
                app_of[tid] = app or ""
    pairs: Dict[Tuple[str, str], float] = {}
    for app, deps in sampled:
        for d in deps.split(","):
            src = app_of.get(int(d)) if d.strip().isdigit() else None
            if src is not None:
                pairs[(src, app or "")] = pairs.get((src, app or ""), 0) + scale
    parents: Dict[str, List[str]] = {}
    for (a, b) in pairs:
        parents.setdefault(b, []).append(a)
    pos = _positions(_layers(sorted(counts), parents))
    return {"kind": "apps", "edge_sample": round(scale) if scale > 1 else 1,
            "nodes": [{"id": a, "app": a, "counts": c, "total": sum(c.values()), "x": pos[a][0], "y": pos[a][1]}
                      for a, c in counts.items()],
            "edges": [{"from": a, "to": b, "count": round(n)} for (a, b), n in sorted(pairs.items())]}


def graph(conn, run_id: str, f: Filters, total: int, want: str = "auto") -> dict:
    if want == "tasks" or (want == "auto" and total <= DAG_MAX_TASKS):
        g = task_graph(conn, run_id, f)
        g["truncated"] = total > DAG_MAX_TASKS
        return g
    return app_graph(conn, run_id, f)
