"""Zip archive staging (``parsl.data_provider.zip``): ``zip:/path/archive.zip/member/name``.

Stage-out: the app writes ``working_dir/member/name``; a task then appends it to the archive
(under a lock, so many tasks can fill one archive) and removes the loose file.
Stage-in: a task extracts the member to ``working_dir/member/name`` before the app runs.
Both run on the app's executor and need the executor's ``working_dir``.
"""
from __future__ import annotations

import os

from parsl._staging import submit, tasks
from parsl._staging.paths import split_zip_path
from parsl.data_provider.staging import Staging
from parsl._base.errors import ParslError


class ZipAuthorityError(ParslError):
    """A zip: URL had a host part (``zip://host/...``); zip URLs name a local archive."""

    def __init__(self, file):
        super().__init__(file)
        self.file = file

    def __str__(self):
        url = getattr(self.file, "url", self.file)
        return (f"zip URL {url!r} has an authority (host) part; zip files must be local, "
                "written zip:/path/to/archive.zip/member (one slash after 'zip:')")


def _is_zip_url(file) -> bool:
    if file.scheme != "zip":
        return False
    if file.netloc:
        raise ZipAuthorityError(file)
    return True


def _local_member_path(dm, executor, file) -> str:
    working_dir = submit.working_dir_of(dm, executor)
    if not working_dir:
        label, _ = submit.executor_of(dm, executor)
        raise ValueError(f"ZipFileStaging needs a working_dir on executor {label!r} to unpack "
                         f"{file.url}: set working_dir=... on the executor")
    _, member = split_zip_path(file.path)
    local = os.path.join(working_dir, member)
    # the app writes (or reads) a nested member path; make its directory now
    os.makedirs(os.path.dirname(local), exist_ok=True)
    return local


class ZipFileStaging(Staging):
    """Stage files into and out of zip archives."""

    def can_stage_in(self, file) -> bool:
        return _is_zip_url(file)

    def can_stage_out(self, file) -> bool:
        return _is_zip_url(file)

    def stage_in(self, dm, executor, file, parent_fut):
        file.local_path = _local_member_path(dm, executor, file)
        label, _ = submit.executor_of(dm, executor)
        app = submit.staging_app(dm, tasks._zip_stage_in, label)
        fut = app(submit.working_dir_of(dm, executor), outputs=[file], _parsl_staging_inhibit=True,
                  parent_fut=parent_fut)
        return submit.data_future(fut, file)

    def stage_out(self, dm, executor, file, app_fu):
        file.local_path = _local_member_path(dm, executor, file)
        label, _ = submit.executor_of(dm, executor)
        app = submit.staging_app(dm, tasks._zip_stage_out, label)
        return app(submit.working_dir_of(dm, executor), inputs=[file], _parsl_staging_inhibit=True,
                   parent_fut=app_fu)

    def __repr__(self):
        return "ZipFileStaging()"
