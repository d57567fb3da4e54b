"""Sphinx configuration for Chervil's documentation site (built by ``./scripts/docs.sh build``).

Pages are MyST Markdown; the API reference comes from the docstrings through autodoc. The
build runs with ``-W --keep-going``, so every warning (a broken link, a missing page in the
navigation, a docstring that does not parse) fails it. Why Sphinx: docs/about.md.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from parsl.version import VERSION  # noqa: E402

project = "Chervil"
author = "the Chervil authors"
copyright = "the Chervil authors"
release = VERSION
version = VERSION

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md"]

# MyST: `page.md#a-heading` links resolve (and fail the build when the heading is gone)
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

# autodoc: defaults as written in the source (not `<object object at 0x...>`), members in source order
autodoc_preserve_defaults = True
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
autodoc_default_options = {"members": False, "show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

html_theme = "furo"
html_title = f"Chervil {VERSION}"
html_static_path = []
html_show_sourcelink = False
pygments_style = "friendly"

# The Internals toctree lists pages other work may add (reliability, monitoring-dashboard) by
# glob; a pattern that matches nothing yet is not an error. Every other warning is.
suppress_warnings = ["toc.empty_glob"]
