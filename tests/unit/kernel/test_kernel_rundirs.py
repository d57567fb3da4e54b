"""Numbered run directories runinfo/000, 001, ..."""
import os
import threading

from parsl.dataflow.rundirs import make_rundir


def test_first_run_is_000_and_base_is_created(tmp_path):
    base = tmp_path / "deep" / "runinfo"
    d = make_rundir(str(base))
    assert d == str(base / "000")
    assert os.path.isdir(d) and os.path.isabs(d)


def test_numbers_follow_the_highest_existing_one(tmp_path):
    for name in ("000", "003", "notes", "12a", "x7"):
        (tmp_path / name).mkdir()
    (tmp_path / "9999.txt").write_text("")
    assert os.path.basename(make_rundir(str(tmp_path))) == "004"
    assert os.path.basename(make_rundir(str(tmp_path))) == "005"


def test_width_grows_past_999(tmp_path):
    (tmp_path / "999").mkdir()
    assert os.path.basename(make_rundir(str(tmp_path))) == "1000"


def test_relative_base_is_made_absolute(tmp_path):
    # the suite runs each test in its own cwd (tmp_path)
    d = make_rundir("runinfo")
    assert d == os.path.join(str(tmp_path), "runinfo", "000")


def test_concurrent_workflows_get_distinct_directories(tmp_path):
    got = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def one():
        barrier.wait(10)
        d = make_rundir(str(tmp_path))
        with lock:
            got.append(d)
    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(set(got)) == 8
    assert sorted(os.path.basename(d) for d in got) == [f"{i:03d}" for i in range(8)]
