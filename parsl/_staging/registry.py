"""URL scheme → how files of that scheme move.

Every scheme module with transfers of its own ends with one ``register(...)`` call naming
its URL schemes and its :class:`Transfer`; it is registered when it is imported, which
happens before any of its providers can run (they live in the same module). The shared
provider shapes (``parsl._staging.shapes``) look their functions up here by the file's
scheme, so a scheme's provider classes only list the URL schemes they take.

Every function in a ``Transfer`` is module-level: it is pickled by reference and runs on
whatever worker imports ``parsl``.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, Optional, Tuple

from parsl._base.files import File

#: ``fetch(file)``: bring ``file.url`` to ``file.local_path``; ``push(file)``: the reverse.
#: Both raise ``FileNotFoundError`` naming the URL and the cause.
Move = Callable[[File], None]


class Transfer:
    """The moves one scheme offers; None where the scheme has no such move.

    ``stage_in_task``/``stage_out_task`` are the functions run as separate staging tasks
    (signature ``(working_dir=None, parent_fut=None, outputs=()|inputs=(),
    _parsl_staging_inhibit=True)``); monitoring shows their names, so each scheme has its own.
    (A plain slotted class: a dataclass or NamedTuple would add to every ``parsl.load``.)
    """

    __slots__ = ("fetch", "push", "stage_in_task", "stage_out_task")

    def __init__(self, *, fetch: Optional[Move] = None, push: Optional[Move] = None,
                 stage_in_task: Optional[Callable[..., None]] = None,
                 stage_out_task: Optional[Callable[..., None]] = None):
        self.fetch = fetch
        self.push = push
        self.stage_in_task = stage_in_task
        self.stage_out_task = stage_out_task

    def __repr__(self) -> str:
        moves = ", ".join(f"{k}={getattr(self, k).__name__}" for k in self.__slots__
                          if getattr(self, k) is not None)
        return f"Transfer({moves})"


_BY_SCHEME: Dict[str, Transfer] = {}


def register(url_schemes: Iterable[str], transfer: Transfer) -> None:
    """Make ``transfer`` the way files of each of ``url_schemes`` move (the last one wins)."""
    for scheme in url_schemes:
        _BY_SCHEME[scheme] = transfer


def transfer_for(url_scheme: str) -> Transfer:
    """The registered transfer of ``url_scheme``; ``ValueError`` when there is none."""
    try:
        return _BY_SCHEME[url_scheme]
    except KeyError:
        raise ValueError(f"no transfer registered for URL scheme {url_scheme!r}; "
                         f"registered: {', '.join(sorted(_BY_SCHEME))}") from None


def url_schemes() -> Tuple[str, ...]:
    """Every registered URL scheme, sorted."""
    return tuple(sorted(_BY_SCHEME))


def fetch(file: File) -> None:
    """Bring ``file`` (a File whose ``local_path`` is set) from its URL to ``local_path``."""
    move = _BY_SCHEME[file.scheme].fetch if file.scheme in _BY_SCHEME else None
    if move is None:
        raise ValueError(f"no fetch for scheme {file.scheme!r} of {file.url}")
    move(file)


def push(file: File) -> None:
    """Send ``file.local_path`` to ``file.url``."""
    move = _BY_SCHEME[file.scheme].push if file.scheme in _BY_SCHEME else None
    if move is None:
        raise ValueError(f"no push for scheme {file.scheme!r} of {file.url}")
    move(file)
