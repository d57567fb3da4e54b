"""Code examples of the documentation, read from the Markdown source (docs/**/*.md, README.md).

A fenced block whose language is ``python``, ``bash`` or ``sh`` is an example and is run by
tests/docs/test_examples.py. HTML comments on the line(s) just before the fence steer it; a
reader never sees them on the site:

- ``<!-- not-run: REASON -->``  not run; the reason is required and says why (needs Globus
  credentials, starts a server that runs forever, ...);
- ``<!-- continued -->``        appended to the page's previous example: the two run as one
  program (a page may show a workflow in steps);
- ``<!-- slurm -->``            needs a real Slurm (CI starts one; the test is marked ``slurm``);
- ``<!-- warns: REASON -->``    may print a warning (otherwise any ``...Warning`` on stderr fails).

A ``text`` fence preceded by ``<!-- output -->`` is the output of the example before it: every
line of it that does not contain ``...`` must appear in what the example printed.
"""
import dataclasses
import os
import re
from typing import List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNABLE = {"python": "python", "py": "python", "bash": "bash", "sh": "bash"}
MARKER = re.compile(r"^\s*<!--\s*(not-run|continued|slurm|warns|output)\s*(?::\s*(.*?))?\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)[^`]*$")


@dataclasses.dataclass
class Example:
    path: str             # relative to the repository
    line: int             # line of the (first) opening fence
    language: str         # "python" or "bash"
    code: str
    slurm: bool = False
    skip_reason: Optional[str] = None
    warns: bool = False
    expected_output: List[str] = dataclasses.field(default_factory=list)
    blocks: int = 1

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


def markdown_files() -> List[str]:
    out = [os.path.join(REPO, "README.md")]
    for root, dirs, files in os.walk(os.path.join(REPO, "docs")):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        out += [os.path.join(root, f) for f in sorted(files) if f.endswith(".md")]
    return out


class MarkerError(ValueError):
    pass


def _blocks(text: str):
    """(line, language, code, markers) for each fenced block; markers: {name: argument}."""
    lines = text.splitlines()
    i = 0
    pending: dict = {}
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m:
            pending[m.group(1)] = (m.group(2) or "").strip()
            i += 1
            continue
        f = FENCE.match(lines[i])
        if not f:
            if lines[i].strip():
                pending = {}
            i += 1
            continue
        indent, fence, lang = f.group(1), f.group(2), f.group(3).lower()
        start = i + 1
        body = []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence[0] * len(fence))
                                      and lines[i].strip().strip(fence[0]) == ""):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        yield start, lang, "\n".join(body) + "\n", pending
        pending = {}


def examples_in(path: str) -> List[Example]:
    rel = os.path.relpath(path, REPO)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out: List[Example] = []
    for line, lang, code, markers in _blocks(text):
        if "output" in markers:
            if lang != "text" or not out:
                raise MarkerError(f"{rel}:{line}: <!-- output --> must precede a ```text block after an example")
            out[-1].expected_output += [x.strip() for x in code.splitlines() if x.strip() and "..." not in x]
            continue
        if lang not in RUNNABLE:
            continue
        if "not-run" in markers and not markers["not-run"]:
            raise MarkerError(f"{rel}:{line}: <!-- not-run: REASON --> needs a reason")
        if "warns" in markers and not markers["warns"]:
            raise MarkerError(f"{rel}:{line}: <!-- warns: REASON --> needs a reason")
        if "continued" in markers:
            runnable = [e for e in out if e.skip_reason is None]
            if not runnable or runnable[-1].language != RUNNABLE[lang]:
                raise MarkerError(f"{rel}:{line}: <!-- continued --> follows no runnable {lang} example")
            prev = runnable[-1]
            prev.code += "\n" + code
            prev.blocks += 1
            prev.slurm = prev.slurm or "slurm" in markers
            prev.warns = prev.warns or "warns" in markers
            continue
        out.append(Example(rel, line, RUNNABLE[lang], code, slurm="slurm" in markers,
                           skip_reason=markers.get("not-run"), warns="warns" in markers))
    return out


def all_examples() -> List[Example]:
    return [e for p in markdown_files() for e in examples_in(p)]
