"""The dashboard's aggregates agree with the rows they summarise (a small synthetic run)."""
import datetime
import os
import sqlite3
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from monitoring_synthetic_db import make

    from parsl._monitoring.web.store import open_read_engine
    db = tmp_path_factory.mktemp("series") / "m.db"
    make(str(db), 400, run_id="r")
    engine = open_read_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        yield conn, sqlite3.connect(db)
    engine.dispose()


def _window(conn):
    from parsl._monitoring.web import queries as q
    from parsl._monitoring.web import series as s
    t0, t1 = s.run_span(conn, "r", q.workflow(conn, "r"))
    return s.Window.over(t0, t1)


def test_flow_counts_every_finished_task_once(run):
    from parsl._monitoring.web import series as s
    conn, raw = run
    flow = s.task_flow(conn, "r", s.Filters(), _window(conn))
    done = raw.execute("select count(*) from task where task_status_name = 'exec_done'").fetchone()[0]
    failed = raw.execute("select count(*) from task where task_status_name = 'failed'").fetchone()[0]
    assert sum(flow["completed"]) == done == flow["completed_total"][-1]
    assert sum(flow["failed"]) == failed
    assert flow["running"][-1] == 0 and flow["queued"][-1] == 0       # a finished run
    assert 0 < max(flow["running"]) <= 400


def test_running_at_a_moment_matches_the_tries(run):
    from parsl._monitoring.web import series as s
    conn, raw = run
    w = _window(conn)
    flow = s.task_flow(conn, "r", s.Filters(), w)
    b = max(range(w.n), key=lambda i: flow["running"][i])
    edge = s.fmt(w.t0 + datetime.timedelta(seconds=(b + 1) * w.width))
    expect = raw.execute('select count(*) from "try" where task_try_time_running < ? and task_try_time_returned >= ?',
                         (edge, edge)).fetchone()[0]
    assert abs(flow["running"][b] - expect) <= 2       # bucket edges: a try ending exactly there


def test_filters_narrow_the_counts(run):
    from parsl._monitoring.web import series as s
    conn, raw = run
    flow = s.task_flow(conn, "r", s.Filters(app="analyze"), _window(conn))
    done = raw.execute("select count(*) from task where task_status_name = 'exec_done'"
                       " and task_func_name = 'analyze'").fetchone()[0]
    assert sum(flow["completed"]) == done


def test_stream_bars_never_overlap_on_a_lane(run):
    from parsl._monitoring.web import series as s
    conn, _ = run
    w = _window(conn)
    st = s.stream(conn, "r", s.Filters(), w, w.t1)
    assert st["mode"] == "bars" and len(st["bars"]) == 400
    lanes = {}
    for b in st["bars"]:
        lanes.setdefault((b["block"], b["lane"]), []).append((b["launched"] or b["running"], b["end"]))
    for spans in lanes.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_app_graph_counts_dependencies_exactly_when_small(run):
    from parsl._monitoring.web import graphs
    from parsl._monitoring.web import series as s
    conn, raw = run
    app_of = dict(raw.execute("select task_id, task_func_name from task"))
    expect = {}
    for app, deps in raw.execute("select task_func_name, task_depends from task where task_depends is not null"):
        for d in filter(None, deps.split(",")):
            expect[(app_of[int(d)], app)] = expect.get((app_of[int(d)], app), 0) + 1
    g = graphs.app_graph(conn, "r", s.Filters())
    assert {(e["from"], e["to"]): e["count"] for e in g["edges"]} == expect
    assert sum(n["total"] for n in g["nodes"]) == 400
