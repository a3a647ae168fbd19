"""What runs from ``c = a * b`` to the end of ``c.backward()``: recorded, not listed by hand.

``sys.settrace`` sees every Python function the two statements call; the
path is those of the package, each once, in the order first called. A
definition's lines of code are its source lines less docstrings, comments
and blank lines (its decorators and signature count).
"""

from __future__ import annotations

import ast
import inspect
import io
import sys
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import tinygrad_bp

PACKAGE = Path(tinygrad_bp.__file__).resolve().parent
# Code objects of their own in Python 3.11, but lines of the definition around them.
COMPREHENSIONS = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}


@dataclass(frozen=True)
class Definition:
    """One definition on the path: its file (relative to the package), name, lines."""

    file: str
    name: str
    first: int  # first line of its source, decorators included
    source: str  # the source as written
    code_lines: int  # lines of code: no docstring, comment or blank line


def record() -> list[Definition]:
    """The package's definitions that ``c = a * b; c.backward()`` runs, in order."""
    from tinygrad_bp import Value

    a, b = Value(2.0, "a"), Value(3.0, "b")
    seen: dict[CodeType, None] = {}

    def tracer(frame: FrameType, event: str, arg: Any) -> None:
        code = frame.f_code
        if event == "call" and code.co_name not in COMPREHENSIONS and _ours(code):
            seen.setdefault(code, None)

    sys.setprofile(tracer)
    try:
        c = a * b
        c.backward()
    finally:
        sys.setprofile(None)
    return [_definition(code) for code in seen]


def _ours(code: CodeType) -> bool:
    return Path(code.co_filename).resolve().is_relative_to(PACKAGE)


def _definition(code: CodeType) -> Definition:
    lines, first = inspect.getsourcelines(code)
    source = "".join(lines)
    path = Path(code.co_filename).resolve().relative_to(PACKAGE).as_posix()
    return Definition(path, code.co_qualname, first, source, code_lines(source))


def code_lines(source: str) -> int:
    r"""Lines holding code: not blank, not only a comment, not part of a docstring.

    >>> code_lines("def f(x):\n    'Twice x.'\n\n    # why\n    return 2 * x\n")
    2
    """
    text = textwrap.dedent(source)
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    docstrings |= set(range(body[0].lineno, body[0].end_lineno + 1))  # type: ignore[operator]
    code: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in (
            tokenize.COMMENT,
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            continue
        code |= set(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


BEGIN = "<!-- the path: written by `python tests/support/reading_path.py --write` -->"
END = "<!-- end of the path -->"
PAGE = PACKAGE.parent / "docs" / "engine.md"


def markdown(path: list[Definition]) -> str:
    """The path as docs/engine.md shows it: a summary, then each definition's code."""
    total = sum(d.code_lines for d in path)
    files = sorted({d.file for d in path})
    parts = [
        BEGIN,
        "",
        f"**{len(path)} definitions, {total} lines of code, in {len(files)} files** "
        f"({', '.join(f'`{f}`' for f in files)}; docstrings, comments and blank "
        "lines not counted), in the order they first run:",
        "",
    ]
    for k, d in enumerate(path, 1):
        parts += [
            f"{k}. `{d.file}`, `{d.name}` (line {d.first}, {d.code_lines} lines of code)",
            "",
            "   <!-- no-test -->",  # a definition shown, not run again by the docs' tests
            "   ```python",
            *[("   " + line).rstrip() for line in textwrap.dedent(d.source).splitlines()],
            "   ```",
            "",
        ]
    parts.append(END)
    return "\n".join(parts)


def page_section(page: str) -> str:
    """The part of docs/engine.md between the markers, markers included."""
    start, end = page.index(BEGIN), page.index(END) + len(END)
    return page[start:end]


if __name__ == "__main__":
    path = record()
    if sys.argv[1:] == ["--write"]:
        page = PAGE.read_text(encoding="utf-8")
        PAGE.write_text(page.replace(page_section(page), markdown(path)), encoding="utf-8")
    for d in path:
        print(f"{d.file:12} {d.name:20} line {d.first:4}  {d.code_lines} lines")
    total = sum(d.code_lines for d in path)
    print(f"{len(path)} definitions, {total} lines, {len({d.file for d in path})} files")
