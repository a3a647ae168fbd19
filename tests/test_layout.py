"""The house as the design says: a short reading path, imports one way, names that say what.

The path from ``c = a * b`` to the end of ``c.backward()`` is recorded as it
runs and held to its bound; docs/engine.md shows that recording. The
package's modules import one way (engine ← tracing ← show ← nn ← cli), in
no circle, never another module's underscore names, and no module hides
behind a function of its own name.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import reading_path

import tinygrad_bp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(tinygrad_bp.__file__).resolve().parent
# Each part's layer: what is built on the engine (0) comes after it.
LAYERS = {"tracing": 1, "show": 2, "nn": 3, "cli": 4}


def test_the_reading_path_fits_on_a_screen() -> None:
    path = reading_path.record()
    names = [d.name for d in path]
    assert names[:2] == ["Value.__mul__", "Op.__call__"] and names[-2:] == [
        "Value.backward",
        "walk",
    ]
    assert len(path) <= 7, names
    assert sum(d.code_lines for d in path) <= 45, [(d.name, d.code_lines) for d in path]
    assert len({d.file for d in path}) <= 2, {d.file for d in path}


def test_the_engine_page_shows_the_path_as_it_runs() -> None:
    page = (ROOT / "docs" / "engine.md").read_text(encoding="utf-8")
    expected = reading_path.markdown(reading_path.record())
    assert reading_path.page_section(page) == expected, (
        "docs/engine.md's path is out of date: run python tests/support/reading_path.py --write"
    )


def find_modules() -> dict[str, Path]:
    """Every module of tinygrad_bp and nn by dotted name (tinygrad_bp.show.dot, nn.losses)."""
    found = {}
    for top in (PACKAGE, ROOT / "nn"):
        for path in sorted(top.rglob("*.py")):
            parts = path.relative_to(top.parent).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = find_modules()


def layer(name: str) -> int:
    if name in ("tinygrad_bp", "tinygrad_bp.__main__"):
        return max(LAYERS.values()) + 1  # the front door and the command: they gather the rest
    parts = name.split(".")
    if parts[0] == "nn":
        return LAYERS["nn"]
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def imports(name: str) -> list[tuple[str, list[str]]]:
    """(module, names) for each import of tinygrad_bp or nn that ``name`` runs (not hints)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hints_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if id(node) in hints_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [alias.name for alias in node.names]
            if target.split(".")[0] in ("tinygrad_bp", "nn"):
                # "from . import x" imports the module x, where there is one
                subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
                found += [(s, []) for s in subs] or [(target, names)]
        elif isinstance(node, ast.Import):
            found += [
                (a.name, []) for a in node.names if a.name.split(".")[0] in ("tinygrad_bp", "nn")
            ]
    return found


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_one_way(name: str) -> None:
    for target, _ in imports(name):
        if target == "tinygrad_bp":
            continue  # the front door: its engine names, and its version
        assert layer(target) <= layer(name), f"{name} (layer {layer(name)}) imports {target}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_another_modules_underscore_names(name: str) -> None:
    for target, names in imports(name):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{name} imports {private} from {target}"


def test_no_import_circle() -> None:
    graph = {name: {t for t, _ in imports(name) if t in MODULES and t != name} for name in MODULES}
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            cycle = [*stack[stack.index(name) :], name]
            # A package importing its own modules, which import from it, is no circle.
            if not all(c == cycle[0] or c.startswith(cycle[0] + ".") for c in cycle):
                pytest.fail(" -> ".join(cycle))
            return
        if name not in done:
            for target in sorted(graph[name]):
                visit(target, [*stack, name])
            done.add(name)

    for name in sorted(graph):
        visit(name, [])


PACKAGES = sorted(n for n, p in MODULES.items() if p.name == "__init__.py")


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_hidden_by_a_function_of_its_name(package: str) -> None:
    module = importlib.import_module(package)
    for name in MODULES:
        parent, _, child = name.rpartition(".")
        if parent == package:
            found = getattr(module, child, None)
            assert found is None or found is importlib.import_module(name), (
                f"{package}.{child} is {found!r}, not the module {name}"
            )


def test_importing_the_package_brings_in_no_graphviz() -> None:
    code = "import sys, tinygrad_bp; print('graphviz' in sys.modules, 'nn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_at_most_two_node_classes() -> None:
    from tinygrad_bp import Value
    from tinygrad_bp.value import WithNumbers

    def subclasses(cls: type) -> list[type]:
        return [c for s in cls.__subclasses__() for c in (s, *subclasses(s))]

    ours = [c for c in subclasses(Value) if c.__module__.split(".")[0] in ("tinygrad_bp", "nn")]
    assert ours == [WithNumbers]  # a weighted sum is a Value like any other, made by its op


def test_the_readmes_layout_names_every_file_of_the_packages() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text[text.index("Layout (") : text.index("- `tests/`", text.index("Layout ("))]
    named = set(re_backticked(layout))
    files = {
        p.name
        for top in (PACKAGE, ROOT / "nn")
        for p in top.rglob("*")
        if p.suffix in (".py", ".html") and p.name != "__init__.py" and "__pycache__" not in p.parts
    }
    assert files - named == set(), "files the README's layout does not name"
    shown = {n for n in named if n.endswith((".py", ".html")) and "/" not in n}
    assert shown - files == set(), "files the README names that are not there"


def re_backticked(text: str) -> list[str]:
    import re

    return re.findall(r"`([\w./]+)`", text)
