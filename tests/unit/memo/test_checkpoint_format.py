"""The checkpoint log: writing, reading, torn tails, corruption, foreign files, discovery."""
import os
import pickle

import pytest

from parsl._core import checkpoint as ck
from parsl.dataflow.errors import BadCheckpoint

from waiting import wait_until

KEY = "0123456789abcdef0123456789abcdef"


def key(i):
    return f"{i:032x}"


def write(dirpath, items, batch=1, **kw):
    """Write items, `batch` results per frame (a frame is what one flush writes)."""
    w = ck.CheckpointWriter(str(dirpath), **kw)
    for n, (k, v) in enumerate(items, 1):
        w.add(k, b"", v)
        if n % batch == 0:
            w.flush()
    w.flush()
    w.close()
    return os.path.join(str(dirpath), ck.TASKS_FILENAME)


@pytest.mark.parametrize("batch", [1, 7, 100])
def test_round_trip(tmp_path, batch):
    path = write(tmp_path / "c", [(key(i), {"i": i, "sq": i * i}) for i in range(100)], batch=batch)
    loaded = ck.read_checkpoint_file(path)
    assert len(loaded.results) == 100
    assert loaded.results[key(7)] == {"i": 7, "sq": 49}
    assert loaded.torn_tail == 0


def test_file_starts_with_header(tmp_path):
    path = write(tmp_path / "c", [(KEY, 1)])
    with open(path, "rb") as f:
        assert f.read(len(ck.HEADER)) == ck.HEADER


@pytest.mark.parametrize("cut", [1, 5, 8, 12, 20])
def test_torn_tail_is_ignored(tmp_path, cut):
    path = write(tmp_path / "c", [(key(i), "v" * 30) for i in range(5)])
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - cut)
    loaded = ck.read_checkpoint_file(path)
    assert len(loaded.results) == 4
    assert loaded.torn_tail > 0


def test_corruption_before_good_records_is_an_error_naming_the_file(tmp_path):
    path = write(tmp_path / "c", [(key(i), "v" * 30) for i in range(5)])
    data = bytearray(open(path, "rb").read())
    data[len(ck.HEADER) + 30] ^= 0xFF   # inside the first record's payload
    open(path, "wb").write(bytes(data))
    with pytest.raises(BadCheckpoint) as info:
        ck.read_checkpoint_file(path)
    assert path in str(info.value) and "offset" in str(info.value)


def test_corrupt_last_frame_is_an_error_not_a_torn_tail(tmp_path):
    # A crash leaves a short frame; a full-length frame with wrong bytes is damage.
    path = write(tmp_path / "c", [(key(i), "v" * 30) for i in range(3)])
    data = bytearray(open(path, "rb").read())
    data[-3] ^= 0xFF
    open(path, "wb").write(bytes(data))
    with pytest.raises(BadCheckpoint, match="truncate -s"):
        ck.read_checkpoint_file(path)


def test_parsl_pickle_checkpoint_loads_as_parsl_results(tmp_path):
    # Reference Parsl's tasks.pkl is read; its results are keyed by Parsl's key, apart from ours.
    d = tmp_path / "runinfo" / "000" / "checkpoint"
    d.mkdir(parents=True)
    with open(d / "tasks.pkl", "wb") as f:
        pickle.dump({"hash": "abc", "exception": None, "result": 1}, f)
    loaded = ck.load_checkpoint_set([str(d)])
    assert loaded.parsl_results == {"abc": 1} and loaded.results == {}
    assert ck.load_checkpoints([str(d)]) == ({}, [])


def test_foreign_file_is_refused(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(BadCheckpoint, match="notes.txt"):
        ck.load_checkpoints([str(p)])


def test_newer_version_is_refused(tmp_path):
    path = write(tmp_path / "c", [(KEY, 1)])
    data = bytearray(open(path, "rb").read())
    data[len(ck.HEADER) - 1] = ck.VERSION + 1
    open(path, "wb").write(bytes(data))
    with pytest.raises(BadCheckpoint, match="version"):
        ck.read_checkpoint_file(path)


def test_missing_dir_and_dir_without_checkpoint_file_are_errors(tmp_path):
    # As Parsl: a checkpoint directory named in checkpoint_files must hold a checkpoint file.
    with pytest.raises(BadCheckpoint, match="does not exist"):
        ck.load_checkpoints([str(tmp_path / "nope")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadCheckpoint, match="holds no checkpoint file") as info:
        ck.load_checkpoints([str(tmp_path / "empty")])
    assert str(tmp_path / "empty") in str(info.value) and "rmdir" in str(info.value)
    # found automatically (not named by the user): skipped with a warning
    assert ck.load_checkpoint_set([str(tmp_path / "empty")], skip_empty_dirs=True).results == {}


def test_unpicklable_result_is_skipped_not_fatal(tmp_path):
    import threading
    w = ck.CheckpointWriter(str(tmp_path / "c"))
    w.add(key(1), b"", threading.Lock())
    w.add(key(2), b"", "fine")
    w.flush()
    w.close()
    loaded = ck.read_checkpoint_file(os.path.join(str(tmp_path / "c"), ck.TASKS_FILENAME))
    assert loaded.results == {key(2): "fine"}
    assert w.records_skipped == 1


def test_result_that_cannot_be_unpickled_names_file(tmp_path):
    path = write(tmp_path / "c", [(KEY, 1)])
    # Append a well-formed frame whose pickle refers to a module that does not exist.
    import struct
    import sys
    import types
    import zlib
    mod = types.ModuleType("vanishing_module_for_test")

    class Gone:
        pass
    Gone.__module__ = mod.__name__
    Gone.__qualname__ = "Gone"
    mod.Gone = Gone
    sys.modules[mod.__name__] = mod
    try:
        payload = pickle.dumps(([KEY], [b""], [Gone()]))
    finally:
        del sys.modules[mod.__name__]
    with open(path, "ab") as f:
        f.write(struct.pack("<II", len(payload), zlib.crc32(payload)) + payload)
    with pytest.raises(BadCheckpoint) as info:
        ck.read_checkpoint_file(path)
    assert path in str(info.value) and "unpickled" in str(info.value)


def test_many_results_in_one_frame_torn_together(tmp_path):
    path = write(tmp_path / "c", [(key(i), i) for i in range(10)], batch=5)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 3)
    assert len(ck.read_checkpoint_file(path).results) == 5


def test_later_files_override_earlier(tmp_path):
    a = write(tmp_path / "a", [(KEY, "old")])
    b = write(tmp_path / "b", [(KEY, "new")])
    results, _ = ck.load_checkpoints([a, b])
    assert results[KEY] == "new"


def test_get_all_and_last_checkpoints(tmp_path):
    run = tmp_path / "runinfo"
    assert ck.get_all_checkpoints(str(run)) == []
    assert ck.get_last_checkpoint(str(run)) == []
    for n in ("000", "001", "002", "010"):
        (run / n).mkdir(parents=True)
    for n in ("000", "002", "010"):
        (run / n / "checkpoint").mkdir()
    found = ck.get_all_checkpoints(str(run))
    assert found == [os.path.abspath(run / n / "checkpoint") for n in ("000", "002", "010")]
    assert ck.get_last_checkpoint(str(run)) == [os.path.abspath(run / "010" / "checkpoint")]


def test_parse_period():
    assert ck.parse_period("00:30:00") == 1800
    assert ck.parse_period("1:00:05") == 3605
    for bad in ("30", "00:61:00", "aa:bb:cc", "00:00:00", 30):
        with pytest.raises(ValueError):
            ck.parse_period(bad)


def test_background_writer_flushes_without_being_asked(tmp_path):
    w = ck.CheckpointWriter(str(tmp_path / "c"), delay=0.01)
    try:
        w.add(KEY, b"", 42)
        path = os.path.join(str(tmp_path / "c"), ck.TASKS_FILENAME)
        wait_until(lambda: os.path.exists(path) and ck.read_checkpoint_file(path).results,
                   f"the background writer to flush {path}", timeout=10)
        assert ck.read_checkpoint_file(path).results == {KEY: 42}
    finally:
        w.close()
    w.close()  # idempotent


def test_close_without_flush_at_close_drops_queue(tmp_path):
    w = ck.CheckpointWriter(str(tmp_path / "c"), flush_at_close=False)
    w.add(KEY, b"", 1)
    w.close()
    assert not os.path.exists(tmp_path / "c")


def test_appending_to_existing_file_checks_its_header(tmp_path):
    d = tmp_path / "c"
    d.mkdir()
    (d / ck.TASKS_FILENAME).write_bytes(b"not ours at all.")
    w = ck.CheckpointWriter(str(d))
    w.add(KEY, b"", 1)
    with pytest.raises(BadCheckpoint):
        w.flush()
    with pytest.warns(ck.CheckpointWriteWarning, match="1 result"):
        w.close()      # cleanup goes on: the user is told what the checkpoint is missing


@pytest.mark.parametrize("cut", [1, 8, len(ck.HEADER_PREFIX), len(ck.HEADER) - 1])
def test_a_truncated_header_is_bad_checkpoint_naming_the_file_and_the_fix(tmp_path, cut):
    # issue 18 item 9: a header cut at 15 bytes raised IndexError
    d = tmp_path / "c"
    d.mkdir()
    (d / ck.TASKS_FILENAME).write_bytes(ck.HEADER[:cut])
    path = str(d / ck.TASKS_FILENAME)
    for load in (lambda: ck.read_checkpoint_file(path), lambda: ck.load_checkpoints([str(d)])):
        with pytest.raises(BadCheckpoint) as info:
            load()
        assert path in str(info.value) and "cut short" in str(info.value)
        assert f"rm {path}" in str(info.value)
