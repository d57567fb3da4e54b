"""How a task's stdout/stderr arguments read in the task table (as Parsl writes them)."""
import os
import sqlite3

import parsl
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub


class PathLike(os.PathLike):
    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return self.path


def test_stdout_and_stderr_columns(tmp_path):
    @parsl.python_app
    def app(stdout=None, stderr=None):
        return None

    given = [("hello.txt", "hello.txt"), (None, ""), (("tuple.txt", "w"), "tuple.txt"),
             (PathLike("pl.txt"), "pl.txt"), (PathLike(b"pl2.txt"), "pl2.txt"),
             ((PathLike("pl3.txt"), "a"), "pl3.txt"), (File("file:///tmp/pl5"), "file:///tmp/pl5")]
    db = tmp_path / "m.db"
    parsl.load(Config(executors=[ThreadPoolExecutor()], run_dir=str(tmp_path / "runinfo"),
                      monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{db}")))
    try:
        for spec, _ in given:
            app(stdout=spec).result()
        app(stderr=parsl.AUTO_LOGNAME).result()
    finally:
        parsl.dfk().cleanup()
        parsl.clear()
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("select task_stdout, task_stderr from task order by task_id").fetchall()
    finally:
        conn.close()
    assert [out for out, _ in rows[:-1]] == [want for _, want in given]
    assert all(err == "" for _, err in rows[:-1])             # not given: '' (not NULL)
    auto_out, auto_err = rows[-1]
    assert auto_out == "" and os.path.isabs(auto_err) and auto_err.endswith(f"task_{len(given):04d}_app.stderr")
