"""Regenerate the Parsl-written checkpoint fixture with reference Parsl.

Run with a Python where reference Parsl is installed, from any directory outside a Chervil
checkout (so that ``import parsl`` finds Parsl):

    cd /tmp && <parsl-python> <this dir>/make_fixture.py

It runs every call in ``calls.py`` with ``cache=True`` and ``checkpoint_mode='task_exit'``,
registers the ``File`` encoding Parsl's own test suite registers (the URL), and writes next to
this script:

  * ``tasks.pkl``: Parsl's checkpoint file, as written;
  * ``expected.json``: for each call, Parsl's cache key (``task_record['hashsum']``), its
    result (or the exception text), and the Parsl version and pickle protocol used.
"""
import json
import os
import pickle
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import calls as spec  # noqa: E402

import parsl  # noqa: E402
from parsl import bash_app, python_app  # noqa: E402
from parsl.config import Config  # noqa: E402
from parsl.data_provider.files import File  # noqa: E402
from parsl.dataflow.memoization import BasicMemoizer, id_for_memo  # noqa: E402
from parsl.executors.threads import ThreadPoolExecutor  # noqa: E402

if "chervil" in (getattr(parsl, "__file__", "") or "") or os.path.exists(
        os.path.join(os.path.dirname(parsl.__file__), "_core")):
    sys.exit("this must run under reference Parsl, not Chervil (cd /tmp first)")


@id_for_memo.register(File)
def _file_id(file, output_ref=False):
    return file.url


def main():
    apps = {f.__name__: python_app(cache=True)(f) for f in spec.PYTHON_APPS}
    apps.update({f.__name__: bash_app(cache=True)(f) for f in spec.BASH_APPS})
    work = tempfile.mkdtemp(prefix="parsl-ckpt-fixture-")
    try:
        config = Config(executors=[ThreadPoolExecutor(label="t", max_threads=1)],
                        memoizer=BasicMemoizer(checkpoint_mode="task_exit"),
                        run_dir=os.path.join(work, "runinfo"))
        records = []
        with parsl.load(config) as dfk:
            for name, args, kwargs in spec.calls(File):
                fut = apps[name](*args, **kwargs)
                exc = fut.exception()
                records.append({"app": name, "hash": fut.task_record["hashsum"],
                                "result": None if exc else fut.result(),
                                "exception": None if exc is None else repr(exc)})
            run_dir = dfk.run_dir
        src = os.path.join(run_dir, "checkpoint", "tasks.pkl")
        shutil.copyfile(src, os.path.join(HERE, "tasks.pkl"))
        with open(src, "rb") as f:
            protocol = f.read(2)[1]
        with open(os.path.join(HERE, "expected.json"), "w") as f:
            json.dump({"parsl_version": parsl.__version__,
                       "python": "{}.{}".format(*sys.version_info[:2]),
                       "pickle_protocol": protocol,
                       "default_pickle_protocol": pickle.DEFAULT_PROTOCOL,
                       "calls": records}, f, indent=1)
            f.write("\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(os.path.dirname(spec.OUT_URL), ignore_errors=True)


if __name__ == "__main__":
    main()
