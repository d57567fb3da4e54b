"""Executors configured with today's Parsl radios load, run, and their radios carry
messages from task code (here: in a thread and in an HTEX worker) into the database."""
import sqlite3

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.monitoring import MonitoringHub
from parsl.monitoring.radios.filesystem import FilesystemRadio
from parsl.monitoring.radios.htex import HTEXRadio
from parsl.monitoring.radios.udp import UDPRadio
from parsl.providers import LocalProvider


def test_radios_carry_task_messages_into_the_database(tmp_path):
    def report(radio, hostname):
        # What a user's task (or a third-party executor's worker) does with a radio.
        import time

        from parsl.monitoring.message_type import MessageType
        radio.create_sender().send((MessageType.NODE_INFO, {"hostname": hostname, "uid": hostname,
                                                            "timestamp": time.time()}))
        return hostname

    report_htex = parsl.python_app(report, executors=["htex"])
    report_threads = parsl.python_app(report, executors=["threads"])
    db = tmp_path / "m.db"
    udp = UDPRadio(address="127.0.0.1")
    fs = FilesystemRadio()
    htex = HighThroughputExecutor(label="htex", address="127.0.0.1", max_workers_per_node=1,
                                  provider=LocalProvider(init_blocks=1, max_blocks=1),
                                  remote_monitoring_radio=udp)
    threads = ThreadPoolExecutor(label="threads", remote_monitoring_radio=fs)
    assert isinstance(HighThroughputExecutor(label="x").remote_monitoring_radio, HTEXRadio)   # the default
    parsl.load(Config(executors=[htex, threads], run_dir=str(tmp_path / "runinfo"),
                      monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{db}")))
    try:
        assert udp.port                                   # its receiver is listening
        futs = [report_htex(udp, "via-udp"), report_threads(fs, "via-fs")]
        assert [f.result() for f in futs] == ["via-udp", "via-fs"]
    finally:
        parsl.dfk().cleanup()
        parsl.clear()
    conn = sqlite3.connect(db)
    try:
        hosts = {h for (h,) in conn.execute("select hostname from node")}
    finally:
        conn.close()
    assert {"via-udp", "via-fs"} <= hosts
