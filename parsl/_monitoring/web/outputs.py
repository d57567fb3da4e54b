"""A task's stdout/stderr on its page, served safely.

The database records the path the app was given; anyone who can write a task record (or
the database) chooses that path, and the page may be seen by others.  So a file is shown
only if, with symlinks resolved, it lies inside the workflow's run directory or the
workflow's own directory (the one holding ``runinfo``, where relative paths point), is a
regular file, and only its last ``LIMIT`` bytes are read.  Anything else gets a refusal
that says why, never the file.

A relative path was relative to the workflow's working directory, which is not recorded:
it is looked up there (next to ``runinfo``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional
from urllib.parse import urlparse

import sqlalchemy as sa

LIMIT = 64 * 1024


@dataclass
class TryOutput:
    text: Optional[str] = None
    source: str = ""
    refusal: Optional[str] = None


def allowed_roots(rundir: Optional[str]) -> List[str]:
    """The run directory and the workflow directory (``<dir>/runinfo/NNN`` -> ``<dir>``)."""
    if not rundir:
        return []
    run = os.path.realpath(rundir)
    roots = [run]
    if os.path.basename(os.path.dirname(run)) == "runinfo":
        roots.append(os.path.dirname(os.path.dirname(run)))
    return roots


def _inside(path: str, roots: List[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def resolve(recorded: str, rundir: Optional[str]):
    """(real path, None) when the recorded path may be shown, else (None, why not)."""
    path = str(recorded)
    if path.startswith("file://"):        # a File given as stdout is recorded as its URL
        path = urlparse(path).path
    roots = allowed_roots(rundir)
    if not roots:
        return None, "not shown: the workflow recorded no run directory to read it from"
    if not os.path.isabs(path):
        path = os.path.join(roots[-1], path)
    real = os.path.realpath(path)
    if not _inside(real, roots):
        return None, ("not shown: it is outside the workflow's directory "
                      f"({roots[-1]}); parsl-visualize only serves files inside it")
    if not os.path.exists(real):
        return None, "not found (moved or deleted since the run?)"
    if not os.path.isfile(real):
        return None, "not shown: not a regular file"
    return real, None


def tail(real: str, limit: int = LIMIT) -> Optional[str]:
    """The end of the file (text, undecodable bytes replaced), from a line boundary when it
    had to cut; None if it cannot be read."""
    try:
        with open(real, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - limit))
            data = f.read(limit)
    except OSError:
        return None
    if size > limit:
        cut = data.find(b"\n")
        if 0 <= cut < len(data) - 1:
            data = data[cut + 1:]
        data = b"...\n" + data
    return data.decode("utf-8", errors="replace")


def recorded(conn, run_id: str, task_id: int) -> dict:
    """{(try_id, stream): row} of the task's recorded outputs ({} in a database from before
    the ``try_output`` table)."""
    try:
        rows = conn.execute(sa.text(
            "SELECT try_id, stream, path, start_offset, end_offset, output FROM try_output"
            " WHERE run_id = :r AND task_id = :t"), {"r": run_id, "t": task_id}).fetchall()
    except sa.exc.OperationalError:      # no such table: an older database
        conn.rollback()
        return {}
    return {(row[0], row[1]): row for row in rows}


def read_output(conn, wf: dict, task: dict, try_row: dict, stream: str, last: bool,
                records: Optional[dict] = None) -> Optional[TryOutput]:
    """What the task page shows of ``stream`` ('stdout'/'stderr') for one try; None when the
    task named no such file.  Output recorded when the try ended is shown as recorded;
    otherwise (an older database, or a try still running) the file's end, under the
    task's latest try only, and only from an allowed place."""
    recorded_path = task.get(f"task_{stream}")
    row = (records or {}).get((try_row.get("try_id"), stream))
    if row is not None:
        _, _, path, start, end, text = row
        return TryOutput(text=text or "", source=f"{path}, bytes {start}-{end}, recorded when try "
                                                 f"{try_row.get('try_id')} ended")
    if not recorded_path or not last:
        return None
    real, why = resolve(recorded_path, wf.get("rundir"))
    if real is None:
        return TryOutput(refusal=f"{recorded_path}: {why}")
    text = tail(real)
    if text is None:
        return TryOutput(refusal=f"{recorded_path}: could not be read")
    return TryOutput(text=text, source=f"{recorded_path}, the file's last {LIMIT // 1024} KB now "
                                       f"(this try's output was not recorded)")
