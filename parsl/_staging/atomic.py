"""Write a file so that readers see either nothing or all of it.

A transfer writes to a temporary name next to the destination and renames it into place
only when complete: a failed or retried transfer never leaves a truncated file that a
later task (or a retry's existence check) could mistake for the real one.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager


@contextmanager
def atomic_destination(dest: str):
    """Yield a temporary path next to ``dest``; rename it to ``dest`` if the block succeeds."""
    directory = os.path.dirname(os.path.abspath(dest))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".parsl-staging-", suffix=".part", dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
