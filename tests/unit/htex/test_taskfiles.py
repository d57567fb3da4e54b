"""Large task records reach a worker through a file in shared memory (parsl/_htex/taskfiles.py)."""
import io
import os
import stat
import subprocess
import sys

import pytest

from parsl._htex import protocol, taskfiles


@pytest.fixture
def files(tmp_path):
    f = taskfiles.TaskFiles(str(tmp_path), threshold=1024)
    yield f
    f.close()


def test_only_records_over_the_threshold_use_a_file(files):
    assert not files.wants(b"x" * 1023)
    assert files.wants(b"x" * 1024)
    assert not taskfiles.TaskFiles(None).wants(b"x" * (1 << 30))
    assert not taskfiles.TaskFiles("/nonexistent/dir").wants(b"x" * (1 << 30))


def test_a_record_round_trips_through_its_file_and_pointer(files, tmp_path):
    record = protocol.encode_task(7, b"func", b"a" * 5000)
    path = files.write(7, record)
    assert path is not None and os.path.dirname(path) == str(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, "only the owner may read a task"
    pipe = io.BytesIO(taskfiles.pointer(7, path))
    (n,) = protocol.RECORD_HEAD.unpack(pipe.read(protocol.RECORD_HEAD.size))
    assert n == taskfiles.FILE_POINTER
    task_id, got = taskfiles.read_pointer(pipe.read)
    assert (task_id, got) == (7, path)
    mapped = taskfiles.map_record(got)
    assert not os.path.exists(path), "the worker unlinks the file once it is mapped"
    tid, f, a = protocol.decode_task(mapped)
    assert (tid, bytes(f), bytes(a)) == (7, b"func", b"a" * 5000)
    del f, a
    taskfiles.release(mapped)
    files.done(7)       # already gone: no error
    assert files.paths == {}


def test_a_memoryview_record_is_written_whole(files):
    record = memoryview(bytearray(protocol.encode_task(1, b"f", bytes(range(256)) * 40)))
    path = files.write(1, record)
    with open(path, "rb") as fh:
        assert fh.read() == bytes(record)


def test_files_not_yet_read_are_removed_when_done_and_on_close(files, tmp_path):
    a = files.write(1, b"a" * 2000)
    b = files.write(2, b"b" * 2000)
    files.done(1)       # e.g. the worker holding it died before reading it
    assert not os.path.exists(a) and os.path.exists(b)
    files.close()
    assert os.listdir(tmp_path) == []


def test_a_cut_pointer_is_an_eof():
    head = taskfiles.pointer(3, "/dev/shm/x")[protocol.RECORD_HEAD.size:]
    with pytest.raises(EOFError):
        taskfiles.read_pointer(io.BytesIO(head[:5]).read)
    with pytest.raises(EOFError):
        taskfiles.read_pointer(io.BytesIO(head[:-2]).read)


def test_a_new_manager_removes_files_of_managers_that_died(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    ns = taskfiles._PID_NS
    orphan = tmp_path / f"{taskfiles.PREFIX}{ns}-{dead_pid}-5-abcdef"
    orphan.write_bytes(b"x")
    mine = tmp_path / f"{taskfiles.PREFIX}{ns}-{os.getpid()}-6-abcdef"
    mine.write_bytes(b"x")
    elsewhere = tmp_path / f"{taskfiles.PREFIX}{ns}1-{dead_pid}-5-abcdef"
    elsewhere.write_bytes(b"x")     # another pid namespace: its pids are not ours to judge
    other = tmp_path / "someone-elses-file"
    other.write_bytes(b"x")
    taskfiles.TaskFiles(str(tmp_path))
    assert not orphan.exists(), "its manager no longer runs"
    assert mine.exists() and other.exists() and elsewhere.exists()


def test_an_unwritable_directory_falls_back_to_the_pipe(tmp_path, monkeypatch):
    f = taskfiles.TaskFiles(str(tmp_path), threshold=10)

    def refuse(*a, **k):
        raise PermissionError("no")
    monkeypatch.setattr(os, "open", refuse)
    assert f.write(1, b"x" * 100) is None
    assert not f.wants(b"x" * 100), "after a failure, records use the pipe"
