"""The tutorial's monitoring section (seed notebook, "Monitoring" to the end), run as written.

The cells are copied verbatim from the notebook.  The fast variant only shortens
``random.randint(1,15)`` second sleeps to 1-2 s; the ``slow`` variant runs them unchanged.
Each ``fig.show()`` is captured instead of opening a browser.
"""
import re

import pytest

pytestmark = pytest.mark.htex

PRELUDE = """\
from parsl.channels import LocalChannel
"""

CELL_CONFIG_AND_RUN = """\
import parsl
from parsl import python_app
from parsl.monitoring.monitoring import MonitoringHub
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider
from parsl.addresses import address_by_hostname

import logging

config = Config(
    executors=[
        HighThroughputExecutor(
            label="local_htex",
            address=address_by_hostname(),
            max_workers=1,
            provider=LocalProvider(
                channel=LocalChannel(),
                init_blocks=1,
                max_blocks=1,
            ),
            
        )
    ],
    monitoring=MonitoringHub(
        hub_address=address_by_hostname(),
        hub_port=6553,
        resource_monitoring_interval=1,
    )
)

parsl.load(config)

# Run a simple workflow
@python_app(cache=True)
def slow_double(x):
    import time
    import random
    time.sleep(random.randint(1,15))
    return x * 2

d = []
for i in range(5):
    d.append(slow_double(i))

# wait for results
print([d[i].result() for i in range(5)])

parsl.clear()
"""

CELLS_PANDAS = [
    """\
import sqlite3
import pandas as pd

conn = sqlite3.connect('monitoring.db')
""",
    """\
df_workflow = pd.read_sql_query('SELECT * from workflow', conn)
df_workflow
""",
    """\
run_id = df_workflow['run_id'].iloc[-1]
df_task = pd.read_sql_query('SELECT * from task where run_id="%s"' % run_id, conn)
df_task
""",
    """\
df_resource = pd.read_sql_query('SELECT * from resource where run_id="%s"' % run_id, conn)
df_resource
""",
]

CELLS_PLOTLY = [
    """\
import plotly.figure_factory as ff
import plotly.graph_objs as go

parsl_tasks = []
for i, task in df_task.iterrows():
    time_running, time_returned = task['task_time_running'], task['task_time_returned']
    if task['task_time_returned'] is None:
        time_returned = datetime.datetime.now()
        if time_completed is not None:
            time_returned = time_completed
    if task['task_time_running'] is None:
        time_running = task['task_time_submitted']
    description = "Task ID: {}, app: {}".format(task['task_id'], task['task_func_name'])
    dic1 = dict(Task=description, Start=task['task_time_submitted'],
                Finish=time_running, Resource="Pending")
    dic2 = dict(Task=description, Start=time_running,
                Finish=time_returned, Resource="Running")
    parsl_tasks.extend([dic1, dic2])
colors = {'Pending': 'rgb(168, 168, 168)', 'Running': 'rgb(0, 0, 255)'}
fig = ff.create_gantt(parsl_tasks, title="", colors=colors, group_tasks=True, show_colorbar=True, index_col='Resource')
fig['layout']['yaxis']['title'] = 'Task'
fig['layout']['yaxis']['showticklabels'] = False
fig['layout']['xaxis']['title'] = 'Time'

fig.show()
""",
    """\
from plotly.subplots import make_subplots
import plotly.graph_objects as go

fig = make_subplots(rows=1, cols=2, subplot_titles=("CPU", "Memory"))

fig.add_trace(
    go.Scatter(
        x=df_resource['timestamp'], 
        y=df_resource['psutil_process_cpu_percent']),
    row=1, col=1
)

fig.add_trace(
    go.Scatter(
        x=df_resource['timestamp'], 
        y=df_resource['psutil_process_memory_percent']),
    row=1, col=2
)

xaxis = dict(tickformat='%m-%d\\n%H:%M:%S', autorange=True, title='Time')
yaxis = dict(title="Utilization (X)")

fig.update_layout(height=600, width=800, xaxis=xaxis, showlegend=False)
fig.update_yaxes(range=[0, 100])

fig.show()
""",
    """\
conn.close()
""",
]


def run_section(monkeypatch, shorten: bool):
    pytest.importorskip("pandas")
    pytest.importorskip("plotly.figure_factory")
    import plotly.basedatatypes
    shown = []
    monkeypatch.setattr(plotly.basedatatypes.BaseFigure, "show", lambda self, *a, **k: shown.append(self))
    ns = {}
    run_cell = CELL_CONFIG_AND_RUN
    if shorten:
        run_cell = run_cell.replace("random.randint(1,15)", "random.randint(1,2)")
        assert run_cell != CELL_CONFIG_AND_RUN
    exec(PRELUDE, ns)
    exec(run_cell, ns)
    for cell in CELLS_PANDAS + CELLS_PLOTLY:
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
