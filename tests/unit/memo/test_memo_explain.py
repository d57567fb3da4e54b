"""Why a call missed the cache: MemoIndex.explain over Manifests (pure, no DFK)."""
from parsl._core.memo_explain import Manifest, MemoIndex, MissReason, describe_call
from parsl.data_provider.files import File


def f(x, y=1, inputs=()):
    return x


def g(x, y=1, inputs=()):
    return -x


def describe(func, *args, name=None, **kwargs):
    return describe_call(func, name or func.__name__, args, kwargs)


def test_new_app():
    idx = MemoIndex()
    r = idx.explain(describe(f, 1))
    assert r.kind == MissReason.NEW_APP and "'f'" in str(r)


def test_which_argument_changed():
    idx = MemoIndex()
    idx.add(describe(f, 1, y=2), "task 1")
    r = idx.explain(describe(f, 1, y=3))
    assert r.kind == MissReason.ARGUMENTS_CHANGED
    assert r.changed == ("y",)
    assert "'y'" in str(r)


def test_new_combination_of_known_values():
    idx = MemoIndex()
    idx.add(describe(f, 1, y=2), "task 1")
    idx.add(describe(f, 5, y=7), "task 2")
    r = idx.explain(describe(f, 1, y=7))
    assert r.kind == MissReason.NEW_COMBINATION


def test_function_changed():
    idx = MemoIndex()
    idx.add(describe(f, 1), "run 000")
    r = idx.explain(describe(g, 1, name="f"))   # same app name, different body
    assert r.kind == MissReason.FUNCTION_CHANGED
    assert "body" in str(r) and "run 000" in str(r)


def test_input_file_changed(tmp_path):
    p = tmp_path / "data.csv"
    p.write_text("1,2")
    idx = MemoIndex()
    idx.add(describe(f, 0, inputs=[File(str(p))]), "run 001")
    p.write_text("1,2,3")
    r = idx.explain(describe(f, 0, inputs=[File(str(p))]))
    assert r.kind == MissReason.INPUT_FILES_CHANGED
    assert r.changed == (str(p),)
    assert "data.csv" in str(r) and "run 001" in str(r)


def test_manifest_round_trip_and_lazy_index():
    m = describe(f, 1, y=[1, 2])
    assert Manifest.decode(m.encode()) == m
    idx = MemoIndex()
    idx.add_encoded(m.encode(), "run 002")
    idx.add_encoded(b"garbage", "run 002")  # an explanation aid: never fails
    r = idx.explain(describe(g, 1, y=[1, 2], name="f"))
    assert r.kind == MissReason.FUNCTION_CHANGED and r.origin == "run 002"


def test_same_shape_same_everything_means_not_cached():
    idx = MemoIndex()
    m = describe(f, 1)
    idx.add(m, "task 3")
    assert idx.explain(m).kind == MissReason.NOT_CACHED
