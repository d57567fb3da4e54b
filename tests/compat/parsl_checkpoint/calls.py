"""The app calls recorded in the Parsl-written checkpoint fixture (``tasks.pkl``).

Imported both by ``make_fixture.py`` (run under reference Parsl) and by the Chervil tests,
so both sides make exactly the same calls. Only names from Parsl's public API are used.
The apps pretend to live in ``__main__``, as they do in a user's workflow script.
"""
# Output files named by the calls. Under reference Parsl the apps write them; the Chervil
# side serves the calls from the checkpoint and never writes them.
OUT_URL = "/tmp/chervil-parsl-fixture/out.txt"
IN_URL = "/nonexistent/chervil-parsl-fixture/in.txt"


def add(a, b=0):
    return a + b


def concat(s, t="-"):
    return s + t


def total(xs):
    return sum(sum(x) if isinstance(x, (list, tuple)) else x for x in xs)


def pick(d, key):
    return d[key]


def describe(x, y=None, z=1.5):
    return f"{x!r}/{y!r}/{z!r}"


def file_name(f, inputs=[]):  # noqa: B006  (Parsl's documented spelling; keyed as a default)
    return [f.filepath] + [i.filepath for i in inputs]


def produce(tag, outputs=[]):  # noqa: B006
    import os
    os.makedirs(os.path.dirname(outputs[0].filepath), exist_ok=True)
    with open(outputs[0].filepath, "w") as fh:
        fh.write(tag)
    return tag


def greet(name, stdout=None):
    return f"echo hello {name}"


def fails(x):
    raise ValueError(f"fails {x}")


PYTHON_APPS = [add, concat, total, pick, describe, file_name, produce, fails]
BASH_APPS = [greet]

for _f in PYTHON_APPS + BASH_APPS:
    _f.__module__ = "__main__"
    _f.__qualname__ = _f.__name__


def calls(File):
    """(app name, args, kwargs) of every call, built with the caller's ``File`` class."""
    return [
        ("add", (1, 2), {}),
        ("add", (3,), {"b": 4}),
        ("add", (-7, 2**70), {}),
        ("add", (True, 1), {}),
        ("add", (0.5, 0.25), {}),
        ("concat", ("a", "b"), {}),
        ("concat", ("\u00e9t\u00e9",), {}),
        ("concat", ("x",), {"t": "yz"}),
        ("total", ([1, 2, 3],), {}),
        ("total", ([[1, 2], [3]],), {}),
        ("total", ((4, 5),), {}),
        ("total", ([],), {}),
        ("pick", ({"b": 2, "a": 1}, "a"), {}),
        ("pick", ({"k": [1, 2], "j": {"n": None}}, "k"), {}),
        ("pick", ({"b": 2, "a": 1},), {"key": "b"}),
        ("describe", (1,), {}),
        ("describe", ("s",), {"y": None, "z": 2.5}),
        ("describe", ([1, "two", 3.0, None],), {"y": {"nested": [1, (2, 3)]}}),
        ("file_name", (File(IN_URL),), {}),
        ("file_name", (File("relative/in.txt"),), {"inputs": [File(IN_URL), File("file:///abs/x.dat")]}),
        ("produce", ("made",), {"outputs": [File(OUT_URL)]}),
        ("greet", ("world",), {}),
        ("fails", (1,), {}),
    ]
