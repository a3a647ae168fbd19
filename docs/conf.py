"""Sphinx configuration for the documentation site: Markdown pages (MyST), lessons (myst-nb).

Build it (the README says the same):

    pip install ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The lessons are the notebooks in examples/notebooks: each build copies every
``*.ipynb`` there into docs/lessons/ (not committed) and runs it, so the site
shows their outputs and a new notebook needs no change here. Nothing is
fetched while building.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# autodoc reads this checkout's docstrings, and the lessons' kernels import this checkout.
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

import tinygrad_bp  # noqa: E402  (after the path is set)

project = "tinygrad_bp"
author = "the tinygrad_bp authors"
copyright = "tinygrad_bp authors"
version = release = tinygrad_bp.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc"]
exclude_patterns = ["_build"]
root_doc = "index"

# Markdown: headings get anchors, so a page can link to [text](other.md#a-heading).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# The lessons run while building; a failing cell fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True

# API pages from the docstrings, in the order of the source.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "furo"
html_title = f"tinygrad_bp {release}"
html_static_path: list[str] = []


def _copy_lessons() -> None:
    """examples/notebooks/*.ipynb -> docs/lessons/, copying only what changed."""
    source = ROOT / "examples" / "notebooks"
    target = DOCS / "lessons"
    target.mkdir(exist_ok=True)
    wanted = {p.name: p for p in source.glob("*.ipynb")}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name, path in wanted.items():
        copy = target / name
        if not copy.exists() or copy.read_bytes() != path.read_bytes():
            shutil.copyfile(path, copy)


_copy_lessons()
