"""Logging helpers: ``set_stream_logger``, ``set_file_logger`` (public at ``parsl.log_utils``).

The per-run ``parsl.log`` is written by a background listener so that logging never does
file I/O on the task path.
"""
from __future__ import annotations

import io
import logging
import logging.handlers
import queue
from typing import Any, Callable, Optional

from parsl._base.logfiles import LOG_FILE_MODE, SafeFileHandler  # re-exported

DEFAULT_FORMAT = ("%(created)f %(asctime)s %(processName)s-%(process)d %(threadName)s-%(thread)d "
                  "%(name)s:%(lineno)d %(funcName)s %(levelname)s: %(message)s")
STREAM_FORMAT = "%(asctime)s %(name)s:%(lineno)d [%(levelname)s]  %(message)s"

#: below DEBUG: per-task chatter, off unless asked for (logging.getLogger('parsl').setLevel(TRACE))
TRACE = 5
logging.addLevelName(TRACE, "TRACE")


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


__all__ = ["set_stream_logger", "set_file_logger", "SafeFileHandler", "LOG_FILE_MODE", "TRACE",
           "DEFAULT_FORMAT", "STREAM_FORMAT"]
