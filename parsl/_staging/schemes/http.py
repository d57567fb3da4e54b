"""HTTP and HTTPS: the download, its staging task, and its two providers.

``HTTPSeparateTaskStaging`` downloads in a task of its own on the app's executor, so the
app's worker must see the same file system (the download lands in ``working_dir``).
``HTTPInTaskStaging`` downloads inside the app's own task, just before the app runs; no
shared file system is needed.

``urllib`` keeps ``import parsl`` free of ``requests``. HTTPS verifies certificates with
the system store; ``SSL_CERT_FILE``/``SSL_CERT_DIR`` point it at another CA bundle (for a
site's own or a self-signed certificate) on the submit side and on workers alike.
"""
from __future__ import annotations

import shutil
from typing import Any, Sequence

from parsl._base.files import File
from parsl._staging.atomic import atomic_destination
from parsl._staging.base import local_path_of
from parsl._staging.registry import Transfer, register
from parsl._staging.shapes import InTaskDownload, SeparateTaskDownload

SCHEMES = ("http", "https")
# 1 MiB reads: large enough that a multi-GB download is bound by the network and disk,
# not by Python call overhead.
CHUNK_BYTES = 1 << 20
# Seconds without progress (connect, or between reads) before a download is abandoned.
TIMEOUT_S = 60.0
USER_AGENT = "chervil-parsl-staging"


def _ssl_context() -> Any:
    import ssl  # deferred: ssl and urllib cost ~10 ms, paid only when a URL is fetched
    # created per download: SSL_CERT_FILE may be set after import (tests, notebooks)
    return ssl.create_default_context()


def describe_failure(exc: BaseException) -> str:
    """A short human description of why a download failed."""
    import urllib.error  # deferred with urllib.request (see _ssl_context)
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        return f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
    return f"{type(exc).__name__}: {exc}"


def download(url: str, dest: str, timeout: float = TIMEOUT_S) -> int:
    """Fetch ``url`` into ``dest``; return the number of bytes written.

    Raises ``FileNotFoundError`` naming the URL and the cause on any failure.
    """
    import ssl  # deferred (see _ssl_context)
    import urllib.request
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    context = _ssl_context() if url.lower().startswith("https:") else None
    try:
        with atomic_destination(dest) as tmp:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as response, \
                    open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, CHUNK_BYTES)
                written = out.tell()
                expected = response.headers.get("Content-Length")
                if expected is not None and int(expected) != written:
                    raise OSError(f"connection closed after {written} of {expected} bytes")
    except (OSError, ValueError, ssl.SSLError) as exc:  # URLError/HTTPError are OSErrors
        # not chained: an HTTPError holds the open response, which cannot be pickled back
        # from a worker; the message already carries the cause
        raise FileNotFoundError(f"Could not stage in {url}: {describe_failure(exc)}") from None
    return written


def fetch(file: File) -> None:
    """Download ``file.url`` to ``file.local_path``."""
    download(file.url, local_path_of(file))


def _http_stage_in(working_dir: Any = None, parent_fut: Any = None, outputs: Sequence[File] = (),
                   _parsl_staging_inhibit: bool = True) -> None:
    """The separate stage-in task (monitoring shows this name)."""
    fetch(outputs[0])


class HTTPSeparateTaskStaging(SeparateTaskDownload):
    """Stage in ``http://``/``https://`` files with a separate download task."""

    schemes = SCHEMES


class HTTPInTaskStaging(InTaskDownload):
    """Stage in ``http://``/``https://`` files inside the app's task."""

    schemes = SCHEMES


HTTPSeparateTaskStaging.__module__ = HTTPInTaskStaging.__module__ = "parsl.data_provider.http"

register(SCHEMES, Transfer(fetch=fetch, stage_in_task=_http_stage_in))
