"""Pure path arithmetic for staging: where a staged file lives and what a URL means.

No I/O here; every function is a decision tested on its own.
"""
from __future__ import annotations

import os
import posixpath
from typing import Optional, Tuple


def local_path_for(filename: str, working_dir: Optional[str]) -> str:
    """Where a downloaded file is placed: ``working_dir/filename``, else ``filename``
    (relative to the task's current directory), as Parsl does."""
    if working_dir:
        return os.path.join(working_dir, filename)
    return filename


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


def globus_endpoint_dir(working_dir: str, endpoint_path: Optional[str],
                        local_path: Optional[str]) -> str:
    """The directory, as the Globus endpoint names it, that holds ``working_dir``.

    With both ``endpoint_path`` and ``local_path`` given, the endpoint exposes ``local_path``
    at ``endpoint_path``, so ``working_dir`` (which must lie under ``local_path``) appears at
    ``endpoint_path`` + its path relative to ``local_path``. Otherwise the endpoint is taken
    to see the file system as it is, and the directory is ``working_dir`` itself.
    """
    if endpoint_path is None or local_path is None:
        return working_dir
    wd = os.path.normpath(os.path.abspath(working_dir))
    lp = os.path.normpath(os.path.abspath(local_path))
    if os.path.commonpath([wd, lp]) != lp:
        raise ValueError(
            f"GlobusStaging: the executor's working_dir {working_dir!r} is not inside "
            f"local_path {local_path!r}; the endpoint can only reach files under local_path. "
            "Set working_dir to a directory under local_path (or fix local_path/endpoint_path).")
    rel = os.path.relpath(wd, lp)
    if rel == ".":
        return endpoint_path
    return posixpath.join(endpoint_path, rel.replace(os.sep, "/"))


def globus_endpoint_file(working_dir: str, filename: str, endpoint_path: Optional[str],
                         local_path: Optional[str]) -> str:
    """The endpoint path of ``filename`` staged into ``working_dir``."""
    return posixpath.join(globus_endpoint_dir(working_dir, endpoint_path, local_path), filename)


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
