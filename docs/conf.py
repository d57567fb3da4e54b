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
# differences.md is included in guide/migrating.md (other work adds lines to it)
exclude_patterns = ["_build", "README.md", "differences.md"]

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
html_static_path = ["_static"]
html_css_files = ["chervil.css"]
html_show_sourcelink = False
pygments_style = "friendly"


# The Internals toctree names pages other work adds (reliability, monitoring-dashboard) with a
# glob; Sphinx warns about a glob that matches nothing, so such lines are dropped while the
# page does not exist yet. Every other warning fails the build.
OPTIONAL_PAGES = ("reliability", "monitoring-dashboard")
HERE = os.path.dirname(os.path.abspath(__file__))


def _drop_missing_optional_pages(app, docname, source):
    if docname != "index":
        return
    for page in OPTIONAL_PAGES:
        if not os.path.exists(os.path.join(HERE, page + ".md")):
            source[0] = source[0].replace(f"\n{page}*\n", "\n")


def setup(app):
    app.connect("source-read", _drop_missing_optional_pages)
