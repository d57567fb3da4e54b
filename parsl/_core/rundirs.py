"""Numbered run directories: ``runinfo/000``, ``001``, ... (public at ``parsl.dataflow.rundirs``)."""
from __future__ import annotations

import os
import re

_NUMBERED = re.compile(r"^[0-9]*[0-9]$")


def make_rundir(path: str) -> str:
    """Create and return the next numbered run directory under ``path`` (absolute).

    Safe against concurrent workflows in the same folder: ``mkdir`` is the arbiter, and a
    lost race moves on to the next number.
    """
    path = os.path.abspath(path)
    os.makedirs(path, exist_ok=True)
    existing = [int(d) for d in os.listdir(path) if _NUMBERED.match(d)]
    n = max(existing) + 1 if existing else 0
    while True:
        candidate = os.path.join(path, f"{n:03d}")
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            n += 1
