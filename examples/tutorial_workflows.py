"""The tutorial's workflows, end to end, on Chervil.

Sections: several sites in one workflow (threads + a pilot-job executor), elasticity
(blocks that follow the load), app caching, checkpointing and restart, and monitoring
read back from ``monitoring.db`` with pandas.

    python examples/tutorial_workflows.py            # about a minute
    python examples/tutorial_workflows.py --quick    # shorter sleeps
"""
import argparse
import os
import sqlite3
import time

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.executors import HighThroughputExecutor
from parsl.executors.threads import ThreadPoolExecutor
from parsl.providers import LocalProvider
from parsl.utils import get_all_checkpoints

SLEEP = 2.0


def pilot(label, **provider_kw):
    return HighThroughputExecutor(label=label, max_workers_per_node=1, address="127.0.0.1",
                                  provider=LocalProvider(init_blocks=1, **provider_kw))


def section(title):
    print(f"\n=== {title} ===", flush=True)


def several_sites():
    section("1. Several sites: threads for 'generate', a pilot job for 'concat', either for 'total'")
    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=4, label="local_threads"),
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
        parsl.load(Config(executors=[pilot("local_htex", max_blocks=2, parallelism=parallelism)],
                          strategy_period=0.5))
        pids = [where_am_i(SLEEP / 2) for _ in range(10)]
        seen = sorted({p.result() for p in pids})
        print(f"tasks ran in {len(seen)} worker process(es): {seen}")
        parsl.dfk().cleanup()


def caching():
    section("3. App caching: the same call twice returns at once")
    parsl.load(Config(executors=[pilot("htex_Local", max_blocks=1)]))

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
    parsl.load(Config(executors=[pilot("local_htex", max_blocks=1)], checkpoint_mode="task_exit"))
    t = time.perf_counter()
    print([slow_double(i).result() for i in range(5)], f"in {time.perf_counter() - t:.2f} s")
    parsl.dfk().cleanup()

    parsl.load(Config(executors=[pilot("local_htex", max_blocks=1)], checkpoint_files=get_all_checkpoints()))
    t = time.perf_counter()
    print([slow_double(i).result() for i in range(5)], f"in {time.perf_counter() - t:.2f} s (from checkpoints)")
    parsl.dfk().cleanup()


def monitoring():
    section("5. Monitoring: tasks and resources in monitoring.db, read with pandas")
    from parsl.monitoring.monitoring import MonitoringHub
    parsl.load(Config(executors=[pilot("local_htex", max_blocks=1)],
                      monitoring=MonitoringHub(hub_address="127.0.0.1", resource_monitoring_interval=1)))

    @python_app
    def busy_double(x):
        import time
        end = time.time() + 1.5
        while time.time() < end:
            pass
        return x * 2

    print([busy_double(i).result() for i in range(3)])
    parsl.dfk().cleanup()
    try:
        import pandas as pd
    except ImportError:
        print("(pandas not installed: skipping the tables)")
        return
    with sqlite3.connect("monitoring.db") as conn:
        wf = pd.read_sql_query("SELECT * FROM workflow", conn)
        run_id = wf["run_id"].iloc[-1]
        tasks = pd.read_sql_query("SELECT task_id, task_func_name, task_time_submitted, task_time_running, "
                                  "task_time_returned FROM task WHERE run_id=?", conn, params=(run_id,))
        res = pd.read_sql_query("SELECT task_id, timestamp, psutil_process_cpu_percent, "
                                "psutil_process_memory_percent FROM resource WHERE run_id=?", conn, params=(run_id,))
    print(wf[["workflow_name", "time_began", "time_completed", "tasks_completed_count"]].tail(1).to_string())
    print(tasks.to_string())
    print(res.tail(5).to_string())
    print("browse it with:  parsl-visualize sqlite:///" + os.path.abspath("monitoring.db"))


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
    monitoring()


if __name__ == "__main__":
    main()
