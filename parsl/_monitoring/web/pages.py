"""The web view's HTML pages.  Tables are rendered here; charts are containers that
``dashboard.js`` fills from the page's JSON endpoint (``api``)."""
from __future__ import annotations

import json
from typing import Dict
from urllib.parse import quote, unquote

from parsl._monitoring.web import queries as q
from parsl._monitoring.web import render as r
from parsl._monitoring.web.outputs import TryOutput, read_output, recorded
from parsl._monitoring.web.routes import NotFound, route
from parsl._monitoring.web.routes import task_id as parse_task_id

FINAL = ("exec_done", "memo_done", "failed", "dep_fail")


def _workflow(conn, run_id: str) -> dict:
    wf = q.workflow(conn, run_id)
    if wf is None:
        raise NotFound(f"No workflow with run_id {run_id!r} in this database.")
    return wf


def _live(wf) -> bool:
    return wf["time_completed"] is None


def _api(run_id: str, what: str) -> str:
    return f"/api/workflow/{quote(run_id, safe='')}/{what}"


def _filters(conn, run_id, params, window=True, apps=None) -> str:
    names = ([a["app"] for a in apps if a["app"] is not None] if apps is not None
             else q.app_names(conn, run_id))
    return r.filter_bar(params, names, list(r.STATE_COLORS), q.executors(conn, run_id), window)


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
    elif len(rows) > 1:
        opts = "".join(f'<option value="{r.esc(w["run_id"])}">{r.esc(w["workflow_name"])} '
                       f'{r.esc(r.fmt_time(w["time_began"]))} ({r.esc(w["run_id"])})</option>' for w in rows[:200])
        body += (f'<h2>Compare two runs</h2><form class="filters" method="get" action="/compare">'
                 f'<label>run <select name="a">{opts}</select></label><label>with <select name="b">{opts}</select>'
                 f'</label><button>compare</button></form>')
    return r.page("Workflows", body, live=live)


@route(r"/workflow/([^/]+)/")
def workflow_page(conn, params, run_id):
    run_id = unquote(run_id)
    wf = _workflow(conn, run_id)
    total = q.task_count(conn, run_id)
    base = r.link_workflow(run_id)
    apps = q.apps(conn, run_id)
    app_table = r.table(["app", "tasks", "done", "failed"], (
        [f'<a href="{base}app/{quote(str(a["app"]), safe="")}">{r.esc(a["app"])}</a>', a["n"], a["done"] or 0,
         a["failed"] or 0] for a in apps))
    summary = r.table(["", ""], [
        ["workflow", r.esc(wf["workflow_name"])], ["version", r.esc(wf["workflow_version"])],
        ["run id", r.esc(run_id)], ["began", r.esc(r.fmt_time(wf["time_began"]))],
        ["completed", r.esc(r.fmt_time(wf["time_completed"])) or "<b>running</b>"],
        ["user@host", r.esc(f'{wf["user"]}@{wf["host"]}')], ["run dir", r.esc(wf["rundir"])],
        ["tasks", str(total)]]
        + ([["record incomplete", f'<span class="refusal">{r.esc(wf["monitoring_incomplete"])}</span>']]
           if wf.get("monitoring_incomplete") else []))
    body = (f"<h1>Workflow {r.esc(wf['workflow_name'])}</h1>{_filters(conn, run_id, params, apps=apps)}"
            f'<div class="cards" id="states"></div>'
            f'<div class="grid"><div class="chart" id="chart-completed"></div>'
            f'<div class="chart" id="chart-queue"></div>'
            f'<div class="chart" id="chart-workers"></div><div class="chart" id="chart-blocks"></div></div>'
            f"<p class='note'>Drag on a chart to zoom into a time window (the server re-counts it in finer "
            f"steps); double-click to see the whole run.</p>"
            f'<div class="grid"><div id="wf-summary" data-swap>{summary}</div>'
            f'<div id="wf-apps" data-swap><h2>Apps</h2>{app_table}</div></div>')
    return r.page(f"Workflow {wf['workflow_name']}", body, live=_live(wf), run_id=run_id, kind="overview",
                  api=_api(run_id, "overview"))


@route(r"/workflow/([^/]+)/stream")
def stream_page(conn, params, run_id):
    run_id = unquote(run_id)
    wf = _workflow(conn, run_id)
    legend = r.legend({k: r.STATE_COLORS[k] for k in ("launched", "running", "exec_done", "memo_done", "failed")})
    legend = r.legend({k: r.STATE_COLORS[k] for k in ("launched", "running", "exec_done", "memo_done", "failed")})
    body = (f"<h1>Task stream</h1>{_filters(conn, run_id, params)}{legend}"
            f'<p class="note" id="stream-note"></p><div class="chart" id="chart-stream"></div>')
    return r.page("Task stream", body, live=_live(wf), run_id=run_id, kind="stream", api=_api(run_id, "stream"))


def _page_param(params) -> int:
    try:
        return max(0, min(int(params.get("page", ["0"])[0]), 10 ** 9))
    except ValueError:
        return 0


def _pager(page: int, total: int) -> str:
    pages = max(1, -(-total // q.PAGE_SIZE))
    prev = f'<a href="?page={page - 1}">&laquo; prev</a>' if page > 0 else ""
    nxt = f'<a href="?page={page + 1}">next &raquo;</a>' if page + 1 < pages else ""
    return f'<p class="pager">{prev} page {page + 1} of {pages} ({total} tasks) {nxt}</p>'


@route(r"/workflow/([^/]+)/task/")
def task_list(conn, params, run_id):
    run_id = unquote(run_id)
    wf = _workflow(conn, run_id)
    page = _page_param(params)
    total = q.task_count(conn, run_id)
    body = f"<h1>Tasks</h1>{_pager(page, total)}{_task_table(run_id, q.task_page(conn, run_id, page))}"
    return r.page("Tasks", body, live=_live(wf), run_id=run_id)


@route(r"/workflow/([^/]+)/app/([^/]+)")
def app_page(conn, params, run_id, app):
    run_id, app = unquote(run_id), unquote(app)
    wf = _workflow(conn, run_id)
    page = _page_param(params)
    total = q.task_count(conn, run_id, app)
    body = (f"<h1>App {r.esc(app)}</h1>{_pager(page, total)}"
            f"{_task_table(run_id, q.task_page(conn, run_id, page, app))}")
    return r.page(f"App {app}", body, live=_live(wf), run_id=run_id)


def _output_html(title: str, out: TryOutput) -> str:
    if out.refusal:
        return f"<h3>{title}</h3><p class='refusal' id='{title}-refused'>{r.esc(out.refusal)}</p>"
    text = out.text or ""
    return (f"<h3>{title} <span class='note'>{r.esc(out.source)}</span></h3>"
            f"<pre class='tail' id='{title}'>{r.esc(text) or '(empty)'}</pre>")


@route(r"/workflow/([^/]+)/task/(\d+)")
def task_page(conn, params, run_id, tid):
    run_id, task_id = unquote(run_id), parse_task_id(tid)
    wf = _workflow(conn, run_id)
    t = q.task(conn, run_id, task_id)
    if t is None:
        raise NotFound(f"No task {task_id} in workflow {run_id!r}.")
    base = r.link_workflow(run_id)
    deps = ", ".join(f'<a href="{base}task/{d}">{r.esc(d)}</a>'
                     for d in (t.get("task_depends") or "").split(",") if d)
    dependents = ", ".join(f'<a href="{base}task/{d}">{d}</a>' for d in q.dependents(conn, run_id, task_id))
    fields = [["state", r.chip(t["task_status_name"])], ["app", r.esc(t["task_func_name"])],
              ["depends on", deps or "-"], ["dependents", dependents or "-"]]
    for k in ("task_executor", "hostname", "task_time_invoked", "task_time_running", "task_time_returned",
              "task_fail_count", "task_fail_cost", "task_memoize", "task_hashsum",
              "task_inputs", "task_outputs", "task_stdout", "task_stderr"):
        if t.get(k) not in (None, ""):
            fields.append([k.replace("task_", "").replace("_", " "), r.esc(t[k])])
    tries = q.tries(conn, run_id, task_id)
    outputs = recorded(conn, run_id, task_id)
    tries_html = ""
    for i, tr in enumerate(tries):
        head = r.table(["", ""], [["executor", r.esc(tr["task_executor"])], ["host", r.esc(tr["hostname"])],
                                  ["block", r.esc(tr["block_id"])],
                                  ["launched", r.esc(r.fmt_time(tr["task_try_time_launched"]))],
                                  ["running", r.esc(r.fmt_time(tr["task_try_time_running"]))],
                                  ["returned", r.esc(r.fmt_time(tr["task_try_time_returned"]))]])
        failure = tr.get("task_fail_history") or ""
        tb = outputs.get((tr["try_id"], "traceback"))
        exc = (f"<h3>exception</h3><pre class='tail exc'>{r.esc(failure)}</pre>" if failure else "")
        if tb is not None and tb[5]:
            exc += f"<h3>traceback</h3><pre class='tail exc' id='traceback-{tr['try_id']}'>{r.esc(tb[5])}</pre>"
        outs = ""
        for stream in ("stderr", "stdout"):
            out = read_output(conn, wf, t, tr, stream, last=(i == len(tries) - 1), records=outputs)
            if out is not None:
                outs += _output_html(stream, out)
        tries_html += (f"<section class='try' id='try-{tr['try_id']}'><h2>Try {tr['try_id']}</h2>"
                       f"{head}{exc}{outs}</section>")
    if not tries:
        tries_html = "<p class='note'>No try yet (the task has not been launched).</p>"
    if t.get("task_fail_history") and not any(tr.get("task_fail_history") for tr in tries):
        tries_html += f"<h3>exception</h3><pre class='tail exc'>{r.esc(t['task_fail_history'])}</pre>"
    history = r.table(["state", "time", "try", "host"], (
        [r.chip(s["task_status_name"]), r.esc(r.fmt_time(s["timestamp"])), r.esc(s["try_id"]), r.esc(s["hostname"])]
        for s in q.status_history(conn, run_id, task_id)))
    samples = q.task_resources(conn, run_id, task_id)
    data = json.dumps(samples).replace("</", "<\\/")
    charts = ('<div class="grid"><div class="chart" id="chart-task-cpu"></div><div class="chart" id="chart-task-rss">'
              '</div><div class="chart" id="chart-task-io"></div></div>' if samples
              else "<p class='note'>No resource samples for this task.</p>")
    body = (f"<h1>Task {task_id}</h1>{r.table(['', ''], fields)}{tries_html}"
            f"<h2>Resource samples</h2><div id='resources'>{charts}</div>"
            f"<script type='application/json' data-samples>{data}</script>"
            f"<h2>Status history</h2>{history}")
    live = _live(wf) and t["task_status_name"] not in FINAL
    return r.page(f"Task {task_id}", body, live=live, run_id=run_id, kind="task", extra={"samples": samples})


@route(r"/workflow/([^/]+)/resource_usage")
def resource_usage(conn, params, run_id):
    run_id = unquote(run_id)
    wf = _workflow(conn, run_id)
    nodes = q.nodes(conn, run_id)
    node_html = ("<h2>Nodes</h2>" + r.table(
        ["host", "manager", "block", "cpus", "memory", "workers", "connected", "since", "last seen"], (
            [r.esc(n["hostname"]), r.esc(n["uid"]), r.esc(n["block_id"]), r.esc(n["cpu_count"]),
             r.esc(r.fmt_bytes(n["total_memory"])), r.esc(n["worker_count"]),
             "yes" if n["active"] else "no", r.esc(r.fmt_time(n["first"])), r.esc(r.fmt_time(n["timestamp"]))]
            for n in nodes))) if nodes else ""
    body = (f"<h1>Resources</h1>{_filters(conn, run_id, params)}"
            f'<label class="filters">group charts by <select id="res-by"><option value="app">app</option>'
            f'<option value="node">node</option></select></label>'
            f'<div class="grid"><div class="chart" id="chart-cpu"></div><div class="chart" id="chart-rss"></div>'
            f'<div class="chart" id="chart-io"></div></div>'
            f"<h2>Per app: each task's peak, to size resource requests</h2><div id='summary'></div>{node_html}")
    return r.page("Resources", body, live=_live(wf), run_id=run_id, kind="resources", api=_api(run_id, "resources"))


def _dag(conn, params, run_id: str, by: str):
    wf = _workflow(conn, run_id)
    colors = r.STATE_COLORS if by == "states" else {}
    body = (f"<h1>Task graph, coloured by {'app' if by == 'apps' else 'state'}</h1>"
            f"{_filters(conn, run_id, params, window=False)}{r.legend(colors) if colors else ''}"
            f'<p class="note" id="dag-note"></p><div class="chart" id="chart-dag"></div>')
    return r.page("DAG", body, live=_live(wf), run_id=run_id, kind="dag", api=_api(run_id, "dag"),
                  extra={"dagBy": by})


@route(r"/workflow/([^/]+)/dag_group_by_apps")
def dag_apps(conn, params, run_id):
    return _dag(conn, params, unquote(run_id), "apps")


@route(r"/workflow/([^/]+)/dag_group_by_states")
def dag_states(conn, params, run_id):
    return _dag(conn, params, unquote(run_id), "states")


def _fmt_s(v) -> str:
    return "" if v is None else f"{v:.2f} s"


@route(r"/compare")
def compare(conn, params):
    a, b = (params.get("a") or [""])[0], (params.get("b") or [""])[0]
    wa, wb = _workflow(conn, a), _workflow(conn, b)
    sa_, sb = q.run_summary(conn, a), q.run_summary(conn, b)
    rows = []
    for app in sorted(set(sa_) | set(sb)):
        x, y = sa_.get(app, {}), sb.get(app, {})
        mx, my = x.get("mean_s"), y.get("mean_s")
        change = ""
        if mx and my:
            pct = 100 * (my - mx) / mx
            change = f"<b>{pct:+.0f}%</b>" if abs(pct) >= 10 else f"{pct:+.0f}%"
        rows.append([r.esc(app)] + [r.esc(v.get(k, 0)) for v in (x, y) for k in ("tasks", "done", "cached", "failed")]
                    + [_fmt_s(mx), _fmt_s(my), change])
    heads = ["app"] + [f"{k} ({w})" for w in ("A", "B") for k in ("tasks", "ran", "from cache", "failed")] + \
        ["mean run time A", "mean run time B", "B vs A"]
    info: Dict[str, str] = {"A": a, "B": b}
    body = ("<h1>Compare runs</h1>" + r.table(["", "run", "began", "completed"], (
        [k, f'<a href="{r.link_workflow(rid)}">{r.esc(rid)}</a>', r.esc(r.fmt_time(w["time_began"])),
         r.esc(r.fmt_time(w["time_completed"]))] for (k, rid), w in zip(info.items(), (wa, wb)))) +
        "<h2>Per app</h2>" + r.table(heads, rows) +
        "<p class='note'>ran: executed in that run; from cache: answered by the memoizer or a checkpoint; "
        "B vs A: change of the mean running time (bold when 10% or more).</p>")
    return r.page("Compare runs", body, live=_live(wa) or _live(wb))
