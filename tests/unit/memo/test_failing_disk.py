"""A disk that fails under the checkpoint writer and the log file (issue 18, item 4).

The failure is injected (os.write raising ENOSPC after a partial write; /dev/full for the
log), so these run anywhere; tests/integration/checkpoint/test_full_disk.py fills a real tmpfs.
"""
import errno
import logging
import os
import stat
import warnings

import pytest

from parsl._base.logfiles import SafeFileHandler
from parsl._core import checkpoint as ck


def key(i):
    return f"{i:032x}"


class DiskFull:
    """Replaces os.write in the checkpoint module: while ``full``, a write takes half its
    bytes and then fails with ENOSPC, as a filling disk does."""

    def __init__(self, monkeypatch):
        self.full = False
        real = os.write

        def write(fd, data):
            if not self.full:
                return real(fd, data)
            data = bytes(data)
            if len(data) > 1:
                real(fd, data[:len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(ck.os, "write", write)


def test_a_failed_write_is_reported_once_and_claims_nothing(tmp_path, monkeypatch):
    disk = DiskFull(monkeypatch)
    w = ck.CheckpointWriter(str(tmp_path / "c"))
    w.add(key(1), b"", "one")
    assert w.flush() == 1
    disk.full = True
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for i in range(2, 6):
            w.add(key(i), b"", "x" * 100)
            with pytest.raises(ck.CheckpointWriteError) as info:
                w.flush()
            assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
            assert w.path in str(info.value)
    assert len([x for x in seen if issubclass(x.category, ck.CheckpointWriteWarning)]) == 1
    assert w.records_written == 1 and w.unwritten() == 4
    # The partial writes were cut back: the file holds exactly the one record, undamaged.
    assert ck.read_checkpoint_file(w.path).results == {key(1): "one"}
    # Space again: the queued records go out, nothing lost.
    disk.full = False
    assert w.flush() == 4
    w.close()
    assert len(ck.read_checkpoint_file(w.path).results) == 5


def test_close_on_a_full_disk_warns_with_the_tally_and_does_not_raise(tmp_path, monkeypatch):
    disk = DiskFull(monkeypatch)
    w = ck.CheckpointWriter(str(tmp_path / "c"))
    w.add(key(1), b"", 1)
    w.flush()
    disk.full = True
    w.add(key(2), b"", 2)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        w.close()                  # first met at close: one warning, with the count
    msgs = [str(x.message) for x in seen if issubclass(x.category, ck.CheckpointWriteWarning)]
    assert len(msgs) == 1 and "1 result(s)" in msgs[0]
    assert ck.read_checkpoint_file(w.path).results == {key(1): 1}


def test_the_background_writer_reports_once_and_stops_retrying(tmp_path, monkeypatch):
    disk = DiskFull(monkeypatch)
    disk.full = True
    w = ck.CheckpointWriter(str(tmp_path / "c"), delay=0.0)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        w.add(key(1), b"", 1)
        from waiting import wait_until
        wait_until(lambda: w.failure is not None, "the writer to meet the full disk", timeout=10)
        for i in range(2, 50):
            w.add(key(i), b"", i)
        w.close()
    msgs = [x for x in seen if issubclass(x.category, ck.CheckpointWriteWarning)]
    assert 1 <= len(msgs) <= 2          # the failure at once, then the final tally
    assert not os.path.exists(w.path)   # nothing claimed: no checkpoint was ever written
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".c.tmp")]  # no half-made dir


def test_checkpoint_files_are_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        w = ck.CheckpointWriter(str(tmp_path / "c"))
        w.add(key(1), b"", 1)
        w.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(w.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(w.dir).st_mode) == 0o700


def test_the_log_file_switches_itself_off_once_when_the_disk_fails(tmp_path, capfd):
    h = SafeFileHandler(str(tmp_path / "parsl.log"))
    assert stat.S_IMODE(os.stat(tmp_path / "parsl.log").st_mode) == 0o600
    h.stream.close()
    h.stream = open("/dev/full", "a")      # every flush now fails with ENOSPC
    lg = logging.getLogger("chervil-test-full-disk")
    lg.propagate = False
    lg.addHandler(h)
    lg.setLevel(logging.INFO)
    try:
        for i in range(500):
            lg.info("record %d", i)
        h.close()                          # never raises
    finally:
        lg.removeHandler(h)
    err = capfd.readouterr().err
    assert "Logging error" not in err
    assert err.count("cannot write the log file") == 1
    assert "parsl.log" in err and "switched off" in err
