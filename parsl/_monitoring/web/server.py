"""The ``parsl-visualize`` web server: the standard library's threading HTTP server in front
of read-only queries (``queries``) and server-rendered pages (``render``).

``VisualizationServer`` owns its serving thread (``start``/``close``, idempotent) so tests
and notebooks can run it in-process; the CLI calls ``serve_forever`` instead.
"""
from __future__ import annotations

import datetime
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, quote, unquote, urlparse

import sqlalchemy as sa

from parsl._monitoring.web import queries as q
from parsl._monitoring.web import render as r
from parsl._monitoring.web.outputs import LIMIT, tail

logger = logging.getLogger("parsl.monitoring.visualization")

#: (path pattern, page function(conn, query, *groups) -> body), in the order they are tried
ROUTES: List[Tuple[re.Pattern[str], Callable[..., Any]]] = []


def route(pattern):
    def deco(fn):
        ROUTES.append((re.compile("^" + pattern + "$"), fn))
        return fn
    return deco


class NotFound(Exception):
    pass


def _rid(run_id: str) -> str:
    return unquote(run_id)


def _workflow_or_404(conn, run_id):
    wf = q.workflow(conn, run_id)
    if wf is None:
        raise NotFound(f"No workflow with run_id {run_id!r} in this database.")
    return wf


def _pager(base: str, page: int, total: int) -> str:
    pages = max(1, -(-total // q.PAGE_SIZE))
    prev = f'<a href="{base}?page={page - 1}">&laquo; prev</a>' if page > 0 else ""
    nxt = f'<a href="{base}?page={page + 1}">next &raquo;</a>' if page + 1 < pages else ""
    return f'<p class="pager">{prev} page {page + 1} of {pages} ({total} tasks) {nxt}</p>'


def _task_table(run_id, rows) -> str:
    base = r.link_workflow(run_id)
    return r.table(
        ["task", "app", "state", "invoked", "running", "returned", "fails", "host", "executor"],
        ([f'<a href="{base}task/{t["task_id"]}">{t["task_id"]}</a>',
          f'<a href="{base}app/{quote(str(t["task_func_name"]), safe="")}">{r.esc(t["task_func_name"])}</a>',
          r.chip(t["task_status_name"]), r.esc(r.fmt_time(t["task_time_invoked"])),
          r.esc(r.fmt_time(t["task_time_running"])), r.esc(r.fmt_time(t["task_time_returned"])),
          r.esc(t["task_fail_count"]), r.esc(t["hostname"]), r.esc(t["task_executor"])] for t in rows))


@route(r"/")
def index(conn, params):
    rows = q.workflows(conn)
    live = any(w["time_completed"] is None for w in rows)
    body = "<h1>Workflows</h1>" + r.table(
        ["workflow", "run id", "version", "began", "completed", "status", "tasks done", "tasks failed",
         "user", "host"],
        ([r.esc(w["workflow_name"]), f'<a href="{r.link_workflow(w["run_id"])}">{r.esc(w["run_id"])}</a>',
          r.esc(w["workflow_version"]), r.esc(r.fmt_time(w["time_began"])), r.esc(r.fmt_time(w["time_completed"])),
          "Completed" if w["time_completed"] is not None else "<b>Running</b>",
          r.esc(w["tasks_completed_count"]), r.esc(w["tasks_failed_count"]), r.esc(w["user"]), r.esc(w["host"])]
         for w in rows))
    if not rows:
        body += '<p class="note">This database has no workflows yet.</p>'
    return r.page("Workflows", body, live=live)


@route(r"/workflow/([^/]+)/")
def workflow_page(conn, params, run_id):
    run_id = _rid(run_id)
    wf = _workflow_or_404(conn, run_id)
    live = wf["time_completed"] is None
    total = q.task_count(conn, run_id)
    states = q.states(conn, run_id)
    cards = "".join(f'<div class="card">{r.chip(s)}<b>{n}</b></div>' for s, n in sorted(states.items()))
    apps = q.apps(conn, run_id)
    base = r.link_workflow(run_id)
    app_table = r.table(["app", "tasks", "done", "failed"], (
        [f'<a href="{base}app/{quote(str(a["app"]), safe="")}">{r.esc(a["app"])}</a>', a["n"], a["done"] or 0,
         a["failed"] or 0] for a in apps))
    rows, stride = q.gantt_tasks(conn, run_id, total)
    note = (f'<p class="note">Showing every {stride}th task ({len(rows)} of {total}).</p>' if stride > 1 else "")
    summary = r.table(["", ""], [
        ["workflow", r.esc(wf["workflow_name"])], ["version", r.esc(wf["workflow_version"])],
        ["run id", r.esc(run_id)], ["began", r.esc(r.fmt_time(wf["time_began"]))],
        ["completed", r.esc(r.fmt_time(wf["time_completed"])) or "<b>running</b>"],
        ["user@host", r.esc(f'{wf["user"]}@{wf["host"]}')], ["run dir", r.esc(wf["rundir"])],
        ["tasks", str(total)]])
    blocks = q.blocks(conn, run_id)
    block_html = ("<h2>Blocks</h2>" + r.table(["executor", "block", "job", "status", "time"], (
        [r.esc(b["executor_label"]), r.esc(b["block_id"]), r.esc(b["job_id"]), r.esc(b["status"]),
         r.esc(r.fmt_time(b["timestamp"]))] for b in blocks))) if blocks else ""
    body = (f"<h1>Workflow {r.esc(wf['workflow_name'])}</h1>{summary}<h2>Tasks by state</h2>"
            f'<div class="cards" id="states">{cards}</div><h2>Apps</h2>{app_table}'
            f"<h2>Task timeline</h2>{r.legend(r.STATE_COLORS)}{note}"
            f"{r.gantt(rows, run_id, datetime.datetime.now())}{block_html}")
    return r.page(f"Workflow {wf['workflow_name']}", body, live=live, run_id=run_id)


def _page_param(params) -> int:
    try:
        return max(0, int(params.get("page", ["0"])[0]))
    except ValueError:
        return 0


@route(r"/workflow/([^/]+)/task/")
def task_list(conn, params, run_id):
    run_id = _rid(run_id)
    wf = _workflow_or_404(conn, run_id)
    page = _page_param(params)
    total = q.task_count(conn, run_id)
    rows = q.task_page(conn, run_id, page)
    body = f"<h1>Tasks</h1>{_pager('', page, total)}{_task_table(run_id, rows)}"
    return r.page("Tasks", body, live=wf["time_completed"] is None, run_id=run_id)


@route(r"/workflow/([^/]+)/app/([^/]+)")
def app_page(conn, params, run_id, app):
    run_id, app = _rid(run_id), unquote(app)
    wf = _workflow_or_404(conn, run_id)
    page = _page_param(params)
    total = q.task_count(conn, run_id, app)
    rows = q.task_page(conn, run_id, page, app)
    body = f"<h1>App {r.esc(app)}</h1>{_pager('', page, total)}{_task_table(run_id, rows)}"
    return r.page(f"App {app}", body, live=wf["time_completed"] is None, run_id=run_id)


@route(r"/workflow/([^/]+)/task/(\d+)")
def task_page(conn, params, run_id, task_id):
    run_id, task_id = _rid(run_id), int(task_id)
    wf = _workflow_or_404(conn, run_id)
    t = q.task(conn, run_id, task_id)
    if t is None:
        raise NotFound(f"No task {task_id} in workflow {run_id!r}.")
    base = r.link_workflow(run_id)
    deps = ", ".join(f'<a href="{base}task/{d}">{r.esc(d)}</a>'
                     for d in (t.get("task_depends") or "").split(",") if d)
    fields = [["state", r.chip(t["task_status_name"])], ["app", r.esc(t["task_func_name"])],
              ["depends on", deps or "-"]]
    for k in ("task_executor", "hostname", "task_time_invoked", "task_time_running", "task_time_returned",
              "task_fail_count", "task_fail_cost", "task_fail_history", "task_memoize", "task_hashsum",
              "task_inputs", "task_outputs", "task_stdout", "task_stderr"):
        if t.get(k) not in (None, ""):
            fields.append([k.replace("task_", "").replace("_", " "), r.esc(t[k])])
    tries = q.tries(conn, run_id, task_id)
    tries_html = r.table(["try", "executor", "host", "block", "launched", "running", "returned", "failure"], (
        [tr["try_id"], r.esc(tr["task_executor"]), r.esc(tr["hostname"]), r.esc(tr["block_id"]),
         r.esc(r.fmt_time(tr["task_try_time_launched"])), r.esc(r.fmt_time(tr["task_try_time_running"])),
         r.esc(r.fmt_time(tr["task_try_time_returned"])), r.esc(tr["task_fail_history"])] for tr in tries))
    history = r.table(["state", "time", "try", "host"], (
        [r.chip(s["task_status_name"]), r.esc(r.fmt_time(s["timestamp"])), r.esc(s["try_id"]), r.esc(s["hostname"])]
        for s in q.status_history(conn, run_id, task_id)))
    res = q.task_resources(conn, run_id, task_id)
    charts = (r.line_chart([(x["timestamp"], x["cpu"]) for x in res], "CPU %", "%") +
              r.line_chart([(x["timestamp"], x["rss"]) for x in res], "Resident memory", fmt=r.fmt_bytes) +
              r.line_chart([(x["timestamp"], x["cpu_time"]) for x in res], "CPU time (s)", " s"))
    outputs = ""
    for key, title in (("task_stderr", "stderr"), ("task_stdout", "stdout")):
        text = tail(t.get(key), wf.get("rundir"))
        if text is not None:
            outputs += (f"<h2>{title} <span class='note'>{r.esc(t[key])}, last {LIMIT // 1024} KB</span></h2>"
                        f"<pre class='tail' id='{title}'>{r.esc(text) or '(empty)'}</pre>")
    body = (f"<h1>Task {task_id}</h1>{r.table(['', ''], fields)}<h2>Tries</h2>{tries_html}{outputs}"
            f"<h2>Status history</h2>{history}<h2>Resources</h2><div id='resources'>{charts}</div>")
    live = wf["time_completed"] is None and t["task_status_name"] not in ("exec_done", "memo_done", "failed",
                                                                          "dep_fail")
    return r.page(f"Task {task_id}", body, live=live, run_id=run_id)


@route(r"/workflow/([^/]+)/resource_usage")
def resource_usage(conn, params, run_id):
    run_id = _rid(run_id)
    wf = _workflow_or_404(conn, run_id)
    usage = q.per_task_usage(conn, run_id)
    rss = [u[1] for u in usage]
    cpu = [u[2] for u in usage]
    nodes = q.nodes(conn, run_id)
    node_html = ("<h2>Nodes</h2>" + r.table(["host", "uid", "block", "cpus", "memory", "workers", "active",
                                            "time"], (
        [r.esc(n["hostname"]), r.esc(n["uid"]), r.esc(n["block_id"]), r.esc(n["cpu_count"]),
         r.esc(r.fmt_bytes(n["total_memory"])), r.esc(n["worker_count"]), r.esc(n["active"]),
         r.esc(r.fmt_time(n["timestamp"]))] for n in nodes))) if nodes else ""
    body = (f"<h1>Resource usage</h1><p class='note'>{len(usage)} tasks with resource samples.</p>"
            f"<div id='histograms'>{r.histogram(rss, 'Peak resident memory per task', r.fmt_bytes)}"
            f"{r.histogram(cpu, 'CPU time per task', lambda v: f'{v:.2f} s')}</div>{node_html}")
    return r.page("Resource usage", body, live=wf["time_completed"] is None, run_id=run_id)


def _dag(conn, run_id, by: str):
    wf = _workflow_or_404(conn, run_id)
    total = q.task_count(conn, run_id)
    apps = sorted({a["app"] or "" for a in q.apps(conn, run_id)})
    app_color = {a: r.PALETTE[i % len(r.PALETTE)] for i, a in enumerate(apps)}
    if total <= q.DAG_MAX_TASKS:
        rows = q.dependencies(conn, run_id)
        nodes = {t: (app or "", state or "unknown") for t, app, state, _ in rows}
        edges = [(int(d), t) for t, _, _, deps in rows for d in (deps or "").split(",") if d]
        if by == "apps":
            color_of, colors = (lambda n: app_color.get(nodes[n][0], "#888")), app_color
        else:
            color_of, colors = (lambda n: r.STATE_COLORS.get(nodes[n][1], "#888")), r.STATE_COLORS
        svg = r.dag(nodes, edges, color_of, run_id)
        note = f"{len(nodes)} tasks, {len(edges)} dependencies."
    else:
        # Too many tasks to draw one by one: draw apps, with how many dependencies join them.
        rows = q.dependencies(conn, run_id)
        app_of = {t: app or "" for t, app, _, _ in rows}
        idx = {a: i for i, a in enumerate(apps)}
        counts: Dict[Tuple[int, int], int] = {}
        for _t, app, _, deps in rows:
            for d in (deps or "").split(","):
                if d and int(d) in app_of:
                    key = (idx[app_of[int(d)]], idx[app or ""])
                    counts[key] = counts.get(key, 0) + 1
        nodes = {i: (a, "") for a, i in idx.items()}
        state_counts = q.states(conn, run_id)
        edges = [k for k in counts if k[0] != k[1]]
        svg = r.dag(nodes, edges, lambda n: app_color.get(apps[n], "#888"), None,
                    label_of=lambda n: f"app {apps[n]}")
        colors = app_color
        note = (f"{total} tasks are too many to draw one by one; this is the graph of apps "
                f"({sum(counts.values())} task dependencies). States: "
                + ", ".join(f"{k} {v}" for k, v in sorted(state_counts.items())))
    body = (f"<h1>Task graph, coloured by {'app' if by == 'apps' else 'state'}</h1>{r.legend(colors)}"
            f'<p class="note">{r.esc(note)}</p>{svg}')
    return r.page("DAG", body, live=wf["time_completed"] is None, run_id=run_id)


@route(r"/workflow/([^/]+)/dag_group_by_apps")
def dag_apps(conn, params, run_id):
    return _dag(conn, _rid(run_id), "apps")


@route(r"/workflow/([^/]+)/dag_group_by_states")
def dag_states(conn, params, run_id):
    return _dag(conn, _rid(run_id), "states")


def make_handler(engine):
    class Handler(BaseHTTPRequestHandler):
        server_version = "parsl-visualize"

        def log_message(self, fmt, *args):
            logger.debug("%s " + fmt, self.address_string(), *args)

        def do_GET(self):
            url = urlparse(self.path)
            path = url.path
            if not path.endswith("/") and re.match(r"^/workflow/[^/]+$", path):
                path += "/"
            for pattern, fn in ROUTES:
                m = pattern.match(path)
                if m:
                    try:
                        with engine.connect() as conn:
                            body = fn(conn, parse_qs(url.query), *m.groups())
                        self._send(200, body)
                    except NotFound as e:
                        self._send(404, r.page("Not found", f"<h1>Not found</h1><p>{r.esc(e)}</p>"))
                    except Exception as e:
                        logger.exception("error serving %s", self.path)
                        self._send(500, r.page("Error", f"<h1>Error</h1><p>{r.esc(type(e).__name__)}: "
                                                        f"{r.esc(e)}</p><p class='note'>Run with --debug "
                                                        f"for the traceback.</p>"))
                    return
            self._send(404, r.page("Not found", "<h1>Not found</h1><p><a href='/'>Workflows</a></p>"))

        def _send(self, code, text):
            data = text.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

    return Handler


def make_read_engine(db_url: str):
    if db_url.startswith("sqlite"):
        path = sa.engine.make_url(db_url).database
        import os
        if path and path != ":memory:" and not os.path.exists(path):
            raise FileNotFoundError(f"No monitoring database at {path}. Run a workflow with "
                                    f"Config(monitoring=MonitoringHub(...)) first, or pass its URL, "
                                    f"e.g. parsl-visualize sqlite:///runinfo/monitoring.db")
        return sa.create_engine(db_url, connect_args={"check_same_thread": False})
    return sa.create_engine(db_url, pool_pre_ping=True)


class VisualizationServer:
    """Serves the web view of one database.  ``port=0`` picks a free port (see ``.port``)."""

    def __init__(self, db_url: str, host: str = "127.0.0.1", port: int = 8080):
        self.engine = make_read_engine(db_url)
        self.httpd = ThreadingHTTPServer((host, port), make_handler(self.engine))
        self.httpd.daemon_threads = True
        bound_host, self.port = self.httpd.server_address[:2]
        # always a str for AF_INET/AF_INET6; the type also allows bytes
        self.host = bound_host if isinstance(bound_host, str) else bytes(bound_host).decode()
        self._thread: Optional[threading.Thread] = None
        self._closed = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> VisualizationServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="parsl-visualize", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever()
        finally:
            self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(10)
        self.httpd.server_close()
        self.engine.dispose()
