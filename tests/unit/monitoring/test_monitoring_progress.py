"""The terminal progress line (pure formatting, and the view's thread ownership)."""
import io
import threading
import types

from parsl._monitoring.progress import ProgressView, format_line
from parsl.dataflow.states import States
from parsl.monitoring.monitoring import MonitoringHub


def test_line_shows_bar_and_states_in_lifecycle_order():
    line = format_line({"exec_done": 6, "pending": 2, "running": 1, "failed": 1, "launched": 0}, width=10)
    assert line.startswith("[#######...] 7/10 finished")
    assert line.index("pending 2") < line.index("running 1") < line.index("done 6") < line.index("failed 1")
    assert "launched" not in line


def test_hub_counts_are_the_kernels_own_tally():
    hub = MonitoringHub()
    assert hub.task_counts() == {}
    hub._dfk = types.SimpleNamespace(task_state_counts={States.pending: 1, States.launched: 0,
                                                        States.exec_done: 2})
    assert hub.task_counts() == {"pending": 1, "exec_done": 2}


def test_view_into_a_file_writes_whole_lines_and_a_final_one():
    out = io.StringIO()
    counts = {"pending": 3}
    view = ProgressView(counts, stream=out, period=0.01, quiet_period=0).start()
    counts.update(pending=0, exec_done=3)
    view.close()
    view.close()
    assert not [t for t in threading.enumerate() if t.name == "parsl-progress"]
    lines = out.getvalue().splitlines()
    assert lines and lines[-1].startswith("[") and "3/3 finished" in lines[-1]
    assert "\r" not in out.getvalue()
