"""The last lines of a task's stdout/stderr file, for the task page ("why did it fail?"
is usually answered there, not by the exception alone).

The database records the paths the app was given.  A relative path was relative to the
workflow's working directory, which is not recorded: it is tried against the server's
working directory and against the directory holding the workflow's ``runinfo``.  Only a
regular file named in the task's row is read, and only its last ``LIMIT`` bytes.
"""
from __future__ import annotations

import os
from typing import Optional
from urllib.parse import urlparse

LIMIT = 4096


def candidates(path: str, rundir: Optional[str]):
    if os.path.isabs(path):
        yield path
        return
    yield os.path.abspath(path)
    if rundir:
        # <cwd>/runinfo/NNN -> <cwd>
        yield os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(rundir))), path)


def tail(path: Optional[str], rundir: Optional[str] = None, limit: int = LIMIT) -> Optional[str]:
    """The end of the file (text, undecodable bytes replaced); None if it cannot be found
    or read.  Starts at a line boundary when it had to cut."""
    if not path:
        return None
    path = str(path)
    if path.startswith("file://"):        # a File given as stdout is recorded as its URL
        path = urlparse(path).path
    for p in candidates(path, rundir):
        try:
            if not os.path.isfile(p):
                continue
            with open(p, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - limit))
                data = f.read(limit)
        except OSError:
            continue
        if size > limit:
            cut = data.find(b"\n")
            if 0 <= cut < len(data) - 1:
                data = data[cut + 1:]
            data = b"...\n" + data
        return data.decode("utf-8", errors="replace")
    return None
