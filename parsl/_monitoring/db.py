"""The monitoring database: schema, connection set-up and batched writes.

The schema holds Parsl's tables with today's columns *and* the tutorial-era (1.0) ones,
so code written against either keeps working:

* ``task.task_time_submitted`` (= invoked), ``task.task_time_running``,
  ``task.hostname``, ``task.task_executor``, ``task.task_fail_history``;
* ``resource.psutil_process_cpu_percent`` (computed, not always 0 as it was);
* ``status.hostname``, ``workflow.workflow_duration``, ``node.reg_time``.

``task.task_status_name`` (the latest state) is ours: it keeps "tasks by state" a
single indexed GROUP BY instead of a scan of ``status``.

Indexes follow the queries the web view and users make (everything is per ``run_id``
first).  SQLite runs in WAL mode so a reader (pandas, parsl-visualize) never blocks the
writer and the writer never sees "database is locked" from a reader.

Only the writer thread (``router.MonitoringRouter``) calls ``Database.write``.
SQLAlchemy is imported here and nowhere on ``import parsl``'s path.
"""
from __future__ import annotations

import itertools
import json
import os
from datetime import datetime as _datetime
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Union

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

    _Upsert = Union[SqliteInsert, PostgresInsert]

metadata = MetaData()

WORKFLOW = Table(
    "workflow", metadata,
    Column("run_id", Text, primary_key=True),
    Column("workflow_name", Text),
    Column("workflow_version", Text),
    Column("time_began", DateTime),
    Column("time_completed", DateTime),
    Column("host", Text),
    Column("user", Text),
    Column("rundir", Text),
    Column("tasks_failed_count", Integer),
    Column("tasks_completed_count", Integer),
    Column("workflow_duration", Float),                 # 1.0
    # ours: why this run's monitoring record is known to be incomplete (NULL: it is not)
    Column("monitoring_incomplete", Text),
)

TASK = Table(
    "task", metadata,
    Column("task_id", Integer, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("task_depends", Text),
    Column("task_func_name", Text),
    Column("task_memoize", Text),
    Column("task_hashsum", Text),
    Column("task_inputs", Text),
    Column("task_outputs", Text),
    Column("task_stdin", Text),
    Column("task_stdout", Text),
    Column("task_stderr", Text),
    Column("task_time_invoked", DateTime),
    Column("task_time_returned", DateTime),
    Column("task_fail_count", Integer),
    Column("task_fail_cost", Float),
    Column("task_time_submitted", DateTime),            # 1.0 (= invoked)
    Column("task_time_running", DateTime),              # 1.0 (latest try's start)
    Column("hostname", Text),                           # 1.0
    Column("task_executor", Text),                      # 1.0
    Column("task_fail_history", Text),                  # 1.0
    Column("task_status_name", Text),                   # ours: latest state
    # (run_id, task_id) rather than Parsl's (task_id, run_id): every query is per run.
    PrimaryKeyConstraint("run_id", "task_id"),
)

TRY = Table(
    "try", metadata,
    Column("try_id", Integer, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("block_id", Text),
    Column("hostname", Text),
    Column("task_executor", Text),
    Column("task_try_time_launched", DateTime),
    Column("task_try_time_running", DateTime),
    Column("task_try_time_returned", DateTime),
    Column("task_fail_history", Text),
    Column("task_joins", Text),
    PrimaryKeyConstraint("run_id", "task_id", "try_id"),
)

# status and resource are append-only logs: no primary key (Parsl's composite keys made
# two samples with one timestamp an integrity error that lost the whole batch).
STATUS = Table(
    "status", metadata,
    Column("task_id", Integer, nullable=False),
    Column("task_status_name", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("try_id", Integer),
    Column("hostname", Text),                           # 1.0
)

RESOURCE = Table(
    "resource", metadata,
    Column("try_id", Integer),
    Column("task_id", Integer, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("resource_monitoring_interval", Float),
    Column("psutil_process_pid", Integer),
    Column("psutil_process_cpu_percent", Float),        # 1.0
    Column("psutil_process_memory_percent", Float),
    Column("psutil_process_children_count", Float),
    Column("psutil_process_time_user", Float),
    Column("psutil_process_time_system", Float),
    Column("psutil_process_memory_virtual", Float),
    Column("psutil_process_memory_resident", Float),
    Column("psutil_process_disk_read", Float),
    Column("psutil_process_disk_write", Float),
    Column("psutil_process_status", Text),
    Column("psutil_cpu_num", Text),
    Column("psutil_process_num_ctx_switches_voluntary", Float),
    Column("psutil_process_num_ctx_switches_involuntary", Float),
    Column("hostname", Text),                           # ours: where the sample was taken
)

NODE = Table(
    "node", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Text, nullable=False),
    Column("hostname", Text),
    Column("uid", Text),
    Column("block_id", Text),
    Column("cpu_count", Integer),
    Column("total_memory", BigInteger),
    Column("active", Boolean),
    Column("worker_count", Integer),
    Column("python_v", Text),
    Column("timestamp", DateTime),
    Column("last_heartbeat", DateTime),
    Column("reg_time", DateTime),                       # 1.0
)

#: ours: the last chunk of each run's event stream committed, written with its rows, so a
#: replacement writer process skips chunks it is sent again (``writer_client``)
PROGRESS = Table(
    "writer_progress", metadata,
    Column("run_id", Text, primary_key=True),
    Column("last_chunk", BigInteger, nullable=False),
)

#: ours: the HTEX workers' descriptions (JSON) a replacement writer needs to read their
#: end-of-task records (``events.BatchBuilder.workers``)
WORKERS = Table(
    "writer_workers", metadata,
    Column("run_id", Text, nullable=False),
    Column("worker_key", BigInteger, nullable=False),
    Column("hello", Text),
    PrimaryKeyConstraint("run_id", "worker_key"),
)

BLOCK = Table(
    "block", metadata,
    Column("run_id", Text, nullable=False),
    Column("executor_label", Text),
    Column("block_id", Text),
    Column("job_id", Text),
    Column("timestamp", DateTime),
    Column("status", Text),
)

# ours: each try's stdout/stderr as it stood when the try ended (its last 64 KB), with
# the byte range of the file the try wrote; the web view shows it per try.
TRY_OUTPUT = Table(
    "try_output", metadata,
    Column("run_id", Text, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("try_id", Integer, nullable=False),
    Column("stream", Text, nullable=False),            # 'stdout' or 'stderr'
    Column("path", Text),
    Column("start_offset", BigInteger),
    Column("end_offset", BigInteger),
    Column("output", Text),
    Column("timestamp", DateTime),
)

Index("task_run_status_idx", TASK.c.run_id, TASK.c.task_status_name)
Index("task_run_func_idx", TASK.c.run_id, TASK.c.task_func_name, TASK.c.task_id)
Index("task_hashsum_idx", TASK.c.task_hashsum)
Index("status_run_task_idx", STATUS.c.run_id, STATUS.c.task_id)
Index("resource_run_task_idx", RESOURCE.c.run_id, RESOURCE.c.task_id, RESOURCE.c.timestamp)
Index("resource_run_time_idx", RESOURCE.c.run_id, RESOURCE.c.timestamp)
Index("node_run_idx", NODE.c.run_id)
Index("block_run_idx", BLOCK.c.run_id, BLOCK.c.block_id)
Index("workflow_began_idx", WORKFLOW.c.time_began)
Index("try_output_run_task_idx", TRY_OUTPUT.c.run_id, TRY_OUTPUT.c.task_id, TRY_OUTPUT.c.try_id)

TABLES = {t.name: t for t in (WORKFLOW, TASK, TRY, STATUS, RESOURCE, NODE, BLOCK, TRY_OUTPUT)}
#: the columns a row tuple holds, in order (all but an autoincrement key)
_ROW_COLUMNS = {name: tuple(c.name for c in t.columns if not (c.primary_key and c.autoincrement is True))
                for name, t in TABLES.items()}


def table_columns(name: str) -> tuple:
    """The columns of a row tuple of table ``name``, in order."""
    return _ROW_COLUMNS[name]

# Columns whose first non-NULL value is kept: a late fallback must not overwrite the real
# start time a worker reported earlier.
FIRST_WINS = frozenset({"task_time_running", "task_try_time_running", "task_time_invoked",
                        "task_time_submitted", "task_try_time_launched"})


def default_url() -> str:
    """``monitoring.db`` in the current working directory, as the tutorial reads it (a link
    to ``runinfo/monitoring.db`` after a run with a default ``MonitoringHub``)."""
    return "sqlite:///" + os.path.abspath("monitoring.db")


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    # 16 KiB pages for a new database (no effect on an existing one): ~8% less time per
    # row written, mostly in WAL checkpoints (measured on this schema).
    cur.execute("PRAGMA page_size=16384")
    # WAL: readers never block the writer; NORMAL is durable across a crash of this
    # process (only a power loss can drop the last commits).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> sa.engine.Engine:
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def create_schema(engine: sa.engine.Engine) -> None:
    """Create missing tables and indexes; add 1.0/ours columns to an older database."""
    metadata.create_all(engine, checkfirst=True)
    insp = sa.inspect(engine)
    with engine.begin() as conn:
        for name, table in TABLES.items():
            have = {c["name"] for c in insp.get_columns(name)}
            for col in table.columns:
                if col.name not in have:
                    ddl = col.type.compile(dialect=engine.dialect)
                    conn.execute(sa.text(f'ALTER TABLE "{name}" ADD COLUMN "{col.name}" {ddl}'))


class Batch:
    """Rows to write in one transaction, already merged per key (see ``events``).

    Each list holds row tuples in ``table_columns`` order, with timestamps as SQLite's
    DateTime text (what ``events.BatchBuilder`` makes), or dicts by column name with
    datetime values (convenient for other writers); never both in one list."""

    __slots__ = ("workflows", "tasks", "tries", "status", "resource", "node", "block", "try_output",
                 "completed", "failed", "progress", "hellos")

    def __init__(self):
        self.workflows: List[dict] = []
        self.tasks: List[dict] = []
        self.tries: List[dict] = []
        self.status: List[dict] = []
        self.resource: List[dict] = []
        self.node: List[dict] = []
        self.block: List[dict] = []
        self.try_output: List[dict] = []
        #: run_id -> number of tasks that reached a final success / failure state
        self.completed: Dict[str, int] = {}
        self.failed: Dict[str, int] = {}
        #: (run_id, number of the last chunk these rows came from), written with them
        self.progress: Optional[tuple] = None
        #: HTEX workers' descriptions learnt in this batch: (run_id, worker_key, JSON text)
        self.hellos: List[tuple] = []

    def __len__(self):
        return (len(self.workflows) + len(self.tasks) + len(self.tries) + len(self.status)
                + len(self.resource) + len(self.node) + len(self.block) + len(self.hellos)
                + len(self.try_output))


_BATCH_TABLES = (("workflow", "workflows"), ("task", "tasks"), ("try", "tries"), ("status", "status"),
                 ("resource", "resource"), ("node", "node"), ("block", "block"), ("try_output", "try_output"))


def _full_rows(table: Table, rows: Iterable) -> List[dict]:
    """Rows as dicts with every column (executemany needs the same keys in every row);
    tuples' DateTime text back to datetime for SQLAlchemy."""
    names = table_columns(table.name)
    rows = list(rows)
    if rows and not isinstance(rows[0], dict):
        dts = [c.name for c in table.columns if isinstance(c.type, DateTime)]
        out = []
        for r in rows:
            d = dict(zip(names, r))
            for k in dts:
                if isinstance(d.get(k), str):
                    d[k] = _datetime.fromisoformat(d[k])
            out.append(d)
        return out
    return [{n: r.get(n) for n in names} for r in rows]


class Database:
    """The monitoring store behind one SQLAlchemy URL."""

    def __init__(self, url: Optional[str] = None):
        self.url = url or default_url()
        self.engine = make_engine(self.url)
        create_schema(self.engine)
        self._dialect = self.engine.dialect.name
        self._upserts: Dict[str, _Upsert] = {}     # table name -> its INSERT .. ON CONFLICT

    def _upsert_stmt(self, table: Table) -> Optional[_Upsert]:
        stmt = self._upserts.get(table.name)
        if stmt is None and self._dialect in ("sqlite", "postgresql"):
            ins: _Upsert
            if self._dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert
                ins = sqlite_insert(table)
            else:
                from sqlalchemy.dialects.postgresql import insert as postgres_insert
                ins = postgres_insert(table)
            keys = [c.name for c in table.primary_key.columns]
            # NULL in a new row means "not known in this batch": keep the stored value.
            sets = {}
            for c in table.columns:
                if c.name in keys:
                    continue
                new, old = ins.excluded[c.name], table.c[c.name]
                sets[c.name] = sa.func.coalesce(old, new) if c.name in FIRST_WINS else sa.func.coalesce(new, old)
            stmt = self._upserts[table.name] = ins.on_conflict_do_update(index_elements=keys, set_=sets)
        return stmt

    def _upsert(self, conn, table: Table, rows: List[dict]) -> None:
        if not rows:
            return
        rows = _full_rows(table, rows)
        stmt = self._upsert_stmt(table)
        if stmt is not None:
            conn.execute(stmt, rows)
            return
        # Other databases: update what exists, insert the rest (only the writer writes).
        keys = [c.name for c in table.primary_key.columns]
        for row in rows:
            where = sa.and_(*[table.c[k] == row[k] for k in keys])
            values = {k: v for k, v in row.items() if v is not None and k not in keys}
            if not values or conn.execute(table.update().where(where).values(**values)).rowcount == 0:
                conn.execute(table.insert().values(**row))

    def write(self, batch: Batch) -> None:
        """Write one batch in one transaction (all or nothing)."""
        if self._dialect == "sqlite":
            self._write_sqlite(batch)
            return
        with self.engine.begin() as conn:
            self._upsert(conn, WORKFLOW, batch.workflows)
            self._upsert(conn, TASK, batch.tasks)
            self._upsert(conn, TRY, batch.tries)
            for table, rows in ((STATUS, batch.status), (RESOURCE, batch.resource),
                                (NODE, batch.node), (BLOCK, batch.block), (TRY_OUTPUT, batch.try_output)):
                if rows:
                    conn.execute(table.insert(), _full_rows(table, rows))
            for run_id in set(batch.completed) | set(batch.failed):
                conn.execute(WORKFLOW.update().where(WORKFLOW.c.run_id == run_id).values(
                    tasks_completed_count=sa.func.coalesce(WORKFLOW.c.tasks_completed_count, 0)
                    + batch.completed.get(run_id, 0),
                    tasks_failed_count=sa.func.coalesce(WORKFLOW.c.tasks_failed_count, 0)
                    + batch.failed.get(run_id, 0)))
            for run_id, key, hello in batch.hellos:
                conn.execute(WORKERS.delete().where(WORKERS.c.run_id == run_id, WORKERS.c.worker_key == key))
                conn.execute(WORKERS.insert().values(run_id=run_id, worker_key=key, hello=hello))
            if batch.progress is not None:
                run_id, last = batch.progress
                where = PROGRESS.c.run_id == run_id
                if conn.execute(PROGRESS.update().where(where).values(last_chunk=last)).rowcount == 0:
                    conn.execute(PROGRESS.insert().values(run_id=run_id, last_chunk=last))

    # --- SQLite fast path ------------------------------------------------------------
    # The same statements as the SQLAlchemy path, run through the DBAPI connection with
    # tuples: SQLAlchemy's per-row parameter processing cost ~4x more than the insert.
    # Rows go ROWS_PER_STATEMENT to one multi-row INSERT: each statement executed costs a
    # fixed ~1 us (reset, step, the module's per-call work) however many rows it carries,
    # so 1.5 million status rows take ~2.0 s instead of ~3.5 s (measured on this schema).
    # A statement holds at most 999 parameters: SQLite before 3.32 allows no more.
    ROWS_PER_STATEMENT = 50
    MAX_PARAMETERS = 999

    def _sqlite_sql(self):
        """table name -> (statement for one row, statement for k rows, k, columns, indexes
        of the DateTime columns); k is ROWS_PER_STATEMENT or what MAX_PARAMETERS allows."""
        sql = getattr(self, "_sqlite_statements", None)
        if sql is None:
            sql = {}
            for table in TABLES.values():
                cols = table_columns(table.name)
                names = ", ".join(f'"{c}"' for c in cols)
                row = "(" + ", ".join("?" for _ in cols) + ")"
                head = f'INSERT INTO "{table.name}" ({names}) VALUES '
                tail = ""
                keys = [c.name for c in table.primary_key.columns]
                if table.name in ("workflow", "task", "try"):
                    sets = ", ".join(
                        f'"{c}" = coalesce("{table.name}"."{c}", excluded."{c}")' if c in FIRST_WINS
                        else f'"{c}" = coalesce(excluded."{c}", "{table.name}"."{c}")'
                        for c in cols if c not in keys)
                    tail = f' ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {sets}'
                datetimes = [i for i, c in enumerate(cols) if isinstance(table.c[c].type, DateTime)]
                k = max(1, min(self.ROWS_PER_STATEMENT, self.MAX_PARAMETERS // len(cols)))
                sql[table.name] = (head + row + tail, head + ", ".join([row] * k) + tail, k, cols, datetimes)
            self._sqlite_statements = sql
        return sql

    def _insert_sqlite(self, cur, statements, rows: list) -> None:
        one, many, k, _, _ = statements
        whole = len(rows) - len(rows) % k
        if whole:
            flat = itertools.chain.from_iterable
            cur.executemany(many, (tuple(flat(rows[i:i + k])) for i in range(0, whole, k)))
        if whole < len(rows):
            cur.executemany(one, rows[whole:])

    def _write_sqlite(self, batch: Batch) -> None:
        sql = self._sqlite_sql()
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            for name, attr in _BATCH_TABLES:
                rows = getattr(batch, attr)
                if rows:
                    statements = sql[name]
                    if isinstance(rows[0], dict):
                        _, _, _, cols, dts = statements
                        rows = [_sqlite_tuple(r, cols, dts) for r in rows]
                    self._insert_sqlite(cur, statements, rows)
            for run_id in set(batch.completed) | set(batch.failed):
                cur.execute("UPDATE workflow SET tasks_completed_count = coalesce(tasks_completed_count, 0) + ?,"
                            " tasks_failed_count = coalesce(tasks_failed_count, 0) + ? WHERE run_id = ?",
                            (batch.completed.get(run_id, 0), batch.failed.get(run_id, 0), run_id))
            if batch.hellos:
                cur.executemany("INSERT OR REPLACE INTO writer_workers (run_id, worker_key, hello) VALUES (?, ?, ?)",
                                batch.hellos)
            if batch.progress is not None:
                cur.execute("INSERT INTO writer_progress (run_id, last_chunk) VALUES (?, ?) ON CONFLICT (run_id)"
                            " DO UPDATE SET last_chunk = excluded.last_chunk", batch.progress)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def fill_running_fallback(self, run_id: str) -> None:
        """At the end of a run, give tasks no worker reported a start for their launch time,
        so the tutorial's Gantt (which reads ``task_time_running``) has a bar for each."""
        with self.engine.begin() as conn:
            conn.execute(sa.text(
                "UPDATE task SET task_time_running = (SELECT max(t.task_try_time_launched) FROM try t"
                " WHERE t.run_id = task.run_id AND t.task_id = task.task_id)"
                " WHERE run_id = :r AND task_time_running IS NULL"), {"r": run_id})

    def committed_chunk(self, run_id: str) -> int:
        """The number of the last chunk of ``run_id`` whose rows are written (0: none)."""
        with self.engine.connect() as conn:
            n = conn.execute(sa.select(PROGRESS.c.last_chunk).where(PROGRESS.c.run_id == run_id)).scalar()
        return int(n or 0)

    def task_states(self, run_id: str) -> List[tuple]:
        """(task_id, latest state) of every task of ``run_id`` (what a replacement writer
        needs to know of the tasks still live)."""
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(TASK.c.task_id, TASK.c.task_status_name).where(
                TASK.c.run_id == run_id, TASK.c.task_status_name.is_not(None)))]

    def worker_hellos(self, run_id: str) -> List[dict]:
        """The HTEX workers' descriptions written for ``run_id``."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(WORKERS.c.hello).where(WORKERS.c.run_id == run_id)).scalars().all()
        return [json.loads(r) for r in rows if r]

    def mark_incomplete(self, run_id: str, reason: str, ended: bool = False) -> None:
        """Say in the workflow's row why its record is incomplete (the first reason stays
        first); ``ended``: the run is over, so a row still without ``time_completed`` gets now
        (a workflow must not show as running forever)."""
        w = WORKFLOW.c
        values: Dict[str, Any] = {"monitoring_incomplete": sa.case((w.monitoring_incomplete.is_(None), reason),
                                                   else_=w.monitoring_incomplete + "; " + reason)}
        if ended:
            values["time_completed"] = sa.func.coalesce(w.time_completed, _datetime.now())
        with self.engine.begin() as conn:
            if conn.execute(WORKFLOW.update().where(w.run_id == run_id).values(**values)).rowcount == 0:
                conn.execute(WORKFLOW.insert().values(run_id=run_id, monitoring_incomplete=reason,
                                                      time_completed=_datetime.now() if ended else None))

    def optimize(self) -> None:
        """Refresh the planner's statistics where they went stale (cheap in SQLite: it only
        analyzes tables that changed a lot), so a big database stays quick to query."""
        if self._dialect == "sqlite":
            with self.engine.begin() as conn:
                conn.execute(sa.text("PRAGMA optimize"))
        elif self._dialect == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_text(v):
    # SQLAlchemy's SQLite DateTime storage format, so both write paths read back alike.
    return v.isoformat(" ", "microseconds") if isinstance(v, _datetime) else v   # 5x faster than strftime


def _sqlite_tuple(row: dict, cols, dts) -> tuple:
    values = [row.get(c) for c in cols]
    for i in dts:
        v = values[i]
        if v is not None:
            values[i] = _sqlite_text(v)
    return tuple(values)
