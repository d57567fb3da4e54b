"""The tutorial notebook's code cells, read at test time from ``../shared/seed``.

The notebook is the user's description of the system; tests run its cells as written
without the repository keeping a copy. A test that needs a cell is skipped, with the
reason, when the notebook is not beside the checkout.
"""
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(os.path.dirname(ROOT), "shared", "seed", "2-parsl-advanced-features.ipynb")


def code_cells():
    if not os.path.exists(NOTEBOOK):
        pytest.skip(f"the tutorial notebook is not at {NOTEBOOK}")
    with open(NOTEBOOK) as f:
        nb = json.load(f)
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def cell_containing(text, after=None):
    """The first code cell containing ``text`` (after the one containing ``after``, if given)."""
    cells = code_cells()
    start = 0
    if after is not None:
        start = next(i for i, c in enumerate(cells) if after in c) + 1
    for c in cells[start:]:
        if text in c:
            return c
    raise AssertionError(f"no tutorial cell contains {text!r}")


def cells_from(first_text, last_text=None):
    """Consecutive code cells from the one containing ``first_text`` to ``last_text`` (or the end)."""
    cells = code_cells()
    i = next(k for k, c in enumerate(cells) if first_text in c)
    j = len(cells) - 1 if last_text is None else next(k for k, c in enumerate(cells) if k >= i and last_text in c)
    return cells[i:j + 1]
