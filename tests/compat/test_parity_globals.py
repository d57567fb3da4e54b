"""Parity with today's Parsl: apps that use names of the submitting script (issue 16, item 8).

On HTEX Chervil ships an app's function with cloudpickle, which captures the modules and
globals of ``__main__`` it uses by value (Parsl raises ``NameError``). A change to such a
global made inside the app stays on the worker, so ``python_app`` warns, once per function at
decoration, when the function's code assigns to a global (``global x; x += 1``).
"""
import subprocess
import sys
import textwrap
import warnings

import cloudpickle
import pytest

from parsl import bash_app, join_app, python_app
from parsl.errors import CapturedGlobalWarning

# HTEX workers cannot import this test module: ship its functions (and globals) by value,
# as cloudpickle does for a script's __main__.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

DEADLINE = 60
SCALE = 7
counter = 0


def captured(record):
    return [w for w in record if issubclass(w.category, CapturedGlobalWarning)]


# -- the warning --------------------------------------------------------------------------------

def test_an_app_that_assigns_a_global_is_warned_about_naming_it():
    with pytest.warns(CapturedGlobalWarning) as record:
        @python_app
        def bump():
            global counter
            counter += 1
    [w] = captured(record)
    msg = str(w.message)
    assert "'bump'" in msg and "'counter'" in msg
    assert "outside this process" in msg and "worker" in msg
    assert "Return the new value" in msg
    assert w.filename == __file__            # points at the user's decorator line
    assert issubclass(CapturedGlobalWarning, UserWarning)
    assert CapturedGlobalWarning.__module__ == "parsl.errors"


def test_with_arguments_and_nested_code_every_global_is_named():
    with pytest.warns(CapturedGlobalWarning) as record:
        @python_app(executors=["threads"])
        def nested():
            def inner():
                global SCALE, gone
                SCALE = 3
                del gone
            return [inner for _ in range(1)]
    [w] = captured(record)
    assert "'SCALE', 'gone'" in str(w.message)
    assert w.filename == __file__


def test_reading_globals_is_not_warned_about():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CapturedGlobalWarning)

        @python_app
        def reads(x):
            local = SCALE * x
            return [counter + local for _ in range(1)]

        @python_app
        def containers(d):
            d["a"] = 1            # a write into an argument, not a global
            return d


def test_warned_once_per_function():
    def bump():
        global counter
        counter += 1

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        python_app(bump)
        python_app(bump)
        python_app()(bump)
    assert len(captured(record)) == 1


def test_bash_and_join_apps_are_not_warned_about():
    # a bash app's function runs in this process (it only builds the command line); so does a
    # join app's, on the kernel's internal thread pool
    with warnings.catch_warnings():
        warnings.simplefilter("error", CapturedGlobalWarning)

        @bash_app
        def cmd():
            global counter
            counter += 1
            return "true"

        @join_app
        def join():
            global counter
            counter += 1
            return []


# -- the capture, on HTEX -----------------------------------------------------------------------

@python_app
def scaled(x):
    return SCALE * x


@pytest.mark.htex
def test_a_module_level_name_is_usable_inside_an_app_on_htex(one_worker_htex):
    assert scaled(6).result(timeout=DEADLINE) == 42


SCRIPT = """
import json as js
import warnings
import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

counter = 0
OFFSET = 100

@python_app
def encode(x):
    return js.dumps([x + OFFSET])

with warnings.catch_warnings(record=True) as record:
    warnings.simplefilter("always")

    @python_app
    def bump():
        global counter
        counter += 1
        return counter

print("warned:", [str(w.category.__name__) for w in record])
dfk = parsl.load(Config(executors=[HighThroughputExecutor(
    label="htex", address="127.0.0.1", max_workers_per_node=1, encrypted=False,
    provider=LocalProvider(init_blocks=1, max_blocks=1))]))
try:
    print("encode:", encode(1).result(timeout=60))
    print("bump:", bump().result(timeout=60), "here:", counter)
finally:
    dfk.cleanup()
"""


@pytest.mark.htex
def test_a_script_s_imports_and_globals_are_captured_and_writes_stay_on_the_worker(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=DEADLINE * 2, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "warned: ['CapturedGlobalWarning']" in out.stdout
    assert "encode: [101]" in out.stdout                      # Parsl: NameError: name 'js'
    assert "bump: 1 here: 0" in out.stdout                    # the change stayed on the worker
