"""Parity with today's Parsl: ``outputs=`` given as paths (issue 16, item 7).

The user guide writes ``save('hi', outputs=['output.txt'])``. Parsl fails at the call with an
AttributeError; Chervil treats each ``str`` or ``os.PathLike`` entry as a local ``File``: the
app receives a File, and ``fut.outputs`` holds its DataFuture. Other values are refused at
the call, never dropped.
"""
import os
import pathlib

import pytest

import parsl
from parsl.app.futures import DataFuture
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.executors.threads import ThreadPoolExecutor


@pytest.fixture
def dfk():
    d = parsl.load(Config(executors=[ThreadPoolExecutor(label="t")], run_dir="runinfo"))
    yield d
    d.cleanup()


@parsl.python_app
def save(message, outputs=()):
    with open(outputs[0], "w") as f:
        f.write(message)
    return [type(o).__name__ for o in outputs]


@parsl.bash_app
def bsave(message, outputs=()):
    return "; ".join(f"echo {message} > {o}" for o in outputs)


@pytest.mark.parametrize("make", [str, pathlib.Path, lambda p: pathlib.PurePosixPath(os.path.abspath(p))],
                         ids=["str", "Path", "absolute PurePath"])
def test_a_path_output_is_a_local_file(dfk, make):
    fut = save("hi", outputs=[make("output.txt")])
    assert fut.result() == ["File"]
    assert len(fut.outputs) == 1
    df = fut.outputs[0]
    assert isinstance(df, DataFuture)
    got = df.result()
    assert isinstance(got, File) and got.scheme == "file"
    assert os.path.abspath(got.filepath) == os.path.abspath("output.txt")
    assert open(df.filepath).read() == "hi"


def test_the_user_guide_example_with_a_bash_app(dfk):
    fut = bsave("hello", outputs=["a.txt", pathlib.Path("b.txt")])
    assert fut.result() == 0
    assert [os.path.basename(d.result().filepath) for d in fut.outputs] == ["a.txt", "b.txt"]
    assert open("a.txt").read() == "hello\n"


def test_a_path_output_feeds_a_later_app(dfk):
    @parsl.python_app
    def read(inputs=()):
        with open(inputs[0]) as f:
            return f.read()

    first = save("chained", outputs=["chain.txt"])
    assert read(inputs=[first.outputs[0]]).result() == "chained"


def test_files_and_paths_mixed_keep_their_order(dfk):
    explicit = File(os.path.abspath("x.txt"))
    fut = save("m", outputs=[explicit, "y.txt"])
    fut.result()
    assert fut.outputs[0].file_obj is explicit
    assert fut.outputs[1].file_obj.filename == "y.txt"


def test_a_bash_app_missing_a_path_output_still_reports_it(dfk):
    from parsl.app.errors import MissingOutputs

    @parsl.bash_app
    def nothing(outputs=()):
        return "true"

    assert isinstance(nothing(outputs=["never.txt"]).exception(), MissingOutputs)


@pytest.mark.parametrize("bad", [3, None, b"bytes.txt"])
def test_other_output_values_are_refused_at_the_call(dfk, bad):
    with pytest.raises(TypeError, match="outputs"):
        save("x", outputs=[bad])
