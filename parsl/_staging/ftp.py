"""FTP downloads with ``ftplib`` (anonymous unless the URL carries ``user:password@``)."""
from __future__ import annotations

from urllib.parse import unquote, urlparse

from parsl._staging.atomic import atomic_destination
from parsl._staging.paths import ftp_parts

TIMEOUT_S = 60.0
BLOCK_BYTES = 1 << 20


def download(url: str, dest: str, timeout: float = TIMEOUT_S) -> int:
    """Fetch ``ftp://[user[:pw]@]host[:port]/path`` into ``dest``; return bytes written.

    Raises ``FileNotFoundError`` naming the URL and the cause on any failure.
    """
    import ftplib  # imported when first needed, to keep parsl.load cheap
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
