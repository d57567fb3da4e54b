"""Issue 16 item 12: the task table's argument columns hold Parsl's text.

What Parsl (reference install, thread pool, MonitoringHub) was observed to store:

* ``task_inputs`` / ``task_outputs``: ``str()`` of the argument as submitted, the app's
  signature defaults included: ``"[1, 'a', <File at 0x.. url=x.txt scheme=file netloc=
  path=x.txt filename=x.txt>]"``; ``'[]'`` for a default ``inputs=[]``; ``'None'`` for an app
  without the argument; a dependency not done at submission as ``<AppFuture at 0x..
  state=pending>``, one already done as its result;
* ``task_stdin``: the path, NULL when not given; ``task_stdout`` / ``task_stderr``: the path
  (the path of a ``(path, mode)`` pair), ``''`` when not given;
* ``task_depends``: comma-separated ids, ``''`` for none; ``task_memoize``: ``'1'`` / ``'0'``.

Addresses (``0x..``) differ from run to run, so they are compared masked.  Chervil reads
the arguments when monitoring flushes (within 0.5 s of submission), Parsl at submission.
"""
import re
import sqlite3
import threading
import time

import parsl
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub


def _masked(text):
    return None if text is None else re.sub(r"0x[0-9a-f]+", "0x?", text)


def _xfile(name):
    return f"<File at 0x? url={name} scheme=file netloc= path={name} filename={name}>"


def test_task_columns_hold_parsls_text(tmp_path):
    @parsl.python_app
    def f(inputs=[], outputs=[]):  # noqa: B006 (the defaults Parsl records as "[]")
        return 1

    @parsl.python_app
    def g():
        return 2

    gate = threading.Event()

    @parsl.python_app
    def slow():
        gate.wait(30)
        return 5

    @parsl.python_app(cache=True)
    def cached(x):
        return x

    @parsl.bash_app
    def b(stdin=None, stdout=None, stderr=None):
        return "true"

    db = tmp_path / "m.db"
    out, err = str(tmp_path / "out.txt"), str(tmp_path / "err.txt")
    parsl.load(Config(executors=[ThreadPoolExecutor(label="t")], run_dir=str(tmp_path / "runinfo"),
                      monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{db}",
                                               resource_monitoring_enabled=False)))
    try:
        x = f(inputs=[1, "a", File("x.txt")], outputs=[File("y.txt")])   # 0
        x.result()
        y = g()                                                           # 1
        y.result()
        b(stdout=out).result()                                            # 2
        b(stdin=out, stdout=(out, "w"), stderr=err).result()             # 3
        f(inputs=[y, x]).result()                                         # 4: deps done
        s = slow()                                                        # 5
        pending = f(inputs=[s, 3])                                        # 6: dep pending
        time.sleep(1.5)         # monitoring reads a pending task's arguments within 0.5 s
        gate.set()
        pending.result()
        f().result()                                                      # 7
        cached(1).result()                                                # 8
    finally:
        parsl.dfk().cleanup()
        parsl.clear()
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "select task_inputs, task_outputs, task_stdin, task_stdout, task_stderr, task_depends,"
            " task_memoize from task order by task_id").fetchall()
    finally:
        conn.close()
    got = [tuple(_masked(v) for v in r) for r in rows]
    assert got == [
        (f"[1, 'a', {_xfile('x.txt')}]", f"[{_xfile('y.txt')}]", None, "", "", "", "0"),
        ("None", "None", None, "", "", "", "0"),
        ("None", "None", None, out, "", "", "0"),
        ("None", "None", out, out, err, "", "0"),
        ("[2, 1]", "[]", None, "", "", "1,0", "0"),
        ("None", "None", None, "", "", "", "0"),
        ("[<AppFuture at 0x? state=pending>, 3]", "[]", None, "", "", "5", "0"),
        ("[]", "[]", None, "", "", "", "0"),
        ("None", "None", None, "", "", "", "1"),
    ]
