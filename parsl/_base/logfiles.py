"""Log files that a failing disk cannot turn into noise, hangs or exceptions.

``SafeFileHandler`` is a ``logging.FileHandler`` for any log file Chervil writes (the run's
``parsl.log``; usable by the executors' and monitoring's logs too, which is why it lives in
``_base``): created 0600, it switches itself off after the first failed write, saying so once
on stderr, and its ``flush``/``close`` never raise.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Optional

#: log files are readable by their owner only, whatever the umask (they name hosts, paths,
#: arguments and tracebacks); see docs/checkpoint-format.md, "File modes"
LOG_FILE_MODE = 0o600


class SafeFileHandler(logging.FileHandler):
    """A file log that a failing disk cannot turn into noise, hangs or exceptions.

    The first write that fails (a full disk, a vanished file system) switches the handler off
    for good and says so once on stderr; later records are dropped and counted. ``flush`` and
    ``close`` never raise. The file is created 0600.
    """

    def __init__(self, filename: str, mode: str = "a", encoding: Optional[str] = None) -> None:
        self.failed: Optional[BaseException] = None
        self.dropped = 0
        # Create it owner-only before FileHandler opens it (open() would honour only the umask).
        fd = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_FILE_MODE)
        os.close(fd)
        super().__init__(filename, mode=mode, encoding=encoding)

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed is not None:
            self.dropped += 1
            return
        super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802  (logging's name)
        exc = sys.exc_info()[1]
        if self.failed is not None:
            self.dropped += 1
            return
        self.failed = exc if exc is not None else RuntimeError("unknown logging error")
        self.dropped += 1
        _say(f"Chervil: cannot write the log file {self.baseFilename} ({_describe(exc)}); "
             f"logging to that file is switched off for the rest of this run. The workflow "
             f"goes on; free space there (or set Config(run_dir=...) elsewhere) to keep its log.")
        self._discard_stream()

    def flush(self) -> None:
        try:
            super().flush()
        except Exception as e:
            if self.failed is None:
                self.failed = e
                _say(f"Chervil: cannot write the log file {self.baseFilename} ({_describe(e)}); "
                     f"logging to that file is switched off for the rest of this run.")
            self._discard_stream()

    def close(self) -> None:
        try:
            super().close()
        except Exception:
            self._discard_stream()
            logging.Handler.close(self)

    def _discard_stream(self) -> None:
        """Close the stream, giving up its unwritable buffer (close flushes once more, fails,
        and still closes the file)."""
        stream = self.stream
        self.stream = None  # emit is off from now on
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass


def _describe(exc: Optional[BaseException]) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"


def _say(message: str) -> None:
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except Exception:
        pass
