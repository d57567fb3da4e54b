"""Each try's stdout/stderr, recorded when the try ends, and each failed try's traceback.

An app's ``stdout``/``stderr`` file holds every try's output appended (and a later run's,
if it names the same file), so reading the file later cannot say which try wrote what.
The kernel tells ``TryRecorder`` (the hub's ``try_observer()``) just before a try is
submitted and when it returns, in the kernel's thread, before a retry can start: the
first call notes each file's size, the second reads what the try added (its last
``LIMIT`` bytes) and queues it for the ``try_output`` table with its byte range.  A failed
try's traceback goes to the same table (stream ``traceback``).

Only tasks that name ``stdout``/``stderr`` get here (the kernel checks that first); the
cost is a ``stat`` per file at launch and a read of at most ``LIMIT`` bytes at the end.
Paths are as the app gave them: relative ones are relative to this process's working
directory, where a local worker writes them too; a file on another host's disk that
this process cannot see records nothing.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Callable, Dict, Optional, Tuple
from urllib.parse import urlparse

from parsl._base.monitoring_sink import TryObserver
from parsl._sampling import records

LIMIT = 64 * 1024
STREAMS = ("stdout", "stderr")


def local_path(spec) -> Tuple[Optional[str], bool]:
    """(path, truncated at open?) of a stdout/stderr spec: a path, ``(path, mode)``, a
    ``File`` (its local path); (None, False) for anything else."""
    mode = "a"
    if isinstance(spec, tuple) and len(spec) == 2:
        spec, mode = spec
    if isinstance(spec, (str, os.PathLike)):
        try:
            path = os.fspath(spec)
        except TypeError:
            return None, False
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return path, "w" in str(mode)
    url = getattr(spec, "url", None)
    if isinstance(url, str):
        p = urlparse(url)
        if p.scheme in ("", "file"):
            return p.path, False
    return None, False


def read_range(path: str, start: int, end: int, limit: int = LIMIT) -> str:
    """Bytes ``start``..``end`` of the file, at most the last ``limit`` of them."""
    with open(path, "rb") as f:
        first = max(start, end - limit)
        f.seek(first)
        data = f.read(end - first)
    text = data.decode("utf-8", errors="replace")
    return ("...\n" + text) if first > start else text


class TryRecorder(TryObserver):
    """The hub's ``TryObserver``: the output each try added to its files, and the traceback
    of each failed try, queued as ``try_output`` rows.  Thread-safe (tries end on executor
    threads)."""

    def __init__(self, extend: Callable[[tuple], None]):
        self._extend = extend
        self._starts: Dict[Tuple[int, int, str], int] = {}
        self._lock = threading.Lock()

    def try_started(self, rec) -> None:
        try:
            self._mark(rec, True)
        except Exception:       # recording output must never break a task
            pass

    def try_returned(self, rec) -> None:
        try:
            self._mark(rec, False)
        except Exception:
            pass

    def try_failed(self, rec, exc: BaseException) -> None:
        try:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        except Exception:
            text = repr(exc)
        if len(text) > LIMIT:
            text = "...\n" + text[-LIMIT:]
        self._queue(rec, "traceback", None, None, None, text)

    def _queue(self, rec, stream: str, path, start, end, text: str) -> None:
        self._extend((records.Kind.MESSAGE, records.TRY_OUTPUT, {
            "task_id": rec.id, "try_id": rec.try_id, "stream": stream, "path": path,
            "start_offset": start, "end_offset": end, "output": text, "timestamp": time.time()},
            None, None, None))

    def _mark(self, rec, started: bool) -> None:
        kwargs = rec.kwargs
        for stream in STREAMS:
            path, truncates = local_path(kwargs.get(stream))
            if not path:
                continue
            key = (rec.id, rec.try_id, stream)
            try:
                size = os.stat(path).st_size
            except OSError:
                size = None
            if started:
                with self._lock:
                    self._starts[key] = 0 if (truncates or size is None) else size
                continue
            with self._lock:
                start = self._starts.pop(key, None)
            if start is None or size is None:
                continue
            if size < start:          # rewritten from the start meanwhile
                start = 0
            try:
                text = read_range(path, start, size)
            except OSError:
                continue
            self._queue(rec, stream, path, start, size, text)
