"""The tutorial's workflows, end to end, on Chervil: what ``scripts/demo.sh`` runs.

Sections, each a workflow of its own, all recorded in one monitoring database:

1. several sites: threads for a bash app that writes files, a pilot job (HTEX) for one that
   joins them, either for the sum: dependencies through ``File`` outputs;
2. elasticity: blocks that follow the load (parallelism 0.1, then 1);
3. app caching: the same call twice, the second served from the cache;
4. checkpointing at each task's end, then a restart that reuses every result;
5. retries: a task that fails once and succeeds on its retry, and one that keeps failing;
6. monitoring read back from the database with pandas.

It writes everything into the current directory (``runinfo/``, the files of section 1),
and ends with where the results, logs and database are and the command that opens the web
view. From the repository's root:

    .venv/bin/python examples/tutorial_workflows.py            # about a minute
    .venv/bin/python examples/tutorial_workflows.py --quick    # shorter sleeps
"""
import argparse
import glob
import os
import sqlite3
import sys
import time

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.monitoring.monitoring import MonitoringHub
from parsl.providers import LocalProvider
from parsl.utils import get_all_checkpoints

SLEEP = 2.0


def pilot(label, **provider_kw):
    return HighThroughputExecutor(label=label, max_workers_per_node=1, address="127.0.0.1",
                                  provider=LocalProvider(init_blocks=1, **provider_kw))


def config(name, executors, **kw):
    """Every section is monitored, into the same runinfo/monitoring.db, under its own name."""
    return Config(executors=executors, monitoring=MonitoringHub(workflow_name=name, resource_monitoring_interval=1),
                  **kw)


def section(title):
    print(f"\n=== {title} ===", flush=True)


def several_sites():
    section("1. Several sites: threads for 'generate', a pilot job for 'concat', either for 'total'")
    parsl.load(config("1-several-sites", [ThreadPoolExecutor(max_threads=4, label="local_threads"),
                                          pilot("local_htex", max_blocks=1)]))

    @bash_app(executors=["local_threads"])
    def generate(outputs=()):
        return f"echo $(( RANDOM )) > {outputs[0].filepath}"

    @bash_app(executors=["local_htex"])
    def concat(inputs=(), outputs=()):
        return "cat {} > {}".format(" ".join(f.filepath for f in inputs), outputs[0].filepath)

    @python_app
    def total(inputs=()):
        with open(inputs[0]) as f:
            return sum(int(line) for line in f)

    numbers = [generate(outputs=[File(f"random-{i}.txt")]) for i in range(5)]
    joined = concat(inputs=[n.outputs[0] for n in numbers], outputs=[File("all.txt")])
    print("sum of five random numbers:", total(inputs=[joined.outputs[0]]).result())
    parsl.dfk().cleanup()


@python_app
def where_am_i(seconds):
    import os
    import time
    time.sleep(seconds)
    return os.getpid()


def elasticity():
    for parallelism in (0.1, 1):
        section(f"2. Elasticity: 10 tasks, one worker per block, max 2 blocks, parallelism={parallelism}")
        parsl.load(config(f"2-elasticity-p{parallelism}", [pilot("local_htex", max_blocks=2, parallelism=parallelism)],
                          strategy_period=0.5))
        pids = [where_am_i(SLEEP / 2) for _ in range(10)]
        seen = sorted({p.result() for p in pids})
        print(f"tasks ran in {len(seen)} worker process(es): {seen}")
        parsl.dfk().cleanup()


def caching():
    section("3. App caching: the same call twice returns at once")
    parsl.load(config("3-caching", [pilot("htex_Local", max_blocks=1)]))

    @python_app(cache=True)
    def slow_message(message):
        import time
        time.sleep(SLEEP)
        return message

    for msg in ("Hello World", "Hello World", "Hello World!"):
        t = time.perf_counter()
        out = slow_message(msg).result()
        print(f"{out!r} in {time.perf_counter() - t:.2f} s")
    parsl.dfk().cleanup()


@python_app(cache=True)
def slow_double(x):
    import time
    time.sleep(SLEEP / 2)
    return x * 2


def checkpointing():
    section("4. Checkpointing at each task exit, then a restart that reuses every result")
    parsl.load(config("4-checkpoint-write", [pilot("local_htex", max_blocks=1)], checkpoint_mode="task_exit"))
    t = time.perf_counter()
    print([slow_double(i).result() for i in range(5)], f"in {time.perf_counter() - t:.2f} s")
    parsl.dfk().cleanup()

    parsl.load(config("4-checkpoint-restart", [pilot("local_htex", max_blocks=1)],
                      checkpoint_files=get_all_checkpoints()))
    t = time.perf_counter()
    print([slow_double(i).result() for i in range(5)], f"in {time.perf_counter() - t:.2f} s (from checkpoints)")
    parsl.dfk().cleanup()


def retries():
    section("5. Retries: a task that fails once and then succeeds, and one that always fails")
    parsl.load(config("5-retries", [pilot("local_htex", max_blocks=1)], retries=2))

    @python_app
    def flaky(marker):
        import os
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise ConnectionError("first try fails (a stand-in for a transient error)")
        return "succeeded on its retry"

    @python_app
    def broken():
        raise ValueError("this one fails on every try")

    ok, bad = flaky(os.path.abspath("flaky.marker")), broken()
    print(f"flaky: {ok.result()} (failures: {ok.task_record['fail_count']})")
    print(f"broken: {bad.exception()!r} (tries: {bad.task_record['fail_count']})")
    parsl.dfk().cleanup()


def monitoring():
    section("6. Monitoring: every section above is in runinfo/monitoring.db; read with pandas")
    try:
        import pandas as pd
    except ImportError:
        print("(pandas not installed: skipping the tables)")
        return
    with sqlite3.connect("runinfo/monitoring.db") as conn:
        wf = pd.read_sql_query("SELECT run_id, workflow_name, tasks_completed_count, tasks_failed_count "
                               "FROM workflow ORDER BY time_began", conn)
        tries = pd.read_sql_query("SELECT t.task_func_name, COUNT(*) AS tries FROM try y JOIN task t "
                                  "ON t.run_id = y.run_id AND t.task_id = y.task_id GROUP BY t.run_id, t.task_id",
                                  conn)
        res = pd.read_sql_query("SELECT COUNT(*) AS samples FROM resource", conn)
    print(wf[["workflow_name", "tasks_completed_count", "tasks_failed_count"]].to_string(index=False))
    print("tasks tried more than once:", ", ".join(sorted(set(tries[tries.tries > 1].task_func_name))))
    print("resource samples:", int(res.samples.iloc[0]))


def summary():
    here = os.getcwd()
    db = os.path.join(here, "runinfo", "monitoring.db")
    runs = sorted(glob.glob(os.path.join(here, "runinfo", "[0-9][0-9][0-9]")))
    visualize = os.path.join(os.path.dirname(sys.executable), "parsl-visualize")
    print("\n=== Where everything is ===")
    print(f"results:   {here}  (random-*.txt, all.txt from section 1)")
    print(f"logs:      {os.path.join(here, 'runinfo')}/NNN/parsl.log  (one run directory per workflow: "
          f"{', '.join(os.path.basename(r) for r in runs)})")
    print(f"database:  {db}")
    print("web view:  run the next line, then open http://127.0.0.1:8080")
    print(f"  {visualize} sqlite:///{db}")


def main():
    global SLEEP
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="shorter sleeps")
    args = p.parse_args()
    if args.quick:
        SLEEP = 0.5
    several_sites()
    elasticity()
    caching()
    checkpointing()
    retries()
    monitoring()
    summary()


if __name__ == "__main__":
    main()
