"""Opening a monitoring database for reading, as every viewer entry point does
(``parsl-visualize``, ``parsl-visualize --progress``).

A viewer never creates or changes a database: an SQLite file is opened read-only (a
missing file is an error, not a new empty database), and a file that is not a
monitoring database (not SQLite, or without Parsl's ``workflow`` and ``task`` tables) is
refused with a message that says what was found and what to pass instead.
"""
from __future__ import annotations

import os
from urllib.parse import quote

import sqlalchemy as sa

REQUIRED_TABLES = ("workflow", "task")


class DatabaseUnusable(Exception):
    """The URL names no monitoring database (missing, not SQLite, or of another program)."""


def sqlite_path(url: str):
    """The file an ``sqlite:`` URL names, or None (memory, other databases)."""
    if not url.startswith("sqlite"):
        return None
    path = sa.engine.make_url(url).database
    return None if not path or path == ":memory:" else path


def open_read_engine(url: str) -> sa.engine.Engine:
    """An engine for ``url`` that only reads; raise ``DatabaseUnusable`` with a clear message
    if there is no monitoring database there."""
    path = sqlite_path(url)
    if path is not None:
        if not os.path.exists(path):
            raise DatabaseUnusable(
                f"no monitoring database at {path}. Run a workflow with "
                f"Config(monitoring=MonitoringHub(...)) first, or pass the database's path or URL, "
                f"e.g. parsl-visualize runinfo/monitoring.db")
        if not os.path.isfile(path):
            raise DatabaseUnusable(f"{path} is not a file; pass the monitoring database's path")
        # mode=ro: SQLite never creates or writes the file (WAL's -shm is shared memory the
        # writer already made, or SQLite's own short-lived one).
        ro = f"sqlite:///file:{quote(os.path.abspath(path))}?mode=ro&uri=true"
        engine = sa.create_engine(ro, connect_args={"check_same_thread": False})
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        names = set(sa.inspect(engine).get_table_names())
    except sa.exc.DBAPIError as e:
        engine.dispose()
        where = path or url
        raise DatabaseUnusable(f"{where} could not be read as a database ({e.orig}); "
                               f"pass the monitoring database a workflow wrote (monitoring.db)") from None
    missing = [t for t in REQUIRED_TABLES if t not in names]
    if missing:
        engine.dispose()
        where = path or url
        have = ", ".join(sorted(names)[:8]) or "no tables"
        raise DatabaseUnusable(f"{where} is not a Parsl monitoring database (it has {have}; "
                               f"a monitoring database has the tables {', '.join(REQUIRED_TABLES)}); "
                               f"pass the monitoring.db a workflow wrote")
    return engine
