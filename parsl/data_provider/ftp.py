"""FTP stage-in (``parsl.data_provider.ftp``): the same two shapes as HTTP, with ``ftplib``.

``ftp://[user[:password]@]host[:port]/path``; anonymous login when no user is given.
"""
from __future__ import annotations

from parsl._staging import tasks
from parsl._staging.download import InTaskDownload, SeparateTaskDownload


class FTPSeparateTaskStaging(SeparateTaskDownload):
    """Stage in ``ftp://`` files with a separate download task on the app's executor."""

    schemes = ("ftp",)
    fetch_task = tasks._ftp_stage_in


class FTPInTaskStaging(InTaskDownload):
    """Stage in ``ftp://`` files inside the app's task."""

    schemes = ("ftp",)
