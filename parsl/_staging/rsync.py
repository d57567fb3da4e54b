"""Copy one file with ``rsync`` over ssh.

``RSYNC_RSH`` (rsync's own variable) chooses the ssh command, e.g.
``ssh -F /path/ssh_config``; otherwise ssh reads ``~/.ssh/config`` as usual.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import List

TIMEOUT_S = 600.0


def command(source: str, dest: str) -> List[str]:
    """The rsync argv: archive mode keeps times and permissions; no recursion surprises
    because a staged ``File`` is one file."""
    return ["rsync", "-a", "--", source, dest]


def copy(source: str, dest: str, url: str, direction: str) -> None:
    """Run rsync from ``source`` to ``dest``; ``FileNotFoundError`` naming ``url`` and rsync's
    own error output on failure."""
    if shutil.which("rsync") is None:
        raise FileNotFoundError(f"Could not stage {direction} {url}: the rsync command is not "
                                "installed on this host; install rsync (e.g. apt-get install rsync)")
    if direction == "in":
        parent = os.path.dirname(os.path.abspath(dest))
        os.makedirs(parent, exist_ok=True)
    try:
        run = subprocess.run(command(source, dest), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise FileNotFoundError(f"Could not stage {direction} {url}: rsync {source} {dest} "
                                f"took longer than {TIMEOUT_S:.0f} s") from exc
    if run.returncode != 0:
        detail = (run.stderr or run.stdout).strip().splitlines()
        raise FileNotFoundError(f"Could not stage {direction} {url}: rsync {source} {dest} exited "
                                f"with {run.returncode}: {' | '.join(detail[-3:])}")
