"""Issue 18 item 4 (monitoring): "database is locked" is retried, a write that cannot succeed
("database or disk is full", read-only, I/O error) is reported once and not retried."""
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from parsl._monitoring import writer_process as wp


class FakeDB:
    def __init__(self, errors):
        self.errors = list(errors)
        self.calls = 0

    def write(self, batch):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


def _sqlite_error(text):
    try:                       # a real one: it carries sqlite_errorname on Python >= 3.11
        con = sqlite3.connect(":memory:")
        if "full" in text:
            con.execute("PRAGMA max_page_count=2")
            con.execute("CREATE TABLE t (x)")
            con.execute("INSERT INTO t VALUES (randomblob(100000))")
    except sqlite3.OperationalError as e:
        return e
    return sqlite3.OperationalError(text)


@pytest.mark.parametrize("error", [
    _sqlite_error("database or disk is full"),
    sqlite3.OperationalError("attempt to write a readonly database"),
    OperationalError("INSERT ...", {}, sqlite3.OperationalError("disk I/O error")),
    ValueError("a bug"),
])
def test_a_permanent_error_is_reported_once_at_once(error):
    db, result = FakeDB([error] * 5), wp.WriteResult()
    assert not wp.is_transient(error)
    assert wp.write_with_retries(db, [1, 2, 3], result) is False
    assert db.calls == 1 and result.lost_batches == 1 and result.lost_rows == 3
    assert type(error).__name__ in result.first_error
    first = result.first_error
    assert wp.write_with_retries(db, [4], result) is False
    assert result.first_error == first and result.lost_batches == 2


def test_a_busy_database_is_retried_until_it_is_free(monkeypatch):
    monkeypatch.setattr(wp.time, "sleep", lambda s: None)
    locked = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
    assert wp.is_transient(locked)
    db, result = FakeDB([locked] * 3), wp.WriteResult()
    assert wp.write_with_retries(db, [1], result) is True
    assert db.calls == 4 and result.first_error is None


def test_a_database_busy_for_too_long_is_reported(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(wp.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    monkeypatch.setattr(wp.time, "monotonic", lambda: clock[0])
    db, result = FakeDB([sqlite3.OperationalError("database is locked")] * 1000), wp.WriteResult()
    assert wp.write_with_retries(db, [1], result, retry_for=10) is False
    assert "stayed busy for 10 s" in result.first_error and clock[0] <= 10
