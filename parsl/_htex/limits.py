"""File descriptors: the interchange's limit on how many managers it can hold.

Every connected manager costs the interchange process one TCP connection (ZMQ's) and, on
the same host, one more for its direct lane.  Linux starts processes with a soft limit of
1,024 descriptors on many systems, which stops an interchange at a few hundred managers:
ZMQ then fails to accept new connections silently, and the managers just never register.
So the interchange raises its soft limit to the hard limit when it starts, warns when
registrations approach it, and logs an error naming the fix when an accept fails.
"""
from __future__ import annotations

import errno
import logging
import os
from typing import Optional, Tuple

logger = logging.getLogger("parsl._htex.interchange")

#: Descriptors kept for everything else in the user process (files, pipes, monitoring).
RESERVED_FDS = 256
#: Descriptors one manager costs the interchange (its TCP connection, its lane).
FDS_PER_MANAGER = 2

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX
    resource = None  # type: ignore[assignment]


def raise_nofile_limit() -> Tuple[int, int]:
    """Raise RLIMIT_NOFILE's soft limit to its hard limit; return (soft, hard) afterwards.

    (-1, -1) where the limit cannot be read.  Never fails: a refused raise is logged.
    """
    if resource is None:  # pragma: no cover
        return (-1, -1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        target = max(soft, 1 << 20) if soft != resource.RLIM_INFINITY else soft
    else:
        target = hard
    if soft != resource.RLIM_INFINITY and target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            logger.debug("raised the file descriptor limit from %d to %d", soft, target)
            soft = target
        except (ValueError, OSError) as e:
            logger.warning("could not raise the file descriptor limit from %d to %d: %s", soft, target, e)
    return soft, hard


def managers_within(soft: int) -> int:
    """How many managers a descriptor limit of ``soft`` leaves room for (a large number if unlimited)."""
    if soft < 0:
        return 1 << 30
    return max(0, (soft - RESERVED_FDS) // FDS_PER_MANAGER)


def _fix_hint(soft: int, hard: int) -> str:
    return (f"the interchange's file descriptor limit is {soft} (hard limit {hard}); raise the hard limit "
            f"for the user process (`ulimit -Hn`, /etc/security/limits.conf or the job's LimitNOFILE=) "
            f"to about {FDS_PER_MANAGER} x the number of managers + {RESERVED_FDS}")


class DescriptorBudget:
    """Raises the limit at start; warns once as managers approach it; reports failed accepts."""

    def __init__(self) -> None:
        self.soft, self.hard = raise_nofile_limit()
        self.room = managers_within(self.soft)
        self._warned = False
        self._accept_errors = 0

    def registered(self, managers: int) -> None:
        """Call after each registration with the number of managers connected."""
        if not self._warned and managers >= 0.9 * self.room:
            self._warned = True
            logger.error("%d managers connected, room for about %d more: %s", managers,
                         max(0, self.room - managers), _fix_hint(self.soft, self.hard))

    def accept_failed(self, err: Optional[int]) -> None:
        """ZMQ could not accept a manager's connection (the socket monitor's errno)."""
        self._accept_errors += 1
        if self._accept_errors in (1, 10, 100, 1000) or self._accept_errors % 10000 == 0:
            if err in (errno.EMFILE, errno.ENFILE):
                logger.error("a manager could not connect (%s; %d time(s) so far): %s", os.strerror(err),
                             self._accept_errors, _fix_hint(self.soft, self.hard))
            else:
                logger.error("a manager's connection could not be accepted (%s; %d time(s) so far)",
                             os.strerror(err) if err else "unknown error", self._accept_errors)
