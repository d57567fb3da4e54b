"""Zip archive staging (``parsl.data_provider.zip``): ``zip:/path/archive.zip/member/name``.

Stage-out: the app writes ``working_dir/member/name``; a task then appends it to the archive
(under a lock, so many tasks can fill one archive) and removes the loose file.
Stage-in: a task extracts the member to ``working_dir/member/name`` before the app runs.
Both run on the app's executor and need the executor's ``working_dir``. The scheme lives in
``parsl._staging.schemes.zip``.
"""
from parsl._staging.schemes.zip import ZipAuthorityError, ZipFileStaging

__all__ = ["ZipFileStaging", "ZipAuthorityError"]
