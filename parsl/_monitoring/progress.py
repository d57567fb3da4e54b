"""A live progress line in the terminal: tasks by state, on request.

Two sources:

* in the workflow's own process, ``MonitoringHub(progress=True)`` shows the writer's
  live counts (no database reads);
* from any other terminal, ``parsl-visualize --progress [db_url]`` follows the newest
  workflow in the database (one indexed GROUP BY per second; WAL keeps it from ever
  blocking the writer).

On a terminal the line is redrawn in place; into a file or pipe a line is written only
when the counts changed, at most every ``quiet_period`` seconds, so logs stay readable.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable, Dict, Mapping, Optional, TextIO

ORDER = ["pending", "launched", "running", "running_ended", "joining", "fail_retryable",
         "exec_done", "memo_done", "failed", "dep_fail"]
DONE = ("exec_done", "memo_done", "failed", "dep_fail")
_LABELS = {"exec_done": "done", "memo_done": "cached", "fail_retryable": "retrying", "dep_fail": "dep_fail",
           "running_ended": "ending"}


def format_line(counts: Mapping[str, int], width: int = 30, elapsed: Optional[float] = None) -> str:
    """``[#######.....] 70/100 done  pending 10 | running 20 | done 65 | failed 5`` (pure)."""
    counts = {k: v for k, v in counts.items() if v}
    total = sum(counts.values())
    finished = sum(counts.get(s, 0) for s in DONE)
    filled = int(width * finished / total) if total else 0
    bar = "#" * filled + "." * (width - filled)
    keys = [k for k in ORDER if k in counts] + sorted(k for k in counts if k not in ORDER)
    parts = " | ".join(f"{_LABELS.get(k, k)} {counts[k]}" for k in keys)
    clock = f" {elapsed:6.1f}s" if elapsed is not None else ""
    return f"[{bar}] {finished}/{total} finished{clock}  {parts}"


class ProgressView:
    """Owns one daemon thread that redraws the line every ``period`` seconds; ``close()``
    draws the final line and joins it (idempotent)."""

    def __init__(self, counts: Mapping[str, int] | Callable[[], Mapping[str, int]],
                 stream: Optional[TextIO] = None, period: float = 0.5, quiet_period: float = 5.0):
        self._read = counts if callable(counts) else (lambda: dict(counts))
        self.stream = stream or sys.stderr
        self.period = period
        self.quiet_period = quiet_period
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._last_line: Optional[str] = None
        self._last_write = 0.0
        self._t0 = time.monotonic()
        self._closed = False

    def start(self) -> ProgressView:
        self._thread = threading.Thread(target=self._run, name="parsl-progress", daemon=True)
        self._thread.start()
        return self

    def draw(self, final: bool = False) -> None:
        counts = self._read()
        line = format_line(counts, elapsed=time.monotonic() - self._t0)
        now = time.monotonic()
        try:
            if self._tty:
                self.stream.write("\r\x1b[2K" + line + ("\n" if final else ""))
                self.stream.flush()
            else:
                changed = format_line(counts) != self._last_line
                if final or (changed and now - self._last_write >= self.quiet_period):
                    self.stream.write(line + "\n")
                    self.stream.flush()
                    self._last_write = now
                    self._last_line = format_line(counts)
        except (ValueError, OSError):     # stream closed under us: stop drawing
            self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.period):   # the redraw clock, and close() wakes it
            self.draw()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.draw(final=True)


def follow_database(url: str, period: float = 1.0, stream: Optional[TextIO] = None,
                    run_id: Optional[str] = None, until_done: bool = True) -> int:
    """Show the progress of a workflow (the newest, unless ``run_id``) read from its database
    (opened read-only: ``DatabaseUnusable`` if there is none; nothing is created)."""
    # Deferred: SQLAlchemy is an optional extra, and import parsl must not load it.
    import sqlalchemy as sa

    from parsl._monitoring.web.store import open_read_engine
    engine = open_read_engine(url)
    stream = stream or sys.stderr

    def counts() -> Dict[str, int]:
        with engine.connect() as conn:
            rid = run_id or conn.execute(sa.text(
                "SELECT run_id FROM workflow ORDER BY time_began DESC LIMIT 1")).scalar()
            rows = conn.execute(sa.text("SELECT task_status_name, count(*) FROM task WHERE run_id = :r"
                                        " GROUP BY task_status_name"), {"r": rid})
            return {k or "unknown": v for k, v in rows}

    def finished() -> bool:
        with engine.connect() as conn:
            rid = run_id or conn.execute(sa.text(
                "SELECT run_id FROM workflow ORDER BY time_began DESC LIMIT 1")).scalar()
            return conn.execute(sa.text("SELECT time_completed FROM workflow WHERE run_id = :r"),
                                {"r": rid}).scalar() is not None

    view = ProgressView(counts, stream=stream, period=period)
    try:
        view.start()
        while not (until_done and finished()):
            if view._stop.wait(period):
                break
    except KeyboardInterrupt:
        pass
    finally:
        view.close()
        engine.dispose()
    return 0
