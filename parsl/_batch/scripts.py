"""Render and write submit scripts.

Templates use ``string.Template`` (``${name}``); a template naming a value the
provider did not supply raises ``SchedulerMissingArgs`` naming the keys, instead of
submitting a script with a hole in it.
"""
from __future__ import annotations

import os
import re
import string
from typing import Iterable, Mapping, Optional

from parsl._base.job_errors import SchedulerMissingArgs, ScriptPathError

_PLACEHOLDER = re.compile(r"\$\{([_a-zA-Z][_a-zA-Z0-9]*)\}|\$([_a-zA-Z][_a-zA-Z0-9]*)")


def render(template: str, values: Mapping[str, object], provider_label: str = "provider") -> str:
    try:
        return string.Template(template).substitute(values)
    except KeyError:
        wanted = {a or b for a, b in _PLACEHOLDER.findall(template)}
        missing = sorted(k for k in wanted if k not in values)
        raise SchedulerMissingArgs(missing, provider_label) from None


def write_script(path: str, text: str) -> str:
    """Write ``text`` to ``path`` (executable) and return the path."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
    except OSError as e:
        raise ScriptPathError(path, e) from e
    return path


def directive_lines(prefix: str, options: Iterable[Optional[str]]) -> str:
    """``["--x=1", "--y"]`` → ``"#SBATCH --x=1\\n#SBATCH --y\\n"`` (each ends with a newline:
    Parsl's Slurm script lacked one after ``--cpus-per-task``, gluing two directives)."""
    return "".join(f"{prefix} {opt}\n" for opt in options if opt)
