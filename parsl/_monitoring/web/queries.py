"""Read-side queries of the web view.  Each is a few indexed SQL statements whose result
size is bounded (pages, samples, aggregates), so a page costs the same for 1,000 tasks
as for 1,000,000.  Functions take an SQLAlchemy connection and return plain values."""
from __future__ import annotations

from typing import Dict, List, Optional

import sqlalchemy as sa

PAGE_SIZE = 100


def _rows(conn, sql: str, **params) -> List[dict]:
    return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def workflows(conn) -> List[dict]:
    return _rows(conn, "SELECT run_id, workflow_name, workflow_version, time_began, time_completed,"
                       " host, user, rundir, tasks_completed_count, tasks_failed_count"
                       " FROM workflow ORDER BY time_began DESC")


def workflow(conn, run_id: str) -> Optional[dict]:
    rows = _rows(conn, "SELECT * FROM workflow WHERE run_id = :r", r=run_id)
    return rows[0] if rows else None


def task_count(conn, run_id: str, app: Optional[str] = None) -> int:
    if app is None:
        return conn.execute(sa.text("SELECT count(*) FROM task WHERE run_id = :r"), {"r": run_id}).scalar()
    return conn.execute(sa.text("SELECT count(*) FROM task WHERE run_id = :r AND task_func_name = :a"),
                        {"r": run_id, "a": app}).scalar()


def states(conn, run_id: str, f=None) -> Dict[str, int]:
    """Tasks by state (``f``: a ``series.Filters``, or None for all tasks)."""
    extra, params = f.task_sql() if f is not None else ("", {})
    return {r["s"] or "unknown": r["n"] for r in _rows(
        conn, f"SELECT task_status_name s, count(*) n FROM task WHERE run_id = :r{extra} GROUP BY task_status_name",
        r=run_id, **params)}


def app_names(conn, run_id: str) -> List[str]:
    """The run's app names (from the (run, app, id) index: no table rows read)."""
    return [r[0] for r in conn.execute(sa.text(
        "SELECT DISTINCT task_func_name FROM task WHERE run_id = :r ORDER BY task_func_name"), {"r": run_id})
        if r[0] is not None]


def executors(conn, run_id: str) -> List[str]:
    """The executors of the run's blocks and of its first tasks (a cheap, good-enough list)."""
    names = {r[0] for r in conn.execute(sa.text(
        "SELECT DISTINCT executor_label FROM block WHERE run_id = :r"), {"r": run_id})}
    names |= {r[0] for r in conn.execute(sa.text(
        "SELECT task_executor FROM task WHERE run_id = :r ORDER BY task_id LIMIT 2000"), {"r": run_id})}
    return sorted(n for n in names if n is not None)


def apps(conn, run_id: str) -> List[dict]:
    return _rows(conn, "SELECT task_func_name app, count(*) n,"
                       " sum(CASE WHEN task_status_name IN ('exec_done','memo_done') THEN 1 ELSE 0 END) done,"
                       " sum(CASE WHEN task_status_name IN ('failed','dep_fail') THEN 1 ELSE 0 END) failed"
                       " FROM task WHERE run_id = :r GROUP BY task_func_name ORDER BY task_func_name",
                 r=run_id)


def task_page(conn, run_id: str, page: int, app: Optional[str] = None) -> List[dict]:
    where = "run_id = :r" + (" AND task_func_name = :a" if app is not None else "")
    return _rows(conn, "SELECT task_id, task_func_name, task_status_name, task_time_invoked,"
                       " task_time_running, task_time_returned, task_fail_count, hostname, task_executor"
                       f" FROM task WHERE {where} ORDER BY task_id LIMIT :lim OFFSET :off",
                 r=run_id, a=app, lim=PAGE_SIZE, off=page * PAGE_SIZE)


def task(conn, run_id: str, task_id: int) -> Optional[dict]:
    rows = _rows(conn, "SELECT * FROM task WHERE run_id = :r AND task_id = :t", r=run_id, t=task_id)
    return rows[0] if rows else None


def tries(conn, run_id: str, task_id: int) -> List[dict]:
    return _rows(conn, 'SELECT * FROM "try" WHERE run_id = :r AND task_id = :t ORDER BY try_id',
                 r=run_id, t=task_id)


def status_history(conn, run_id: str, task_id: int) -> List[dict]:
    return _rows(conn, "SELECT task_status_name, timestamp, try_id, hostname FROM status"
                       " WHERE run_id = :r AND task_id = :t ORDER BY timestamp", r=run_id, t=task_id)


def task_resources(conn, run_id: str, task_id: int, limit: int = 2000) -> List[dict]:
    """The task's resource samples (every try), times as the database's text."""
    rows = _rows(conn, "SELECT timestamp, try_id, psutil_process_cpu_percent cpu,"
                       " psutil_process_memory_resident rss, psutil_process_time_user + "
                       " psutil_process_time_system cpu_time, coalesce(psutil_process_disk_read, 0) +"
                       " coalesce(psutil_process_disk_write, 0) io FROM resource"
                       " WHERE run_id = :r AND task_id = :t ORDER BY timestamp LIMIT :lim",
                 r=run_id, t=task_id, lim=limit)
    for row in rows:
        row["timestamp"] = None if row["timestamp"] is None else str(row["timestamp"])
    return rows


def per_task_usage(conn, run_id: str) -> List[tuple]:
    """(task_id, peak RSS bytes, CPU seconds) per task that has samples."""
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT task_id, max(psutil_process_memory_resident),"
        " max(coalesce(psutil_process_time_user, 0) + coalesce(psutil_process_time_system, 0))"
        " FROM resource WHERE run_id = :r GROUP BY task_id"), {"r": run_id})]


def dependencies(conn, run_id: str, limit: Optional[int] = None) -> List[tuple]:
    """(task_id, func_name, status, depends-csv) for the first ``limit`` tasks."""
    sql = ("SELECT task_id, task_func_name, task_status_name, task_depends FROM task"
           " WHERE run_id = :r ORDER BY task_id")
    if limit is not None:
        sql += " LIMIT :lim"
    return [tuple(r) for r in conn.execute(sa.text(sql), {"r": run_id, "lim": limit})]


def blocks(conn, run_id: str) -> List[dict]:
    return _rows(conn, "SELECT executor_label, block_id, job_id, status, timestamp FROM block"
                       " WHERE run_id = :r ORDER BY timestamp LIMIT 500", r=run_id)


def nodes(conn, run_id: str) -> List[dict]:
    """One row per manager (its latest), with when it first connected."""
    return _rows(conn, "SELECT n.hostname, n.uid, n.block_id, n.cpu_count, n.total_memory, n.worker_count,"
                       " n.active, n.timestamp, f.first FROM node n"
                       " JOIN (SELECT uid, max(id) last, min(timestamp) first"
                       " FROM node WHERE run_id = :r GROUP BY uid) f ON n.id = f.last"
                       " ORDER BY n.hostname, n.uid LIMIT 500", r=run_id)


def dependents(conn, run_id: str, task_id: int, limit: int = 200) -> List[int]:
    """Tasks that name ``task_id`` among their dependencies (a scan of the run's tasks)."""
    return [r[0] for r in conn.execute(sa.text(
        "SELECT task_id FROM task WHERE run_id = :r AND task_id > :t AND task_depends IS NOT NULL"
        " AND ',' || task_depends || ',' LIKE :pat ORDER BY task_id LIMIT :lim"),
        {"r": run_id, "t": task_id, "pat": f"%,{task_id},%", "lim": limit})]


def run_summary(conn, run_id: str) -> Dict[str, dict]:
    """Per app: tasks, done, cached, failed, mean and total run time (s), for comparing runs."""
    out = {}
    for app, n, done, cached, failed, mean, total in conn.execute(sa.text(
            "SELECT task_func_name, count(*), sum(task_status_name = 'exec_done'), sum(task_status_name = 'memo_done'),"
            " sum(task_status_name IN ('failed', 'dep_fail')),"
            " avg((julianday(task_time_returned) - julianday(task_time_running)) * 86400.0),"
            " sum((julianday(task_time_returned) - julianday(task_time_running)) * 86400.0)"
            " FROM task WHERE run_id = :r GROUP BY task_func_name"), {"r": run_id}):
        out[app or ""] = {"tasks": n, "done": done or 0, "cached": cached or 0, "failed": failed or 0,
                          "mean_s": mean, "total_s": total}
    return out
