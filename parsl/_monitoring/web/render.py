"""Server-rendered HTML and inline SVG charts for the web view (no JS libraries, no CDN).

Every function returns a string; all text from the database goes through ``esc``.
"""
from __future__ import annotations

import datetime
import html
from typing import Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import quote

STATE_COLORS = {
    "pending": "#b0b0b0", "launched": "#9ecae1", "running": "#3182bd", "running_ended": "#6baed6",
    "exec_done": "#31a354", "memo_done": "#74c476", "failed": "#de2d26", "dep_fail": "#fd8d3c",
    "fail_retryable": "#fecc5c", "joining": "#9e9ac8", "unknown": "#dddddd",
}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#2d3e50;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:baseline}
header a{color:#fff;text-decoration:none;font-weight:600}
header .live{margin-left:auto;font-size:12px;opacity:.8}
main{padding:16px 20px;max-width:1400px}
h1{font-size:20px;margin:8px 0 12px} h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;white-space:nowrap}
th{background:#f0f0f0} tr:hover td{background:#f5f9ff}
.cards{display:flex;gap:10px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:90px}
.card b{display:block;font-size:20px}
.chip{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.nav a{margin-right:14px}
.note{color:#666;font-size:12px}
svg{background:#fff;border:1px solid #ddd}
.legend span{margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.pager a{margin:0 6px}
pre.tail{background:#fff;border:1px solid #ddd;padding:8px;font-size:12px;max-height:320px;overflow:auto;
white-space:pre-wrap;max-width:1200px}
"""

# While a workflow runs, re-fetch the page every few seconds and swap the content in
# place (keeps scroll position; no full reload flicker).
# Output tails (pre.tail) open scrolled to their end: the last lines are the ones that
# say why a task failed.
LIVE_JS = """
function tailEnds(){document.querySelectorAll('pre.tail').forEach(function(e){e.scrollTop=e.scrollHeight;});}
tailEnds();
(function(){var m=document.querySelector('main');if(!m||m.dataset.live!=='1')return;
setInterval(function(){fetch(location.href,{cache:'no-store'}).then(function(r){return r.text()})
.then(function(t){var d=new DOMParser().parseFromString(t,'text/html');var n=d.querySelector('main');
if(n&&n.innerHTML!==m.innerHTML){m.innerHTML=n.innerHTML;tailEnds();}if(n){m.dataset.live=n.dataset.live;}})
.catch(function(){});},3000);})();
"""


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


def page(title: str, body: str, live: bool = False, run_id: Optional[str] = None) -> str:
    nav = ""
    if run_id is not None:
        base = link_workflow(run_id)
        nav = (f'<nav class="nav"><a href="{base}">Summary</a><a href="{base}task/">Tasks</a>'
               f'<a href="{base}resource_usage">Resource usage</a><a href="{base}dag_group_by_apps">DAG by app</a>'
               f'<a href="{base}dag_group_by_states">DAG by state</a></nav>')
    live_note = '<span class="live">live: refreshing while the workflow runs</span>' if live else ""
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{esc(title)} - parsl-visualize</title>"
            f"<style>{CSS}</style></head><body><header><a href='/'>parsl-visualize</a>"
            f"<span>{esc(title)}</span>{live_note}</header>"
            f'<main data-live="{1 if live else 0}">{nav}{body}</main><script>{LIVE_JS}</script></body></html>')


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


def _axis_time_labels(t0: datetime.datetime, t1: datetime.datetime, x0: float, width: float, y: float) -> str:
    out = []
    span = max((t1 - t0).total_seconds(), 1e-6)
    for i in range(6):
        frac = i / 5
        t = t0 + datetime.timedelta(seconds=span * frac)
        out.append(f'<text x="{x0 + width * frac:.1f}" y="{y}" font-size="10" text-anchor="middle">'
                   f'{t.strftime("%H:%M:%S")}</text>')
    return "".join(out)


def gantt(rows: List[dict], run_id: str, now: datetime.datetime, width: int = 1100) -> str:
    """Pending (invoked to running) in grey, then running to returned coloured by state."""
    rows = [r for r in rows if r["task_time_invoked"] is not None]
    if not rows:
        return '<p class="note">No tasks yet.</p>'
    t0 = min(r["task_time_invoked"] for r in rows)
    last = max(max(r["task_time_returned"] or t0, r["task_time_running"] or t0, r["task_time_invoked"])
               for r in rows)
    # Unfinished tasks run "until now" while the run is live; in a run that stopped long
    # ago without finishing (a crash) they end at the last thing recorded.
    now = now if (now - last).total_seconds() < 600 else last
    t1 = max(last, now if any(r["task_time_returned"] is None for r in rows) else last)
    span = max((t1 - t0).total_seconds(), 1e-6)
    left, plot_w = 70, width - 90
    bar = min(10.0, max(1.0, 700 / len(rows)))
    height = int(len(rows) * bar + 40)

    def x(t):
        return left + plot_w * (t - t0).total_seconds() / span

    base = link_workflow(run_id)
    parts = [f'<svg id="gantt" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for i, r in enumerate(rows):
        y = 10 + i * bar
        inv, run, ret = r["task_time_invoked"], r["task_time_running"], r["task_time_returned"]
        state = r["task_status_name"] or "unknown"
        end = ret or now
        start_run = run or (ret if ret else None)
        title = esc(f"task {r['task_id']} {r['task_func_name']} ({state})")
        parts.append(f'<a href="{base}task/{r["task_id"]}"><g><title>{title}</title>')
        pend_end = start_run or end
        parts.append(f'<rect x="{x(inv):.1f}" y="{y:.1f}" width="{max(0.5, x(pend_end) - x(inv)):.1f}" '
                     f'height="{max(bar - 0.5, 0.8):.1f}" fill="{STATE_COLORS["pending"]}"/>')
        if start_run is not None:
            parts.append(f'<rect x="{x(start_run):.1f}" y="{y:.1f}" width="{max(0.8, x(end) - x(start_run)):.1f}" '
                         f'height="{max(bar - 0.5, 0.8):.1f}" fill="{STATE_COLORS.get(state, "#888")}"/>')
        parts.append("</g></a>")
    parts.append(_axis_time_labels(t0, t1, left, plot_w, height - 8))
    parts.append('<text x="4" y="14" font-size="10">task</text></svg>')
    return "".join(parts)


def line_chart(points: List[Tuple[datetime.datetime, float]], title: str, unit: str = "",
               width: int = 520, height: int = 220, fmt=None) -> str:
    points = [(t, v) for t, v in points if t is not None and v is not None]
    if not points:
        return f'<p class="note">{esc(title)}: no samples.</p>'
    fmt = fmt or (lambda v: f"{v:.1f}{unit}")
    t0, t1 = points[0][0], points[-1][0]
    span = max((t1 - t0).total_seconds(), 1e-6)
    vmax = max(v for _, v in points) or 1.0
    left, top, pw, ph = 60, 24, width - 80, height - 54
    coords = " ".join(f"{left + pw * (t - t0).total_seconds() / span:.1f},{top + ph - ph * v / vmax:.1f}"
                      for t, v in points)
    dots = "".join(f'<circle cx="{left + pw * (t - t0).total_seconds() / span:.1f}" '
                   f'cy="{top + ph - ph * v / vmax:.1f}" r="2.5" fill="#3182bd"><title>{esc(fmt(v))}</title></circle>'
                   for t, v in points[:300])
    return (f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f'<text x="{width / 2}" y="15" font-size="12" text-anchor="middle">{esc(title)}</text>'
            f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#999"/>'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#999"/>'
            f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">{esc(fmt(vmax))}</text>'
            f'<text x="{left - 4}" y="{top + ph}" font-size="10" text-anchor="end">0</text>'
            f'<polyline fill="none" stroke="#3182bd" stroke-width="1.5" points="{coords}"/>{dots}'
            + _axis_time_labels(t0, t1, left, pw, height - 8) + "</svg>")


def histogram(values: List[float], title: str, fmt, bins: int = 20, width: int = 520, height: int = 240) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return f'<p class="note">{esc(title)}: no samples.</p>'
    lo, hi = min(values), max(values)
    w = (hi - lo) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / w))] += 1
    left, top, pw, ph = 50, 24, width - 70, height - 60
    cmax = max(counts) or 1
    bw = pw / bins
    rects = "".join(
        f'<rect x="{left + i * bw:.1f}" y="{top + ph - ph * c / cmax:.1f}" width="{bw - 1:.1f}" '
        f'height="{ph * c / cmax:.1f}" fill="#6baed6"><title>{esc(fmt(lo + i * w))} - {esc(fmt(lo + (i + 1) * w))}: '
        f'{c} tasks</title></rect>' for i, c in enumerate(counts))
    return (f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f'<text x="{width / 2}" y="15" font-size="12" text-anchor="middle">{esc(title)}</text>{rects}'
            f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#999"/>'
            f'<text x="{left}" y="{top + ph + 14}" font-size="10">{esc(fmt(lo))}</text>'
            f'<text x="{left + pw}" y="{top + ph + 14}" font-size="10" text-anchor="end">{esc(fmt(hi))}</text>'
            f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">{cmax}</text>'
            f'<text x="{width / 2}" y="{height - 4}" font-size="10" text-anchor="middle">tasks per bin, '
            f'{len(values)} tasks</text></svg>')


def dag(nodes: Dict[int, Tuple[str, str]], edges: List[Tuple[int, int]], color_of, run_id: Optional[str],
        label_of=None, width: int = 1100) -> str:
    """Layered drawing: a node's column is its longest dependency chain; rows fill each column."""
    depth: Dict[int, int] = {}
    parents: Dict[int, List[int]] = {n: [] for n in nodes}
    for a, b in edges:
        if a in nodes and b in nodes:
            parents[b].append(a)
    for n in sorted(nodes):        # ids grow with submission, so parents come first
        depth[n] = 1 + max((depth.get(p, 0) for p in parents[n] if p < n or p in depth), default=-1)
    columns: Dict[int, List[int]] = {}
    for n, d in depth.items():
        columns.setdefault(d, []).append(n)
    ncols = max(columns) + 1 if columns else 1
    nrows = max((len(c) for c in columns.values()), default=1)
    colw = max(40, min(160, (width - 40) / ncols))
    rowh = max(8, min(40, 1400 / max(nrows, 1)))
    r = max(3, min(12, rowh / 3))
    pos = {}
    for d, col in columns.items():
        for i, n in enumerate(col):
            pos[n] = (20 + colw * d + colw / 2, 20 + rowh * i + rowh / 2)
    height = int(40 + rowh * nrows)
    svg_w = int(max(width, 40 + colw * ncols))
    parts = [f'<svg id="dag" width="{svg_w}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for a, b in edges:
        if a in pos and b in pos:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#bbb"/>')
    base = link_workflow(run_id) if run_id is not None else None
    for n, (x, y) in pos.items():
        label = label_of(n) if label_of else f"task {n}: {nodes[n][0]} ({nodes[n][1]})"
        circle = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{color_of(n)}" stroke="#333" '
                  f'stroke-width="0.5"><title>{esc(label)}</title></circle>')
        parts.append(f'<a href="{base}task/{n}">{circle}</a>' if base and not label_of else circle)
    parts.append("</svg>")
    return "".join(parts)
