"""Logging helpers: ``set_stream_logger``, ``set_file_logger`` (public at ``parsl.log_utils``).

The per-run ``parsl.log`` is written by a background listener so that logging never does
file I/O on the task path.
"""
from __future__ import annotations

import io
import logging
import logging.handlers
import os
import queue
import sys
from typing import Any, Callable, Optional

DEFAULT_FORMAT = ("%(created)f %(asctime)s %(processName)s-%(process)d %(threadName)s-%(thread)d "
                  "%(name)s:%(lineno)d %(funcName)s %(levelname)s: %(message)s")
STREAM_FORMAT = "%(asctime)s %(name)s:%(lineno)d [%(levelname)s]  %(message)s"

#: below DEBUG: per-task chatter, off unless asked for (logging.getLogger('parsl').setLevel(TRACE))
TRACE = 5
logging.addLevelName(TRACE, "TRACE")


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


def set_stream_logger(name: str = "parsl", level: int = logging.DEBUG,
                      format_string: Optional[str] = None,
                      stream: Optional[io.TextIOBase] = None) -> Callable[[], None]:
    """Log ``name`` (and concurrent.futures) to a stream; returns a function that undoes it."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(format_string or STREAM_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    logger = logging.getLogger(name)
    logger.setLevel(level)
    logger.addHandler(handler)
    futures_logger = logging.getLogger("concurrent.futures")
    futures_logger.addHandler(handler)

    def unregister() -> None:
        logger.removeHandler(handler)
        futures_logger.removeHandler(handler)
    return unregister


def set_file_logger(filename: str, name: str = "parsl", level: int = logging.DEBUG,
                    format_string: Optional[str] = None) -> Callable[[], None]:
    """Log ``name`` to a file (written by a background thread); returns an undo function."""
    return _BackgroundFileLog(filename, name, level, format_string).close


class _BackgroundFileLog:
    """A file log whose writes happen on a listener thread (owned here, stopped by close)."""

    def __init__(self, filename: str, name: str, level: int, format_string: Optional[str]) -> None:
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._file_handler = SafeFileHandler(filename)
        self._file_handler.setFormatter(logging.Formatter(format_string or DEFAULT_FORMAT,
                                                          datefmt="%Y-%m-%d %H:%M:%S"))
        self._file_handler.setLevel(level)
        self._queue_handler = logging.handlers.QueueHandler(self._q)
        self._queue_handler.setLevel(level)
        self._listener = logging.handlers.QueueListener(self._q, self._file_handler, respect_handler_level=True)
        self._listener.start()
        self._logger = logging.getLogger(name)
        self._previous_level = self._logger.level
        if self._logger.level == logging.NOTSET or self._logger.level > level:
            self._logger.setLevel(level)
        self._logger.addHandler(self._queue_handler)
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._logger.removeHandler(self._queue_handler)
        if not any(isinstance(h, logging.handlers.QueueHandler) for h in self._logger.handlers):
            self._logger.setLevel(self._previous_level)
        self._listener.stop()
        self._file_handler.close()   # never raises (a full disk at the last flush)
