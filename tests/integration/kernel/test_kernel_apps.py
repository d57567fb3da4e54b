"""App decorators, DFK lookup at call time, executor routing, special keywords."""
import os
import threading

import pytest

import parsl
from parsl import AUTO_LOGNAME, bash_app, join_app, python_app
from parsl.app.app import python_app as python_app_at_parsl_path
from parsl.executors.errors import InvalidResourceSpecification
from parsl.executors.threads import ThreadPoolExecutor

from kernel_helpers import DEADLINE, threads_config


def where_am_i():
    return threading.current_thread().name


# -- decorator forms ---------------------------------------------------------------------

def test_bare_and_called_decorators(dfk):
    @python_app
    def bare(x):
        return x * 2

    @python_app()
    def called(x):
        return x * 3

    @python_app(cache=False, executors="all", ignore_for_cache=["y"])
    def with_args(x, y=0):
        return x + y

    assert bare(2).result(timeout=DEADLINE) == 4
    assert called(2).result(timeout=DEADLINE) == 6
    assert with_args(2, y=1).result(timeout=DEADLINE) == 3
    assert python_app_at_parsl_path is python_app


def test_app_object_attributes():
    def f(a, stdout="out.txt", walltime=3, other=5):
        """doc"""
    app = python_app(f, executors=["x"], cache=True, ignore_for_cache=["a"])
    assert app.__name__ == "f" and app.__doc__ == "doc" and app.func is f and app.__wrapped__ is f
    assert app.executors == ["x"] and app.cache is True and app.ignore_for_cache == ["a"]
    assert app.data_flow_kernel is None
    # python apps take only the special keywords from the signature; bash apps take every default
    assert app.kwargs == {"stdout": "out.txt", "walltime": 3}
    assert bash_app(f).kwargs == {"stdout": "out.txt", "walltime": 3, "other": 5}


def test_kernel_is_looked_up_at_call_time(load):
    @python_app
    def run_dir_of_kernel():
        return parsl.dfk().run_dir
    d1 = load()
    r1 = run_dir_of_kernel().result(timeout=DEADLINE)
    d1.cleanup()
    d2 = load()
    r2 = run_dir_of_kernel().result(timeout=DEADLINE)
    assert r1 == d1.run_dir and r2 == d2.run_dir and r1 != r2


def test_explicit_data_flow_kernel(dfk):
    @python_app(data_flow_kernel=dfk)
    def f():
        return 1
    fut = f()
    assert fut.task_record.dfk is dfk and fut.result(timeout=DEADLINE) == 1


def test_decorating_a_non_callable_is_a_clear_type_error():
    with pytest.raises(TypeError, match="not callable"):
        python_app(42)
    with pytest.raises(TypeError, match="not callable"):
        bash_app("echo hi")
    with pytest.raises(TypeError, match="not callable"):
        join_app(None or 3)


def test_executors_as_a_bare_string_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"executors=\['threads'\]"):
        python_app(where_am_i, executors="threads")


def test_app_arguments_and_keywords_pass_through(dfk):
    @python_app
    def f(a, b=2, *rest, c, **kw):
        return (a, b, rest, c, kw)
    assert f(1, 3, 4, 5, c=6, d=7).result(timeout=DEADLINE) == (1, 3, (4, 5), 6, {"d": 7})


def test_unpicklable_arguments_are_fine_on_threads(dfk):
    # ThreadPoolExecutor runs apps in this process: arguments are passed by reference, never
    # pickled, so locks, generators and open files work (they would not on HTEX).
    lock = threading.Lock()
    gen = (i for i in range(3))

    @python_app
    def use(lock, gen):
        with lock:
            return sum(gen)
    assert use(lock, gen).result(timeout=DEADLINE) == 3


# -- executor routing ------------------------------------------------------------------------

def two_pools():
    return threads_config(executors=[ThreadPoolExecutor(label="A", max_threads=1, thread_name_prefix="poolA"),
                                     ThreadPoolExecutor(label="B", max_threads=1, thread_name_prefix="poolB")])


def test_pinned_app_runs_only_on_its_executor(load):
    load(two_pools())
    on_b = python_app(where_am_i, executors=["B"])
    names = {on_b().result(timeout=DEADLINE) for _ in range(20)}
    assert names == {"poolB-0"}


def test_all_spreads_over_user_executors_but_not_the_internal_one(load):
    load(two_pools())
    anywhere = python_app(where_am_i)
    futs = [anywhere() for _ in range(200)]
    names = {f.result(timeout=DEADLINE) for f in futs}
    assert names == {"poolA-0", "poolB-0"}
    assert {f.task_record.executor for f in futs} == {"A", "B"}


def test_list_of_several_labels_chooses_among_them(load):
    load(threads_config(executors=[ThreadPoolExecutor(label="A"), ThreadPoolExecutor(label="B"),
                                   ThreadPoolExecutor(label="C")]))
    app = python_app(where_am_i, executors=["A", "C"])
    assert {app().task_record.executor for _ in range(100)} == {"A", "C"}


def test_unknown_label_fails_the_call_naming_the_known_ones(dfk):
    app = python_app(where_am_i, executors=["gpu"])
    with pytest.raises(ValueError, match=r"'gpu'.*known labels: \['threads'\]"):
        app()


def test_resource_specification_is_refused_by_threads(dfk):
    @python_app
    def f(parsl_resource_specification={}):  # noqa: B006 - Parsl's documented app-signature idiom
        return 1
    fut = f(parsl_resource_specification={"cores": 2})
    with pytest.raises(InvalidResourceSpecification, match="cores"):
        fut.result(timeout=DEADLINE)


# -- special keywords -----------------------------------------------------------------------------

def test_special_keywords_the_function_does_not_declare_are_not_passed(dfk):
    @python_app
    def f(x):
        return x
    assert f(1, stdout="o.txt", stderr="e.txt", walltime=30, inputs=[], outputs=[]).result(timeout=DEADLINE) == 1


def test_declared_special_keywords_are_passed(dfk):
    @python_app
    def f(stdout=None, stderr=None, inputs=(), walltime=None):
        return stdout, stderr, list(inputs), walltime
    assert f(stdout="o", stderr=("e", "w"), inputs=[1, 2], walltime=30).result(timeout=DEADLINE) == \
        ("o", ("e", "w"), [1, 2], 30)


def test_signature_defaults_of_special_keywords_are_used(dfk):
    @python_app
    def f(stdout="default.out"):
        return stdout
    fut = f()
    assert fut.result(timeout=DEADLINE) == "default.out"
    assert fut.stdout == "default.out"


def test_auto_logname_paths(dfk):
    @bash_app
    def hello(stdout=AUTO_LOGNAME, stderr=AUTO_LOGNAME, label=None):
        return "echo hello; echo oops >&2"
    fut = hello()
    assert fut.result(timeout=DEADLINE) == 0
    tid = fut.tid
    base = os.path.join(dfk.run_dir, "task_logs", "0000")
    assert fut.stdout == os.path.join(base, f"task_{tid:04d}_hello.stdout")
    assert fut.stderr == os.path.join(base, f"task_{tid:04d}_hello.stderr")
    assert open(fut.stdout).read() == "hello\n"
    assert "oops" in open(fut.stderr).read()
    assert {"stdout", "stderr"} <= set(fut.task_record.ignore_for_cache)

    labelled = hello(label="greet")
    labelled.result(timeout=DEADLINE)
    assert labelled.stdout.endswith(f"task_{labelled.tid:04d}_hello_greet.stdout")


def test_auto_logname_given_at_call_time(dfk):
    @bash_app
    def hello(stdout=None):
        return "echo hi"
    fut = hello(stdout=parsl.AUTO_LOGNAME)
    fut.result(timeout=DEADLINE)
    assert open(fut.stdout).read() == "hi\n"


def test_std_autopath_chooses_the_path(load, tmp_path):
    calls = []

    def autopath(rec, kw):
        calls.append((rec["id"], kw))
        return str(tmp_path / f"{rec['func_name']}-{rec['id']}.{kw}")
    load(std_autopath=autopath)

    @bash_app
    def hello(stdout=AUTO_LOGNAME, stderr=AUTO_LOGNAME):
        return "echo hi"
    fut = hello()
    fut.result(timeout=DEADLINE)
    assert sorted(calls) == [(fut.tid, "stderr"), (fut.tid, "stdout")]
    assert open(tmp_path / f"hello-{fut.tid}.stdout").read() == "hi\n"


def test_stdout_tuple_with_mode_and_append_default(dfk, tmp_path):
    @bash_app
    def say(word, stdout=None):
        return f"echo {word}"
    out = tmp_path / "log.txt"
    say("one", stdout=str(out)).result(timeout=DEADLINE)
    say("two", stdout=str(out)).result(timeout=DEADLINE)  # default mode appends
    assert out.read_text() == "one\ntwo\n"
    say("three", stdout=(str(out), "w")).result(timeout=DEADLINE)
    assert out.read_text() == "three\n"


def test_stdout_parent_directories_are_created(dfk, tmp_path):
    @bash_app
    def say(stdout=None):
        return "echo deep"
    target = tmp_path / "a" / "b" / "c.out"
    say(stdout=str(target)).result(timeout=DEADLINE)
    assert target.read_text() == "deep\n"
