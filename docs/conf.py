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

import inspect
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# autodoc reads this checkout's docstrings, and the lessons' kernels import this checkout.
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

import tinygrad_bp  # noqa: E402  (after the path is set)
from tinygrad_bp import Op  # noqa: E402

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


_LITERAL = re.compile(r"(``.+?``)")


def _plain_bars(
    app: object, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    """Keep a docstring's ``|x|`` (an absolute value) as text.

    The docstrings are written for ``help()``, as plain text with ````literals````
    and doctest examples; reStructuredText would read ``|x|`` as a
    substitution. Bars outside literals and examples are escaped.
    """
    in_example = False
    for k, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(">>>"):
            in_example = True
        elif not stripped:
            in_example = False
        if in_example or "|" not in line:
            continue
        parts = _LITERAL.split(line)
        lines[k] = "".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(parts))


def _op_signature(
    app: object, what: str, name: str, obj: object, options: object, sig: str, ret: str
) -> tuple[str, str] | None:
    """An op's signature as a user calls it: Values or numbers in, a Value out.

    An ``Op`` carries its rule's docstring and signature, whose annotations
    are the rule's (floats in, the value and local derivatives out).
    """
    if not isinstance(obj, Op):
        return None
    params = [p.replace(annotation=inspect.Parameter.empty) for p in _rule_params(obj)]
    if what in ("method", "attribute"):  # an op kept on Value: the Value is the first argument
        params = params[1:]
    return "(" + ", ".join(str(p) for p in params) + ")", "Value"


def _rule_params(o: Op) -> list[inspect.Parameter]:
    return list(inspect.signature(o.rule).parameters.values())


def _skip_op_methods(
    app: object, what: str, name: str, obj: object, skip: bool, options: object
) -> bool | None:
    """Leave out Value's methods that are ops of the table (``x.sin()``): each op is
    documented once, as the function it is (``sin``)."""
    from tinygrad_bp import Value
    from tinygrad_bp.extend import Method

    return True if isinstance(vars(Value).get(name), Method) and what == "class" else None


def setup(app: Any) -> None:
    app.connect("autodoc-skip-member", _skip_op_methods)
    app.connect("autodoc-process-docstring", _plain_bars)
    app.connect("autodoc-process-signature", _op_signature)


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
