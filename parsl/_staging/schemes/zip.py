"""Zip archives (``zip:/path/archive.zip/member/name``): extract, append, tasks, provider.

Stage-out: the app writes ``working_dir/member/name``; a task then appends it to the archive
(under a lock, so many tasks can fill one archive) and removes the loose file.
Stage-in: a task extracts the member to ``working_dir/member/name`` before the app runs.
Both run on the app's executor and need the executor's ``working_dir``.

Several tasks may append to one archive at once (threads in one process, or workers on
several nodes of a shared file system), so every access holds an exclusive ``flock`` on
``<archive>.lock``. ``flock`` (not ``lockf``) because its locks belong to the open file,
so two threads of one process exclude each other too.
"""
from __future__ import annotations

import fcntl
import os
import zipfile
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence, Tuple

from parsl._base.errors import ParslError
from parsl._base.files import File
from parsl._staging.atomic import atomic_destination
from parsl._staging.base import Staging, StagingContext, StagingFuture, local_path_of
from parsl._staging.registry import Transfer, register
from parsl._staging.shapes import data_future

SCHEMES = ("zip",)


class ZipAuthorityError(ParslError):
    """A zip: URL had a host part (``zip://host/...``); zip URLs name a local archive."""

    def __init__(self, file: Any):
        super().__init__(file)
        self.file = file

    def __str__(self) -> str:
        # getattr: the error may be built from (or unpickled with) a plain string
        url = getattr(self.file, "url", self.file)
        return (f"zip URL {url!r} has an authority (host) part; zip files must be local, "
                "written zip:/path/to/archive.zip/member (one slash after 'zip:')")


# -- paths (pure) ----------------------------------------------------------------------------

def split_zip_path(path: str) -> Tuple[str, str]:
    """Split ``/a/b.zip/inner/file`` into (``/a/b.zip``, ``inner/file``).

    The archive is the first path component ending in ``.zip``; everything after it is the
    member name inside the archive.
    """
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.endswith(".zip"):
            archive = "/".join(parts[: i + 1])
            member = "/".join(parts[i + 1:])
            if not member:
                raise ValueError(f"zip URL path {path!r} names an archive but no member inside it: "
                                 "use zip:/path/to/archive.zip/member/name")
            return archive, member
    raise ValueError(f"zip URL path {path!r} has no component ending in '.zip': "
                     "use zip:/path/to/archive.zip/member/name")


# -- archive access --------------------------------------------------------------------------

@contextmanager
def archive_lock(archive: str) -> Iterator[None]:
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


def fetch(file: File) -> None:
    """Extract the member ``file`` names to ``file.local_path``."""
    archive, member = split_zip_path(file.path)
    extract(archive, member, local_path_of(file), file.url)


def push(file: File) -> None:
    """Append ``file.local_path`` to the archive as the member ``file`` names."""
    archive, member = split_zip_path(file.path)
    local = local_path_of(file)
    if not os.path.exists(local):
        raise FileNotFoundError(f"Could not stage out {file.url}: the app did not create {local}")
    append(archive, member, local, file.url)


# -- the separate tasks (monitoring shows these names) ----------------------------------------

def _zip_stage_in(working_dir: Any = None, parent_fut: Any = None, outputs: Sequence[File] = (),
                  _parsl_staging_inhibit: bool = True) -> None:
    fetch(outputs[0])


def _zip_stage_out(working_dir: Any = None, parent_fut: Any = None, inputs: Sequence[File] = (),
                   _parsl_staging_inhibit: bool = True) -> None:
    push(inputs[0])


# -- the provider ------------------------------------------------------------------------------

def _is_zip_url(file: File) -> bool:
    if file.scheme != "zip":
        return False
    if file.netloc:
        raise ZipAuthorityError(file)
    return True


def _local_member_path(dm: StagingContext, executor: str, file: File) -> str:
    working_dir = dm.working_dir(executor)
    if not working_dir:
        label, _ = dm.executor(executor)
        raise ValueError(f"ZipFileStaging needs a working_dir on executor {label!r} to unpack "
                         f"{file.url}: set working_dir=... on the executor")
    _, member = split_zip_path(file.path)
    local = os.path.join(working_dir, member)
    # the app writes (or reads) a nested member path; make its directory now
    os.makedirs(os.path.dirname(local), exist_ok=True)
    return local


class ZipFileStaging(Staging):
    """Stage files into and out of zip archives."""

    def can_stage_in(self, file: File) -> bool:
        return _is_zip_url(file)

    def can_stage_out(self, file: File) -> bool:
        return _is_zip_url(file)

    def stage_in(self, dm: StagingContext, executor: str, file: File,
                 parent_fut: Optional[Future]) -> Optional[StagingFuture]:
        file.local_path = _local_member_path(dm, executor, file)
        label, _ = dm.executor(executor)
        fut = dm.submit_task(_zip_stage_in, label, dm.working_dir(executor), outputs=[file],
                             _parsl_staging_inhibit=True, parent_fut=parent_fut)
        return data_future(fut, file)

    def stage_out(self, dm: StagingContext, executor: str, file: File,
                  app_fu: Future) -> Optional[StagingFuture]:
        file.local_path = _local_member_path(dm, executor, file)
        label, _ = dm.executor(executor)
        return dm.submit_task(_zip_stage_out, label, dm.working_dir(executor), inputs=[file],
                              _parsl_staging_inhibit=True, parent_fut=app_fu)

    def __repr__(self) -> str:
        return "ZipFileStaging()"


ZipAuthorityError.__module__ = ZipFileStaging.__module__ = "parsl.data_provider.zip"

register(SCHEMES, Transfer(fetch=fetch, push=push, stage_in_task=_zip_stage_in,
                           stage_out_task=_zip_stage_out))
