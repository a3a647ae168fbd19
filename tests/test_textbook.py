"""The engine stays readable: its page tells the truth, and no file outgrows a sitting.

``docs/engine.md`` lists the definitions a reader passes through from
``a * b`` to the end of ``backward()``, with their lines; this checks each
against the source, so the table cannot drift from the code.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import tinygrad_bp
from tinygrad_bp import engine, layer, rules, walk

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(tinygrad_bp.__file__).resolve().parent
MODULES = {"engine.py": engine, "rules.py": rules, "walk.py": walk, "layer.py": layer}
MOST_LINES = 400


def engine_page_rows() -> list[tuple[str, str, int, int, int]]:
    section = (ROOT / "docs" / "engine.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| `([\w.]+)` \| `([\w.]+)`[^|]*\| (\d+)–(\d+) \| (\d+) \|$", section, re.M
    )
    return [(f, name, int(a), int(b), int(n)) for f, name, a, b, n in rows]


def test_the_engine_page_lists_the_path_from_a_product_to_the_end_of_backward() -> None:
    rows = engine_page_rows()
    assert [name for _, name, *_ in rows][:2] == ["Value.__mul__", "Op.binary"]
    assert rows[-1][1].endswith(".backprop")
    page = (ROOT / "docs" / "engine.md").read_text("utf-8")
    count = re.search(r"nine definitions, (\d+) lines", page)
    assert count is not None and int(count.group(1)) == sum(n for *_, n in rows)
    assert len(rows) == 9


@pytest.mark.parametrize("row", engine_page_rows(), ids=lambda r: r[1])
def test_each_definition_on_the_path_is_where_the_page_says(
    row: tuple[str, str, int, int, int],
) -> None:
    file, name, first, last, count = row
    obj: object = MODULES[file]
    for part in name.split("."):
        obj = getattr(obj, part)
    lines, start = inspect.getsourcelines(obj)  # type: ignore[arg-type]
    assert (start, start + len(lines) - 1, len(lines)) == (first, last, count)


@pytest.mark.parametrize("name", sorted(p.name for p in PACKAGE.glob("*.py")))
def test_every_file_of_the_package_reads_in_one_sitting(name: str) -> None:
    # The engine's files above all, and every file around them: learners read them all.
    lines = (PACKAGE / name).read_text(encoding="utf-8").count("\n")
    assert lines <= MOST_LINES, f"{name} has {lines} lines; the files stay at {MOST_LINES}"


def runtime_imports(name: str) -> set[str]:
    """The package's modules that ``name`` imports when it runs (not for type hints only)."""
    tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
    hints_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and id(node) not in hints_only:
            found |= {node.module} if node.module else {alias.name for alias in node.names}
    return found


def test_the_engine_imports_go_one_way() -> None:
    # The lower files never import the higher ones: no import circles.
    assert runtime_imports("rules.py") == set()
    assert runtime_imports("contract.py") == set()
    assert runtime_imports("walk.py") == set()
    assert runtime_imports("grad_mode.py") == set()
    assert runtime_imports("engine.py") <= {"contract", "grad_mode", "rules", "walk"}
    for name in ("layer.py", "ops.py", "graph.py"):
        assert runtime_imports(name) <= {"contract", "grad_mode", "rules", "walk", "engine"}, name
