"""Read members from, and append members to, zip archives shared by many tasks.

Several tasks may append to one archive at once (threads in one process, or workers on
several nodes of a shared file system), so every access holds an exclusive ``flock`` on
``<archive>.lock``. ``flock`` (not ``lockf``) because its locks belong to the open file,
so two threads of one process exclude each other too.
"""
from __future__ import annotations

import fcntl
import os
import zipfile
from contextlib import contextmanager

from parsl._staging.atomic import atomic_destination


@contextmanager
def archive_lock(archive: str):
    directory = os.path.dirname(os.path.abspath(archive))
    os.makedirs(directory, exist_ok=True)
    with open(archive + ".lock", "a") as lockfile:
        fcntl.flock(lockfile.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lockfile.fileno(), fcntl.LOCK_UN)


def extract(archive: str, member: str, dest: str, url: str) -> None:
    """Copy ``member`` of ``archive`` to ``dest``; ``FileNotFoundError`` naming ``url`` if absent."""
    try:
        with archive_lock(archive), zipfile.ZipFile(archive, "r") as zf, \
                atomic_destination(dest) as tmp:
            with zf.open(member) as src, open(tmp, "wb") as out:
                while True:
                    block = src.read(1 << 20)
                    if not block:
                        break
                    out.write(block)
    except KeyError as exc:
        raise FileNotFoundError(f"Could not stage in {url}: no member {member!r} in {archive}") from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise FileNotFoundError(f"Could not stage in {url}: {type(exc).__name__}: {exc}") from exc


def append(archive: str, member: str, source: str, url: str, remove_source: bool = True) -> None:
    """Add ``source`` to ``archive`` as ``member`` (creating the archive), then delete it."""
    try:
        with archive_lock(archive), zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.write(source, member)
    except (OSError, zipfile.BadZipFile) as exc:
        raise FileNotFoundError(f"Could not stage out {url}: {type(exc).__name__}: {exc}") from exc
    if remove_source:
        os.unlink(source)
