"""The dashboard's JSON endpoints (``/api/...``): what each page's charts draw, for the
page's filters (``app``, ``state``, ``executor``) and time window (``t0``, ``t1``).

Every answer carries ``live`` (the workflow is still running: the page asks again in a
second).  Answers about a completed workflow cannot change, so they are kept (a small
LRU): the second look at a 1,000,000-task run costs nothing.
"""
from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, Tuple
from urllib.parse import unquote

from parsl._monitoring.web import graphs, usage
from parsl._monitoring.web import queries as q
from parsl._monitoring.web import series as s
from parsl._monitoring.web.routes import Json, NotFound, route

_CACHE: OrderedDict[Tuple, Any] = OrderedDict()
_CACHE_SIZE = 64
_lock = threading.Lock()


def cached(key: Tuple, complete: bool, compute: Callable[[], Any]) -> Any:
    if not complete:
        return compute()
    with _lock:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = compute()
    with _lock:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


def _param(params: Dict[str, list], name: str):
    v = (params.get(name) or [None])[0]
    return v or None


def filters(params: Dict[str, list]) -> s.Filters:
    return s.Filters(_param(params, "app"), _param(params, "state"), _param(params, "executor"))


def context(conn, params, run_id: str):
    """(workflow row, complete?, filters, window, window starts at the run's start?)."""
    run_id = unquote(run_id)
    wf = q.workflow(conn, run_id)
    if wf is None:
        raise NotFound(f"No workflow with run_id {run_id!r} in this database.")
    complete = wf["time_completed"] is not None
    t0, t1 = s.run_span(conn, run_id, wf)
    a, b = s.parse_time(_param(params, "t0")), s.parse_time(_param(params, "t1"))
    if a is not None and b is not None and b > a:
        return run_id, wf, complete, filters(params), s.Window.over(a, b), a <= t0
    return run_id, wf, complete, filters(params), s.Window.over(t0, t1), True


def _key(name: str, run_id: str, f: s.Filters, w: s.Window, *more) -> Tuple:
    return (name, run_id, f, w.t0, w.t1, *more)


@route(r"/api/workflow/([^/]+)/overview")
def overview(conn, params, run_id):
    run_id, wf, complete, f, w, from_start = context(conn, params, run_id)

    def compute():
        flow = s.task_flow(conn, run_id, f, w, from_start)
        return {"states": q.states(conn, run_id, f), "flow": flow,
                "workers": s.workers(conn, run_id, flow["running"], w), "blocks": s.blocks(conn, run_id, w)}
    data = cached(_key("overview", run_id, f, w), complete, compute)
    return Json(dict(data, live=not complete))


@route(r"/api/workflow/([^/]+)/stream")
def stream(conn, params, run_id):
    run_id, wf, complete, f, w, _ = context(conn, params, run_id)
    now = datetime.datetime.now()
    data = cached(_key("stream", run_id, f, w), complete, lambda: s.stream(conn, run_id, f, w, now))
    return Json({"stream": data, "live": not complete})


@route(r"/api/workflow/([^/]+)/resources")
def resources(conn, params, run_id):
    run_id, wf, complete, f, w, _ = context(conn, params, run_id)

    def compute():
        total = q.task_count(conn, run_id)
        k = max(1, -(-total // usage.SAMPLE_TASKS))
        rows = usage.samples(conn, run_id, f, k)
        return {"x": w.x(), "sampled_every": k,
                "over_time": {"app": usage.over_time(rows, w, "app"), "node": usage.over_time(rows, w, "node")},
                "summary": usage.app_summary(rows, k, total)}
    data = cached(_key("resources", run_id, f, w), complete, compute)
    return Json(dict(data, live=not complete))


@route(r"/api/workflow/([^/]+)/dag")
def dag(conn, params, run_id):
    run_id, wf, complete, f, w, _ = context(conn, params, run_id)
    view = _param(params, "view") or "auto"
    total = q.task_count(conn, run_id)

    def compute():
        return graphs.graph(conn, run_id, f, total, view)
    data = cached(_key("dag", run_id, f, w, view), complete, compute)
    return Json({"graph": data, "live": not complete})
