"""A fault in monitoring never changes a task's outcome."""
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.monitoring import MonitoringHub
from parsl.providers import LocalProvider


def test_a_failing_end_of_task_sample_leaves_results_alone(tmp_path):
    def break_monitoring_then(value):
        # Runs in the HTEX worker: from now on its end-of-task sample raises.
        from parsl._sampling.sampler import TaskResourceMonitor

        def broken(self, executor_task_id):
            raise RuntimeError("a monitoring bug")
        TaskResourceMonitor.task_end = broken
        return value

    def fails():
        raise ValueError("the app's own error")

    app = parsl.python_app(break_monitoring_then)
    failing = parsl.python_app(fails)
    parsl.load(Config(executors=[HighThroughputExecutor(address="127.0.0.1", max_workers_per_node=1,
                                                        provider=LocalProvider(init_blocks=1, max_blocks=1))],
                      run_dir=str(tmp_path / "runinfo"),
                      monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{tmp_path}/m.db",
                                               resource_monitoring_interval=1)))
    try:
        assert app(42).result() == 42
        assert app(7).result() == 7
        err = failing().exception()
        assert isinstance(err, ValueError) and "own error" in str(err)
    finally:
        parsl.dfk().cleanup()
        parsl.clear()
