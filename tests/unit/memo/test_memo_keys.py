"""Cache keys: what counts as "the same call" (pure code, no DFK)."""
import importlib.util
import itertools
import os
import textwrap

import pytest

from parsl._core import memo
from parsl._core.memo import UnmemoizableArgumentError, compute_key, function_identity, id_for_memo
from parsl.data_provider.files import File

_counter = itertools.count()


def load_function(tmp_path, source, name="f"):
    """Define a function from source in a real module file (so inspect.getsource works)."""
    mod_name = f"_memo_src_{next(_counter)}"
    path = tmp_path / f"{mod_name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(mod_name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, name)


BASE = """
def f(x, y=1):
    return x + y
"""


def key_of(func, *args, **kwargs):
    return compute_key(func, func.__name__, args, kwargs)


def test_same_call_same_key_and_changed_argument_changes_key(tmp_path):
    f = load_function(tmp_path, BASE)
    assert key_of(f, 1, y=2) == key_of(f, 1, y=2)
    assert key_of(f, 1, y=2) != key_of(f, 1, y=3)
    assert key_of(f, 1) != key_of(f, 1.0)       # int and float are different values
    assert key_of(f, 1) != key_of(f, True)
    assert key_of(f, "1") != key_of(f, b"1")


@pytest.mark.parametrize("variant", [
    # a comment, blank lines and different formatting
    """
    def f(x, y=1):
        # add them
        return (x +
                y)   # trailing comment
    """,
    # a docstring
    '''
    def f(x, y=1):
        """Adds."""
        return x + y
    ''',
    # a decorator and indentation inside a class body
    """
    import functools
    @functools.lru_cache(maxsize=None)
    def f(x, y=1):
        return x + y
    """,
])
def test_comments_formatting_docstring_decorators_do_not_count(tmp_path, variant):
    f0 = load_function(tmp_path, BASE)
    f1 = load_function(tmp_path, variant)
    f1 = getattr(f1, "__wrapped__", f1)
    assert function_identity(f0)[1] == function_identity(f1)[1]
    assert key_of(f0, 3) == compute_key(f1, "f", (3,), {})


def test_changing_the_body_changes_the_key(tmp_path):
    f0 = load_function(tmp_path, BASE)
    f1 = load_function(tmp_path, "def f(x, y=1):\n    return x - y\n")
    assert key_of(f0, 3) != key_of(f1, 3)


def test_same_body_different_name_differs(tmp_path):
    f = load_function(tmp_path, BASE)
    g = load_function(tmp_path, BASE.replace("def f", "def g"), name="g")
    assert key_of(f, 1) != key_of(g, 1)


def test_lambda_and_exec_functions_use_bytecode():
    ns = {}
    exec("def h(x):\n    return x * 2\n", ns)
    exec("def h2(x):\n    # comment\n    return x * 2\n", ns)
    assert memo.normalised_body(ns["h"]).startswith(b"code:")
    assert memo.normalised_body(ns["h"]) == memo.normalised_body(ns["h2"])
    lam = lambda x: x + 1  # noqa: E731
    assert memo.normalised_body(lam).startswith(b"code:")


def test_function_identity_is_cached_per_function_object(tmp_path):
    f = load_function(tmp_path, BASE)
    a = function_identity(f)
    assert function_identity(f) is a


def test_kwargs_order_does_not_matter(tmp_path):
    f = load_function(tmp_path, BASE)
    assert compute_key(f, "f", (), {"x": 1, "y": 2}) == compute_key(f, "f", (), {"y": 2, "x": 1})
    # also on the general path
    assert compute_key(f, "f", (), {"x": [1], "y": {"a": 1, "b": 2}}) == \
        compute_key(f, "f", (), {"y": {"b": 2, "a": 1}, "x": [1]})


def test_containers(tmp_path):
    f = load_function(tmp_path, BASE)
    assert key_of(f, [1, 2]) == key_of(f, [1, 2])
    assert key_of(f, [1, 2]) != key_of(f, [2, 1])
    assert key_of(f, [1, 2]) != key_of(f, (1, 2))
    assert key_of(f, {1, 2, 3}) == key_of(f, {3, 2, 1})
    assert key_of(f, frozenset({"a", "b"})) == key_of(f, frozenset({"b", "a"}))
    assert key_of(f, {"k": [1, {"n": None}]}) == key_of(f, {"k": [1, {"n": None}]})
    # framing: concatenations must not collide
    assert key_of(f, ["ab", "c"]) != key_of(f, ["a", "bc"])


def test_equal_strings_are_equal_keys_whether_or_not_shared():
    # Parsl #235-style non-determinism: pickle memoises repeated objects; we must not.
    s = "x" * 50
    a = id_for_memo([s, s])
    b = id_for_memo(["x" * 50, "".join(["x"] * 50)])
    assert a == b


def test_ignore_for_cache_by_keyword_and_position(tmp_path):
    f = load_function(tmp_path, "def f(x, log, y=1):\n    return x\n")
    k1 = compute_key(f, "f", (1, "run-a"), {"y": 1}, ignore_for_cache=["log"])
    k2 = compute_key(f, "f", (1, "run-b"), {"y": 1}, ignore_for_cache=["log"])
    assert k1 == k2
    k3 = compute_key(f, "f", (1,), {"log": "a", "y": 1}, ignore_for_cache=["log"])
    k4 = compute_key(f, "f", (1,), {"log": "b", "y": 1}, ignore_for_cache=["log"])
    assert k3 == k4
    with pytest.raises(ValueError, match="not a parameter"):
        compute_key(f, "f", (1, 2), {}, ignore_for_cache=["nope"])


def test_unknown_type_gives_clear_error(tmp_path):
    f = load_function(tmp_path, BASE)

    class Thing:
        pass
    with pytest.raises(UnmemoizableArgumentError) as info:
        compute_key(f, "f", (Thing(),), {})
    msg = str(info.value)
    assert "Thing" in msg and "id_for_memo.register" in msg and "'x'" in msg
    assert isinstance(info.value, ValueError)


def test_register_extends_and_overrides_fast_path(tmp_path):
    f = load_function(tmp_path, BASE)

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    @id_for_memo.register(Point)
    def _(obj, output_ref=False):
        return id_for_memo((obj.x, obj.y))

    assert key_of(f, Point(1, 2)) == key_of(f, Point(1, 2))
    assert key_of(f, Point(1, 2)) != key_of(f, Point(2, 1))


def test_files_keyed_by_content_outputs_by_name(tmp_path):
    f = load_function(tmp_path, BASE)
    data = tmp_path / "in.txt"
    data.write_text("one")
    k1 = compute_key(f, "f", (), {"inputs": [File(str(data))], "outputs": [File(str(tmp_path / "o"))]})
    data.write_text("two")
    k2 = compute_key(f, "f", (), {"inputs": [File(str(data))], "outputs": [File(str(tmp_path / "o"))]})
    assert k1 != k2
    data.write_text("one")
    k3 = compute_key(f, "f", (), {"inputs": [File(str(data))], "outputs": [File(str(tmp_path / "o"))]})
    assert k3 == k1
    # an output's content never counts (it does not exist yet, or is about to be rewritten)
    out = tmp_path / "o"
    out.write_text("whatever")
    assert compute_key(f, "f", (), {"inputs": [File(str(data))], "outputs": [File(str(out))]}) == k1
    # a different output name is a different call
    assert compute_key(f, "f", (), {"inputs": [File(str(data))], "outputs": [File(str(tmp_path / "p"))]}) != k1
    # positional File arguments are inputs too
    assert key_of(f, File(str(data))) != key_of(f, File(str(tmp_path / "missing")))


def test_file_digest_fast_path_skips_unchanged_old_files(tmp_path):
    now = [1_000_000.0]
    cache = memo.FileDigestCache(racy_window=2.0, clock=lambda: now[0])
    p = tmp_path / "big.bin"
    p.write_bytes(b"a" * 1000)
    os.utime(p, (now[0] - 100, now[0] - 100))   # written long ago
    d1 = cache.digest(str(p))
    d2 = cache.digest(str(p))
    assert d1 == d2 and cache.reads == 1
    # a same-size rewrite with a new mtime is noticed
    p.write_bytes(b"b" * 1000)
    os.utime(p, (now[0] - 50, now[0] - 50))
    assert cache.digest(str(p)) != d1 and cache.reads == 2


def test_file_digest_racy_recent_file_is_reread(tmp_path):
    now = [1_000_000.0]
    cache = memo.FileDigestCache(racy_window=2.0, clock=lambda: now[0])
    p = tmp_path / "f.txt"
    p.write_text("aaaa")
    os.utime(p, (now[0], now[0]))    # modified "just now": same tick as the digest
    d1 = cache.digest(str(p))
    p.write_text("bbbb")             # same size, and we force the same mtime: a racy change
    os.utime(p, (now[0], now[0]))
    assert cache.digest(str(p)) != d1


def test_directory_as_file_is_keyed_by_contents(tmp_path):
    d = tmp_path / "dir"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a").write_text("1")
    d1 = memo._content_digest(str(d))
    (d / "sub" / "a").write_text("2")
    assert memo._content_digest(str(d)) != d1


def test_remote_files_keyed_by_url(tmp_path):
    f = load_function(tmp_path, BASE)
    a = key_of(f, File("https://example.org/a.txt"))
    assert a == key_of(f, File("https://example.org/a.txt"))
    assert a != key_of(f, File("https://example.org/b.txt"))


def test_fast_and_general_paths_do_not_collide(tmp_path):
    f = load_function(tmp_path, BASE)
    assert key_of(f, 1) != key_of(f, [1])
    assert key_of(f, (1,)) != key_of(f, 1)


def test_numpy_arrays_by_dtype_shape_and_bytes(tmp_path):
    np = pytest.importorskip("numpy")
    f = load_function(tmp_path, BASE)
    a = np.arange(6, dtype="int64")
    assert key_of(f, a) == key_of(f, np.arange(6, dtype="int64"))
    assert key_of(f, a) != key_of(f, a.reshape(2, 3))
    assert key_of(f, a) != key_of(f, a.astype("int32"))
