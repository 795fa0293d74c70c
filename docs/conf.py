"""Sphinx configuration: MyST Markdown pages, numpydoc docstrings, autosummary API pages."""

from __future__ import annotations

import os
import sys
from importlib.metadata import version as _version

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "metarouter_stats"
author = "metarouter_stats developers"
copyright = "2026, metarouter_stats developers"  # noqa: A001
release = _version("metarouter_stats")
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"metarouter_stats {release}"
html_theme_options = {"description": "LLM routing from scarce gold and abundant, biased preference labels",
                      "fixed_sidebar": True, "page_width": "1180px", "sidebar_width": "250px"}
html_static_path = ["_static"]
html_css_files = ["custom.css"]


def _skip_sklearn_request_methods(app, what, name, obj, skip, options):
    """Skip scikit-learn's generated set_*_request methods and members inherited from its mixins
    (e.g. ``ClassifierMixin.score``): their docstrings link into scikit-learn's own docs."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    if str(getattr(obj, "__module__", "") or "").startswith("sklearn."):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_request_methods)
