"""Sphinx configuration of the nnlite documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import nnlite  # noqa: E402

project = "nnlite"
author = "the nnlite authors"
copyright = "nnlite authors, BSD-3-Clause"
release = nnlite.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.napoleon",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Markdown pages: $...$ maths, ::: fences, definition lists, automatic heading anchors.
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: members in source order, no generated stub files.
autosummary_generate = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "show-inheritance": True}

# Docstrings are numpydoc-style.  They are rendered by napoleon rather than by the
# numpydoc extension because they carry a "Shape" section (input and output shapes,
# as in PyTorch), which numpydoc drops as an unknown section and napoleon renders.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_custom_sections = ["Shape"]
napoleon_use_rtype = False

html_theme = "alabaster"
html_static_path = []
html_title = f"nnlite {release}"
# wide enough for the guide's 100-column code blocks
html_theme_options = {"page_width": "1200px", "sidebar_width": "220px", "body_max_width": "none"}
