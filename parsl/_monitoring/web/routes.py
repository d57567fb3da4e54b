"""The route table of the web view, filled by ``pages`` (HTML) and ``api`` (JSON):
``(pattern, function(conn, params, *groups))`` in the order they are tried."""
from __future__ import annotations

import re
from typing import Any, Callable, List, Tuple

ROUTES: List[Tuple[re.Pattern, Callable[..., Any]]] = []
#: a task id is a SQLite INTEGER: a longer number in a URL is no task (404, not an overflow)
MAX_TASK_ID = 2 ** 63 - 1


class NotFound(Exception):
    pass


class Json:
    """A JSON answer (pages return ``str`` HTML)."""

    def __init__(self, value: Any):
        self.value = value


def route(pattern: str):
    def deco(fn):
        ROUTES.append((re.compile("^" + pattern + "$"), fn))
        return fn
    return deco


def task_id(text: str) -> int:
    n = int(text)
    if n > MAX_TASK_ID:
        raise NotFound(f"No task {text[:40]}{'...' if len(text) > 40 else ''}: task ids are at most {MAX_TASK_ID}.")
    return n
