"""``File``: a location-independent reference to a file (``parsl.data_provider.files``)."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional, Union
from urllib.parse import urlparse


class File:
    """A file named by a URL or a path, which apps take in ``inputs=`` and promise in ``outputs=``.

    A ``File`` in an app's ``inputs`` is staged in before the app runs (downloaded for
    ``https://``, ``ftp://``, ``globus://``, ... ; nothing to do for a local path) and a ``File``
    in ``outputs`` is staged out after it. Inside the app, open ``f.filepath``: the staged local
    copy if there is one, else the path of a ``file`` URL. ``os.fspath(f)`` and ``str(f)`` give
    the same, so ``open(f)`` works too.

    Args:
        url: a path (``"data/in.csv"``, a ``pathlib.Path``), a ``file://`` URL, or a URL with a
            scheme a staging provider handles: ``http``/``https``, ``ftp``, ``globus``,
            ``rsync``, ``zip``. A ``File`` gives a copy naming the same URL.

    Attributes:
        url: the URL or path as given.
        scheme: ``"file"`` for paths, else the URL's scheme.
        path: the URL's path part; ``filename``: its last component.
        local_path: where staging put the file (``None`` before staging).
    """

    __slots__ = ("url", "scheme", "netloc", "path", "filename", "local_path", "__weakref__")

    def __init__(self, url: Union[str, os.PathLike[str], File]) -> None:
        if isinstance(url, File):
            url = url.url
        elif not isinstance(url, str):
            try:
                url = os.fspath(url)
            except TypeError:
                raise TypeError(f"File() takes a path or URL string, not {type(url).__name__}") from None
        self.url: str = url
        parsed = urlparse(url)
        self.scheme = parsed.scheme if parsed.scheme else "file"
        if len(self.scheme) == 1 and len(url) > 1 and url[1] == ":":
            # a Windows drive letter is not a scheme
            self.scheme = "file"
            parsed = urlparse("file:///" + url)
        self.netloc = parsed.netloc
        self.path = parsed.path
        self.filename = os.path.basename(self.path)
        self.local_path: Optional[str] = None

    def cleancopy(self) -> File:
        """A new File for the same URL, without any staging state."""
        return File(self.url)

    @property
    def filepath(self) -> str:
        if self.local_path is not None:
            return self.local_path
        if self.scheme in ("file",):
            return self.path
        raise ValueError(
            f"No local path for {self.url!r}: files with scheme {self.scheme!r} are only available "
            "inside an app after staging; pass the File in inputs=/outputs= of an app")

    def __str__(self) -> str:
        return self.filepath

    def __fspath__(self) -> str:
        return self.filepath

    def __repr__(self) -> str:
        # Parsl's form (the monitoring database's task_inputs/task_outputs hold it too)
        extra = f" local_path={self.local_path}" if self.local_path is not None else ""
        return (f"<File at {id(self):#x} url={self.url} scheme={self.scheme} netloc={self.netloc}"
                f" path={self.path} filename={self.filename}{extra}>")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and other.url == self.url and other.local_path == self.local_path

    def __hash__(self) -> int:
        return hash(self.url)

    def __getstate__(self) -> Dict[str, Optional[str]]:
        return {"url": self.url, "local_path": self.local_path}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]  # a subclass's own __init__, on purpose
        self.local_path = state.get("local_path")


File.__module__ = "parsl.data_provider.files"
