"""One workflow for a laptop or a Slurm cluster: HTEX, a File output, a retry, app caching and
monitoring. Only the provider changes between the two.

``make_table`` (a bash app) writes a table of squares to a file; ``column_sum`` reads it once
the file exists (a dependency through the File) and is cached, so the second identical call
does not run; ``flaky`` fails on its first try and succeeds on the retry that
``Config(retries=2)`` allows. Everything is recorded in ``runinfo/monitoring.db``. From the
repository's root (files land in the current directory; give ``slurm`` to run on Slurm):

    .venv/bin/python examples/file_retry_cache.py            # LocalProvider on this machine
    .venv/bin/python examples/file_retry_cache.py slurm      # SlurmProvider, default partition

It ends by printing what monitoring recorded and the ``parsl-visualize`` command for the web view.
"""
import os
import sqlite3
import sys

import parsl
from parsl import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.executors import HighThroughputExecutor
from parsl.monitoring.monitoring import MonitoringHub
from parsl.providers import LocalProvider, SlurmProvider


def make_config(where: str) -> Config:
    if where == "slurm":
        # a batch job starts in runinfo/NNN/submit_scripts and runs your script's Python by its
        # absolute path: keep the venv and the files on a file system the nodes share
        provider = SlurmProvider(partition=None, walltime="00:10:00", exclusive=False,
                                 init_blocks=1, max_blocks=1)
    elif where == "local":
        provider = LocalProvider(init_blocks=1, max_blocks=1)
    else:
        sys.exit(f"usage: {sys.argv[0]} [local|slurm] (got {where!r})")
    return Config(
        executors=[HighThroughputExecutor(label="htex", max_workers_per_node=2, provider=provider)],
        retries=2,                                        # a failed task is tried up to twice more
        monitoring=MonitoringHub(resource_monitoring_interval=1),
    )


@bash_app(cache=True)
def make_table(n, outputs=()):
    return f"for i in $(seq 1 {n}); do echo $i $((i * i)); done > {outputs[0].filepath}"


@python_app(cache=True)
def column_sum(column, inputs=()):
    with open(inputs[0]) as f:
        return sum(int(line.split()[column]) for line in f)


@python_app
def flaky(marker):
    import os
    if not os.path.exists(marker):                        # the first try leaves a mark and fails
        open(marker, "w").close()
        raise ConnectionError("the service hiccuped")
    return "worked"


def main(where: str) -> None:
    here = os.path.abspath(".")                           # absolute paths: workers may start elsewhere
    marker = os.path.join(here, "flaky.marker")
    if os.path.exists(marker):
        os.remove(marker)
    with parsl.load(make_config(where)) as dfk:
        table = make_table(10, outputs=[File(os.path.join(here, "squares.txt"))])
        first = column_sum(1, inputs=[table.outputs[0]])
        again = column_sum(1, inputs=[table.outputs[0]])  # same key: served from the cache
        print("sum of squares 1..10:", first.result(), again.result())
        print("second call from the cache:", bool(again.task_record.get("from_memo")))
        retried = flaky(marker)
        print("flaky:", retried.result(), "after", retried.task_record["fail_count"], "failure(s)")
        run_id, run_dir = dfk.run_id, dfk.run_dir

    db = sqlite3.connect(os.path.join(os.path.dirname(run_dir), "monitoring.db"))
    for app, state, fails in db.execute(
            "SELECT task_func_name, task_status_name, task_fail_count FROM task WHERE run_id = ? "
            "ORDER BY task_id", (run_id,)):
        print(f"  {app:11} {state:10} failures: {fails}")
    tries = db.execute("SELECT COUNT(*) FROM try WHERE run_id = ?", (run_id,)).fetchone()[0]
    db.close()
    print("tries recorded:", tries)
    print("run directory:", run_dir)
    print("web view:", os.path.join(os.path.dirname(sys.executable), "parsl-visualize"),
          "sqlite:///" + os.path.join(os.path.dirname(run_dir), "monitoring.db"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "local")
