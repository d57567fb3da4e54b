"""FTP: the download with ``ftplib``, its staging task, and its two providers.

``ftp://[user[:password]@]host[:port]/path``; anonymous login when no user is given. The
providers have the same two shapes as HTTP's.
"""
from __future__ import annotations

from typing import Any, Sequence, Tuple
from urllib.parse import unquote, urlparse

from parsl._base.files import File
from parsl._staging.atomic import atomic_destination
from parsl._staging.base import local_path_of
from parsl._staging.registry import Transfer, register
from parsl._staging.shapes import InTaskDownload, SeparateTaskDownload

SCHEMES = ("ftp",)
TIMEOUT_S = 60.0
BLOCK_BYTES = 1 << 20


def ftp_parts(netloc: str) -> Tuple[str, int, str, str]:
    """(host, port, user, password) from an FTP URL's netloc; anonymous when no user."""
    userinfo, _, hostport = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    host, port = hostport, 21
    if hostport.startswith("["):  # IPv6 literal
        host, _, rest = hostport[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif ":" in hostport:
        host, _, p = hostport.rpartition(":")
        port = int(p)
    return host, port, user or "anonymous", password or ("" if user else "anonymous@")


def download(url: str, dest: str, timeout: float = TIMEOUT_S) -> int:
    """Fetch ``ftp://[user[:pw]@]host[:port]/path`` into ``dest``; return bytes written.

    Raises ``FileNotFoundError`` naming the URL and the cause on any failure.
    """
    import ftplib  # deferred: paid only when an FTP file is fetched, to keep parsl.load cheap
    parsed = urlparse(url)
    host, port, user, password = ftp_parts(parsed.netloc)
    path = unquote(parsed.path)
    try:
        with atomic_destination(dest) as tmp, open(tmp, "wb") as out:
            with ftplib.FTP(timeout=timeout) as ftp:
                ftp.connect(host, port)
                ftp.login(user, password)
                ftp.retrbinary(f"RETR {path}", out.write, blocksize=BLOCK_BYTES)
            return out.tell()
    except (OSError, EOFError, ftplib.Error) as exc:
        cause = str(exc).strip() or type(exc).__name__
        raise FileNotFoundError(f"Could not stage in {url}: {type(exc).__name__}: {cause}") from exc


def fetch(file: File) -> None:
    """Download ``file.url`` to ``file.local_path``."""
    download(file.url, local_path_of(file))


def _ftp_stage_in(working_dir: Any = None, parent_fut: Any = None, outputs: Sequence[File] = (),
                  _parsl_staging_inhibit: bool = True) -> None:
    """The separate stage-in task (monitoring shows this name)."""
    fetch(outputs[0])


class FTPSeparateTaskStaging(SeparateTaskDownload):
    """Stage in ``ftp://`` files with a separate download task on the app's executor."""

    schemes = SCHEMES


class FTPInTaskStaging(InTaskDownload):
    """Stage in ``ftp://`` files inside the app's task."""

    schemes = SCHEMES


FTPSeparateTaskStaging.__module__ = FTPInTaskStaging.__module__ = "parsl.data_provider.ftp"

register(SCHEMES, Transfer(fetch=fetch, stage_in_task=_ftp_stage_in))
