"""HighThroughputExecutor on its own (no DFK): results, errors, sizes, options."""
import os
import stat
import sys
import traceback

import cloudpickle
import pytest

from parsl.executors.errors import InvalidResourceSpecification
from parsl.providers import LocalProvider

from _htex_helpers import htex, manager_pids  # noqa: F401  (fixture)
from waiting import wait_until

pytestmark = pytest.mark.htex
# Workers cannot import this test module: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def double(x):
    return 2 * x


def fail_with(msg):
    raise KeyError(msg)


def echo(x):
    return x


def test_results_and_remote_exceptions(htex):
    ex = htex()
    futs = [ex.submit(double, {}, i) for i in range(200)]
    assert [f.result(timeout=30) for f in futs] == [2 * i for i in range(200)]
    err = ex.submit(fail_with, {}, "missing-thing").exception(timeout=30)
    assert isinstance(err, KeyError) and "missing-thing" in str(err)
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    assert "fail_with" in text, "the worker-side traceback is kept"
    assert ex.outstanding() == 0


def test_closures_lambdas_and_large_payloads(htex):
    ex = htex()
    k = 10
    assert ex.submit(lambda x: x + k, {}, 5).result(timeout=30) == 15
    blob = os.urandom(20 * 2**20)
    assert ex.submit(echo, {}, blob).result(timeout=60) == blob
    assert ex.submit(lambda n: b"z" * n, {}, 30 * 2**20).result(timeout=60) == b"z" * (30 * 2**20)


def test_unpicklable_result_is_a_clear_error(htex):
    ex = htex()
    # a generator: neither cloudpickle nor dill (the fallback, as in Parsl) pickles one
    err = ex.submit(lambda: (i for i in range(3)), {}).exception(timeout=30)
    assert "could not be pickled" in str(err) and "generator" in str(err)


def test_connected_managers_and_blocks(htex):
    ex = htex()
    ex.submit(double, {}, 1).result(timeout=30)
    (m,) = ex.connected_managers()
    assert m["block_id"] == "0" and m["worker_count"] == 2 and m["active"] and not m["draining"]
    assert m["python_version"] == "{}.{}.{}".format(*sys.version_info[:3])   # the full version, as in Parsl
    assert ex.connected_blocks() == ["0"]
    assert ex.workers_per_node == 2


def test_unknown_resource_key_is_refused(htex):
    ex = htex()
    with pytest.raises(InvalidResourceSpecification, match="priority"):
        ex.submit(double, {"cores": 3}, 1)


def test_priority_orders_queued_tasks(htex, tmp_path):
    ex = htex(max_workers_per_node=1, provider=LocalProvider(init_blocks=0))
    log = tmp_path / "order.txt"

    def record(tag, path=str(log)):
        with open(path, "a") as f:
            f.write(f"{tag}\n")

    futs = [ex.submit(record, {"priority": p}, p) for p in (5, 1, 4, 2, 3)]
    futs.append(ex.submit(record, {}, "none"))
    ex.scale_out_facade(1)
    for f in futs:
        f.result(timeout=30)
    assert log.read_text().split() == ["1", "2", "3", "4", "5", "none"]


@pytest.mark.parametrize("address", ["::1", "127.0.0.1", "hostname"])
def test_addresses(htex, address):
    if address == "hostname":
        from parsl.addresses import address_by_hostname
        address = address_by_hostname()
    ex = htex(address=address)
    assert ex.submit(double, {}, 21).result(timeout=30) == 42


def test_default_address_advertises_every_interface(htex):
    ex = htex(address=None)
    assert "127.0.0.1" in ex.all_addresses.split(",")
    assert ex.submit(double, {}, 2).result(timeout=30) == 4


def test_encrypted_uses_private_per_run_certificates(htex):
    ex = htex(encrypted=True)
    assert ex.submit(double, {}, 3).result(timeout=30) == 6
    cert_dir = os.path.join(ex.run_dir, ex.label, "certificates")
    assert stat.S_IMODE(os.stat(cert_dir).st_mode) == 0o700
    assert {"server.key_secret", "client.key_secret"} <= set(os.listdir(cert_dir))


def test_worker_debug_logs_under_run_dir(htex):
    ex = htex(worker_debug=True)
    ex.submit(double, {}, 3).result(timeout=30)
    logdir = os.path.join(ex.run_dir, ex.label, "block-0")
    (uid,) = os.listdir(logdir)
    wanted = {"manager.log", "worker_0.log", "worker_1.log"}
    # worker 1 may still be starting when worker 0 has already answered
    wait_until(lambda: wanted <= set(os.listdir(os.path.join(logdir, uid))), f"{sorted(wanted)} in {logdir}/{uid}",
               timeout=20)


def _launch_cmd_after(setup: str) -> str:
    """The default launch command, with the manager started after running ``setup`` (Python
    statements without single quotes) in its process."""
    from parsl.executors.high_throughput.executor import DEFAULT_LAUNCH_CMD
    patched = (f"{{python}} -c 'import sys; {setup}; "
               "from parsl.executors.high_throughput.process_worker_pool import main; sys.exit(main(sys.argv[1:]))'")
    return DEFAULT_LAUNCH_CMD.replace("{python} -m parsl.executors.high_throughput.process_worker_pool", patched)


def test_version_mismatch_puts_executor_in_bad_state(htex):
    ex = htex(launch_cmd=_launch_cmd_after('import parsl._base.version as v; v.VERSION = "0.0.1-other"'))
    fut = ex.submit(double, {}, 1)
    wait_until(lambda: ex.bad_state_is_set, "the executor to enter its bad state", timeout=30)
    assert "0.0.1-other" in str(ex.executor_exception)
    assert "0.0.1-other" in str(fut.exception(timeout=5))
    with pytest.raises(Exception, match="0.0.1-other"):
        ex.submit(double, {}, 1)


def test_scale_out_and_in_blocks(htex):
    from parsl.executors.high_throughput.manager_selector import BlockIdManagerSelector
    from parsl.jobs.states import JobState
    ex = htex(provider=LocalProvider(init_blocks=1, max_blocks=2), manager_selector=BlockIdManagerSelector())
    assert ex.scale_out_facade(1) == ["1"]
    pids = manager_pids(ex, count=2)
    assert sorted(ex.connected_blocks()) == ["0", "1"]
    assert len(ex.scale_in_facade(1)) == 1
    from _htex_helpers import all_gone
    wait_until(lambda: len(ex.connected_managers()) == 1, "one manager to connect", timeout=10)
    assert sum(1 for s in ex.status().values() if s.state == JobState.SCALED_IN) == 1
    assert ex.submit(double, {}, 5).result(timeout=30) == 10
    ex.shutdown()
    all_gone(pids, 10)


def test_shutdown_is_idempotent_and_fails_leftover_futures(htex):
    import time
    ex = htex()
    fut = ex.submit(time.sleep, {}, 60)
    manager = manager_pids(ex)[0]
    ex.shutdown()
    ex.shutdown()
    assert fut.exception(timeout=5) is not None
    from _htex_helpers import all_gone
    all_gone([manager], 10)


def test_bad_parameters_are_refused_with_names():
    from parsl.executors import HighThroughputExecutor
    with pytest.raises(TypeError, match="MPIExecutor"):
        HighThroughputExecutor(enable_mpi_mode=True)
    with pytest.raises(ValueError, match="cpu_affinity"):
        HighThroughputExecutor(cpu_affinity="diagonal")
    with pytest.warns(DeprecationWarning, match="max_workers_per_node"):
        ex = HighThroughputExecutor(max_workers=3)
    assert ex.max_workers_per_node == 3
    assert HighThroughputExecutor(worker_ports=(50001, 50002)).worker_port == 50001


def mpi_env():
    return os.environ["PARSL_NUM_RANKS"], os.environ["PARSL_MPI_PREFIX"]


def test_mpi_executor_exports_the_launch_prefix(tmp_path):
    from parsl.executors import MPIExecutor
    from parsl.launchers import SimpleLauncher, SingleNodeLauncher
    with pytest.raises(TypeError, match="SimpleLauncher"):
        MPIExecutor(provider=LocalProvider(launcher=SingleNodeLauncher()))
    ex = MPIExecutor(address="127.0.0.1", provider=LocalProvider(launcher=SimpleLauncher()))
    ex.run_dir = str(tmp_path)
    ex.start()
    try:
        with pytest.raises(InvalidResourceSpecification):
            ex.submit(mpi_env, {})
        got = ex.submit(mpi_env, {"num_ranks": 4, "num_nodes": 1}).result(timeout=30)
        assert got == ("4", "mpiexec -n 4 -ppn 4")
        assert ex.connected_managers()[0]["worker_count"] == 1
    finally:
        ex.shutdown()


def report(value):
    from parsl._htex import worker
    worker.send_monitoring("TEST_KIND", {"value": value, "task": worker.current_task_id})
    return value


def test_worker_monitoring_messages_reach_the_executor_sink(htex):
    import threading
    got = []
    arrived = threading.Event()

    def sink(kind, payload):
        if kind == "TEST_KIND":   # block status messages come through the same sink
            got.append((kind, payload))
            arrived.set()

    ex = htex(start=False)
    ex.monitoring_messages = sink
    ex.start()
    fut = ex.submit(report, {}, 7)
    assert fut.result(timeout=30) == 7
    assert arrived.wait(10)
    ((kind, payload),) = got
    assert payload["value"] == 7 and payload["task"] == fut.parsl_executor_task_id


def test_block_that_cannot_start_workers_fails_the_executor_with_its_stderr(htex):
    ex = htex(provider=LocalProvider(init_blocks=1, worker_init="echo 'conda: env not found' >&2; exit 5"))
    fut = ex.submit(double, {}, 1)

    def failed():
        ex._refresh_status()      # poll_facade() would wait out LocalProvider's 5 s interval
        ex.handle_errors()
        return ex.bad_state_is_set
    wait_until(failed, "the failed block to put the executor in its bad state", timeout=30)
    assert "env not found" in str(ex.executor_exception)
    assert "env not found" in str(fut.exception(timeout=5))


def pool_id_after(delay):
    import time
    time.sleep(delay)
    return os.environ["PARSL_WORKER_POOL_ID"]


def test_new_manager_takes_back_unstarted_tasks_from_a_busy_one(htex):
    ex = htex(max_workers_per_node=1, provider=LocalProvider(init_blocks=1, max_blocks=2))
    first = ex.submit(pool_id_after, {}, 0).result(timeout=30)
    futs = [ex.submit(pool_id_after, {}, 0.4) for _ in range(8)]
    wait_until(lambda: ex.connected_managers()[0]["tasks"] == 8, "all 8 tasks queued on the first manager")
    ex.scale_out_facade(1)
    pools = [f.result(timeout=60) for f in futs]
    assert len(set(pools)) == 2 and first in pools, "the second manager was given recalled tasks"


PARSL_1X_TEMPLATE = ("process_worker_pool.py {debug} {max_workers} -a {addresses} -p {prefetch_capacity} "
                     "-c {cores_per_worker} -m {mem_per_worker} --poll {poll_period} --task_port={task_port} "
                     "--result_port={result_port} --logdir={logdir} --block_id={{block_id}} "
                     "--hb_period={heartbeat_period} {address_probe_timeout_string} "
                     "--hb_threshold={heartbeat_threshold} --cpu-affinity {cpu_affinity}")


def test_parsl_1x_launch_cmd_with_the_console_script_on_path(htex):
    bindir = os.path.dirname(sys.executable)
    ex = htex(launch_cmd=PARSL_1X_TEMPLATE,
              provider=LocalProvider(worker_init=f"export PATH={bindir}:$PATH"))
    assert ex.submit(double, {}, 8).result(timeout=30) == 16
    assert ex.connected_managers()[0]["block_id"] == "0"


def test_port_in_use_is_a_clear_error(htex):
    first = htex()
    second = htex(start=False, worker_port=first.worker_port)
    with pytest.raises(RuntimeError, match="could not bind"):
        second.start()


def test_workers_that_cannot_start_fail_the_block_instead_of_hanging(htex):
    # The manager starts, but every worker it spawns exits at once (as with a broken environment).
    ex = htex(launch_cmd=_launch_cmd_after('sys.executable = "/bin/false"'))
    fut = ex.submit(double, {}, 1)

    def failed():
        ex._refresh_status()
        ex.handle_errors()
        return ex.bad_state_is_set
    wait_until(failed, "the failed block to put the executor in its bad state", timeout=30)
    assert "workers could not start" in str(ex.executor_exception)
    assert fut.exception(timeout=5) is not None


def test_connected_managers_from_a_result_callback_does_not_deadlock(htex):
    import threading
    ex = htex()
    seen = []
    done = threading.Event()
    fut = ex.submit(double, {}, 1)
    fut.add_done_callback(lambda f: (seen.append(len(ex.connected_managers())), done.set()))
    assert done.wait(20) and seen == [1]
