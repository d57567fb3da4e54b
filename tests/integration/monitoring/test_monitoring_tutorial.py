"""The tutorial's monitoring section (seed notebook, "Monitoring" to the end), run as written.

The cells are read from the notebook when the test runs.  The fast variant only shortens
``random.randint(1,15)`` second sleeps to 1-2 s; the ``slow`` variant runs them unchanged.
Each ``fig.show()`` is captured instead of opening a browser.
"""

import pytest

pytestmark = pytest.mark.htex

# The cells themselves come from the notebook at run time (tests/seed_notebook.py).
PRELUDE = "from parsl.channels import LocalChannel\n"   # imported by an earlier cell of the notebook


def _section_cells():
    from seed_notebook import cells_from
    cells = cells_from("MonitoringHub(", "conn.close()")
    return cells[0], cells[1:]


def run_section(monkeypatch, shorten: bool):
    pytest.importorskip("pandas")
    pytest.importorskip("plotly.figure_factory")
    import plotly.basedatatypes
    shown = []
    monkeypatch.setattr(plotly.basedatatypes.BaseFigure, "show", lambda self, *a, **k: shown.append(self))
    ns = {}
    config_cell, later_cells = _section_cells()
    run_cell = config_cell
    if shorten:
        run_cell = run_cell.replace("random.randint(1,15)", "random.randint(1,2)")
        assert run_cell != config_cell
    exec(PRELUDE, ns)
    exec(run_cell, ns)
    for cell in later_cells:
        exec(cell, ns)
    return ns, shown


def check(ns, shown):
    df_task, df_resource, df_workflow = ns["df_task"], ns["df_resource"], ns["df_workflow"]
    assert len(df_workflow) == 1
    assert sorted(df_task["task_id"]) == [0, 1, 2, 3, 4]
    for col in ("task_time_submitted", "task_time_running", "task_time_returned", "task_func_name"):
        assert df_task[col].notna().all(), col
    assert set(df_task["task_func_name"]) == {"slow_double"}
    # every task ran >= 1 s with 1 s sampling: periodic samples plus a final one per task
    assert len(df_resource) >= 5
    assert set(df_resource["task_id"]) == {0, 1, 2, 3, 4}
    assert df_resource["psutil_process_cpu_percent"].notna().all()
    assert df_resource["psutil_process_memory_percent"].gt(0).all()
    assert len(shown) == 2
    gantt, usage = shown
    assert len(gantt.data) >= 2
    assert len(usage.data) == 2 and len(usage.data[0].x) == len(df_resource)


def test_tutorial_monitoring_section(monkeypatch):
    check(*run_section(monkeypatch, shorten=True))


@pytest.mark.slow
def test_tutorial_monitoring_section_unchanged(monkeypatch):
    check(*run_section(monkeypatch, shorten=False))
