"""Server-rendered HTML of the web view: the page shell, tables, chips and legends.  The
charts are drawn in the browser by plotly.js from each page's JSON endpoint (``api``);
plotly.js and the dashboard's own script and style are served by parsl-visualize itself.

Every function returns a string; all text from the database goes through ``esc``.
"""
from __future__ import annotations

import html
import json
from typing import Dict, Iterable, Optional, Sequence
from urllib.parse import quote

STATE_COLORS = {
    "pending": "#b0b0b0", "launched": "#9ecae1", "running": "#3182bd", "running_ended": "#6baed6",
    "exec_done": "#31a354", "memo_done": "#74c476", "failed": "#de2d26", "dep_fail": "#fd8d3c",
    "fail_retryable": "#fecc5c", "joining": "#9e9ac8", "unknown": "#dddddd",
}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]

def esc(v) -> str:
    return "" if v is None else html.escape(str(v))


def fmt_time(v) -> str:
    if v is None:
        return ""
    s = str(v)
    return s[:23] if len(s) > 23 else s


def fmt_bytes(n) -> str:
    if n is None:
        return ""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def chip(state) -> str:
    s = state or "unknown"
    return f'<span class="chip" style="background:{STATE_COLORS.get(s, "#888")}">{esc(s)}</span>'


def link_workflow(run_id) -> str:
    return f"/workflow/{quote(str(run_id), safe='')}/"


def page(title: str, body: str, live: bool = False, run_id: Optional[str] = None, kind: str = "",
         api: Optional[str] = None, extra: Optional[dict] = None) -> str:
    """The HTML shell of every page: header, navigation, ``body``, and the dashboard script
    (plotly.js and ``dashboard.js``, both served by parsl-visualize: nothing from elsewhere).
    ``kind`` names the page's chart code in ``dashboard.js``, ``api`` its JSON endpoint."""
    nav = ""
    pv = {"kind": kind, "api": api, "colors": STATE_COLORS, "palette": PALETTE}
    if run_id is not None:
        base = link_workflow(run_id)
        pv["base"] = base
        nav = (f'<nav class="nav"><a href="{base}">Overview</a><a href="{base}stream">Task stream</a>'
               f'<a href="{base}task/">Tasks</a><a href="{base}resource_usage">Resources</a>'
               f'<a href="{base}dag_group_by_states">DAG by state</a><a href="{base}dag_group_by_apps">DAG by app</a>'
               f'</nav>')
    pv.update(extra or {})
    live_note = '<span class="live" id="live">live: updating while the workflow runs</span>' if live else \
        '<span class="live" id="live"></span>'
    data = json.dumps(pv).replace("</", "<\\/")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{esc(title)} - parsl-visualize</title>"
            f'<link rel="stylesheet" href="/static/dashboard.css"><script>window.PV={data};</script>'
            f'<script src="/static/plotly.min.js"></script><script src="/static/dashboard.js"></script>'
            f"</head><body data-live=\"{1 if live else 0}\"><header><a href='/'>parsl-visualize</a>"
            f"<span>{esc(title)}</span>{live_note}</header>"
            f'<main data-live="{1 if live else 0}">{nav}{body}</main></body></html>')


def table(headers: Optional[Sequence[str]], rows: Iterable[Sequence[str]], raw: bool = True) -> str:
    if not headers or not any(headers):
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" if i else f"<th>{c}</th>" for i, c in enumerate(r))
                       + "</tr>" for r in rows)
        return f"<table><tbody>{body}</tbody></table>"
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def legend(colors: Dict[str, str]) -> str:
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{c}"></i>{esc(k)}</span>' for k, c in colors.items()) + "</div>"


def filter_bar(params: Dict[str, list], apps: Sequence[str], states: Sequence[str], executors: Sequence[str],
               window: bool = True) -> str:
    """The filter form (a GET form: a filtered view is a link that can be shared)."""
    def sel(name, label, options):
        cur = (params.get(name) or [""])[0]
        opts = "".join(f'<option value="{esc(o)}"{" selected" if o == cur else ""}>{esc(o)}</option>' for o in options)
        return (f'<label>{label} <select name="{name}" onchange="this.form.submit()">'
                f'<option value="">all</option>{opts}</select></label>')
    t0 = esc((params.get("t0") or [""])[0])
    t1 = esc((params.get("t1") or [""])[0])
    times = (f'<label>from <input name="t0" value="{t0}" placeholder="YYYY-MM-DD HH:MM:SS" size=19></label>'
             f'<label>to <input name="t1" value="{t1}" size=19></label>') if window else ""
    return (f'<form class="filters" method="get">{sel("app", "app", apps)}{sel("state", "state", states)}'
            f'{sel("executor", "executor", executors)}{times}<button>apply</button>'
            f'<a href="?">clear</a><span class="note" id="window"></span></form>')
