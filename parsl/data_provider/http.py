"""HTTP/HTTPS stage-in (``parsl.data_provider.http``).

``HTTPSeparateTaskStaging`` downloads in a task of its own on the app's executor, so the
app's worker must see the same file system (the download lands in ``working_dir``).
``HTTPInTaskStaging`` downloads inside the app's own task, just before the app runs; no
shared file system is needed. Certificates are verified; point ``SSL_CERT_FILE`` at a CA
bundle for self-signed or site certificates.
"""
from __future__ import annotations

from parsl._staging import tasks
from parsl._staging.download import InTaskDownload, SeparateTaskDownload

_SCHEMES = ("http", "https")


class HTTPSeparateTaskStaging(SeparateTaskDownload):
    """Stage in ``http://``/``https://`` files with a separate download task."""

    schemes = _SCHEMES
    fetch_task = tasks._http_stage_in


class HTTPInTaskStaging(InTaskDownload):
    """Stage in ``http://``/``https://`` files inside the app's task."""

    schemes = _SCHEMES
