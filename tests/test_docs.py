"""The pages cannot drift from the code: every code block in them runs, and every link resolves.

Pages: README.md and every Markdown file under docs/. In each page, in order
and in one namespace per page, from a temporary folder:

- a ```python block is executed;
- a ```pycon block is a doctest (``>>>`` lines and the output they print);
- in a ```bash block, each command that runs ``tinygrad-bp`` is run (through
  ``python -m tinygrad_bp``, on this checkout, beside a link to examples/)
  and must succeed; installs and other commands are not run.

A block with a ``<!-- no-test -->`` line just above it is left out. A block
that imports an optional dependency (PyTorch, matplotlib) is left out where it
is not installed, unless ``TINYGRAD_BP_REQUIRE_TORCH=1`` (or ``..._MATPLOTLIB``)
asks for it, as CI's documentation stage does.

Links in the pages and in the lessons' Markdown cells: a relative link must
name a file or folder that exists, and its ``#fragment`` a heading of that
Markdown page; links to other sites are checked to be well formed only (no
network).
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
import io
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)]
NOTEBOOKS = sorted((ROOT / "examples" / "notebooks").glob("*.ipynb"))
SKIP_MARK = "<!-- no-test -->"
OPTIONAL = ("torch", "matplotlib")  # extras a page may use; the test extra has neither
COMMAND = "tinygrad-bp"

FENCE = re.compile(
    r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n"  # the opening fence
    r"(?P<body>.*?)"
    r"^(?P=indent)(?P=fence)[ ]*$",  # the closing fence, as indented
    re.M | re.S,
)


@dataclass
class Block:
    language: str
    code: str
    line: int  # of the opening fence, from 1
    skipped: bool


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, dedented, with their language."""
    found = []
    for m in FENCE.finditer(text):
        indent = len(m["indent"])
        lines = m["body"].splitlines(keepends=True)
        code = "".join(line[indent:] if line[:indent].isspace() else line for line in lines)
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        found.append(
            Block(
                language=(m["info"].split() or [""])[0],
                code=code,
                line=text.count("\n", 0, m.start()) + 1,
                skipped=before == SKIP_MARK,
            )
        )
    return found


def page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def page_blocks(path: Path, languages: set[str]) -> list[Block]:
    return [
        b
        for b in blocks(path.read_text(encoding="utf-8"))
        if b.language in languages and not b.skipped
    ]


def test_the_pages_are_there() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in PAGES if DOCS in p.parents}
    topics = {"drawing", "explaining", "stepper", "training", "extending", "checking"}
    topics |= {"performance", "development", "index", "lessons", "api/index", "both_directions"}
    assert {f"{t}.md" for t in topics} <= names


@pytest.fixture
def fresh_value_methods() -> Iterator[None]:
    """Each page starts from Value's own methods: a page's ``@op(method=True)`` is undone."""
    from tinygrad_bp import Value, extend

    before = set(vars(Value))
    yield
    for name in set(vars(Value)) - before:
        extend.remove_method(name)


@pytest.mark.usefixtures("fresh_value_methods")
@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_the_python_on_a_page_runs(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # files the examples write land here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    name = page_id(path)
    for block in page_blocks(path, {"python", "pycon"}):
        where = f"{name}:{block.line}"
        if missing_optional(block, where):
            continue
        if block.language == "python":
            exec(compile(block.code, where, "exec"), namespace)  # the project's own pages
            continue
        test = doctest.DocTestParser().get_doctest(
            block.code, namespace, where, str(path), block.line
        )
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        report = io.StringIO()
        runner.run(test, out=report.write, clear_globs=False)
        namespace.update(test.globs)
        assert not runner.failures, f"{where}: the example's output differs\n{report.getvalue()}"


def imported(code: str) -> set[str]:
    """The top-level modules a block of Python imports."""
    tree = ast.parse(code)
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return {name.split(".")[0] for name in names}


def missing_optional(block: Block, where: str) -> bool:
    """True if the block needs an optional dependency that is absent and not required."""
    code = block.code
    if block.language == "pycon":
        code = "\n".join(e.source for e in doctest.DocTestParser().get_examples(code))
    for module in sorted(imported(code) & set(OPTIONAL)):
        if importlib.util.find_spec(module) is None:
            if os.environ.get(f"TINYGRAD_BP_REQUIRE_{module.upper()}") == "1":
                pytest.fail(f"{where} needs {module}, which is not installed")
            return True
    return False


def commands(path: Path) -> list[tuple[int, list[str]]]:
    """The ``tinygrad-bp`` commands in a page's shell blocks, as argument lists."""
    found = []
    for block in page_blocks(path, {"bash", "sh", "console"}):
        pending, first = "", 0
        for k, line in enumerate(block.code.splitlines()):
            if not pending:
                first = block.line + 1 + k
            if line.endswith("\\"):  # continued on the next line
                pending += line[:-1] + " "
                continue
            command, pending = pending + line, ""
            for part in command.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0] == COMMAND:
                    found.append((first, words[1:]))
    return found


PAGES_WITH_COMMANDS = [p for p in PAGES if commands(p)]


@pytest.mark.parametrize("path", PAGES_WITH_COMMANDS, ids=page_id)
def test_the_commands_on_a_page_run(path: Path, tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")  # commands name examples/... files
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for line, args in commands(path):
        done = subprocess.run(
            [sys.executable, "-m", "tinygrad_bp", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        shown = shlex.join([COMMAND, *args])
        assert done.returncode == 0, (
            f"{page_id(path)}:{line}: {shown} exited {done.returncode}\n{done.stderr}"
        )


# -- links -----------------------------------------------------------------------------------
LINK = re.compile(r"(?<!\!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""<(?:a|img)\s[^>]*?(?:href|src)=["']([^"']+)["']""", re.I)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)


def prose(text: str) -> str:
    """The text without its code blocks and inline code, where nothing is a link."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return INLINE_CODE.sub("", text)


def slug(heading: str) -> str:
    """A heading's anchor, as GitHub and MyST (myst_heading_anchors) make it."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for m in re.finditer(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", prose(path.read_text("utf-8")), re.M):
        base = slug(m[1])
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n\n".join(
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells
            if c["cell_type"] == "markdown"
        )
    return path.read_text(encoding="utf-8")


def links(path: Path) -> list[str]:
    text = prose(markdown_of(path))
    return [m[1] for pattern in (LINK, IMAGE, HTML_LINK) for m in pattern.finditer(text)]


def broken(path: Path, target: str) -> str | None:
    """Why ``target``, linked from ``path``, does not resolve (None when it does)."""
    parsed = urlparse(target)
    if parsed.scheme in ("http", "https"):
        return None if parsed.netloc and " " not in target else "not a well-formed address"
    if parsed.scheme == "mailto":
        return None
    if parsed.scheme or target.startswith("//"):
        return f"unexpected scheme {parsed.scheme!r}"
    file_part, _, fragment = target.partition("#")
    dest = path if not file_part else (path.parent / file_part).resolve()
    if not dest.exists():
        return f"{file_part} does not exist"
    if ROOT not in dest.parents and dest != ROOT:
        return "points outside the repository"
    if fragment and dest.suffix == ".md" and fragment not in anchors(dest):
        return f"{dest.name} has no heading #{fragment}"
    return None


LINKED = [*PAGES, *NOTEBOOKS]


@pytest.mark.parametrize("path", LINKED, ids=page_id)
def test_every_link_resolves(path: Path) -> None:
    problems = [f"{t}: {why}" for t in links(path) if (why := broken(path, t))]
    assert not problems, f"{page_id(path)}: broken links:\n  " + "\n  ".join(problems)


def test_the_link_check_sees_links_and_anchors() -> None:
    page = DOCS / "development.md"
    assert "DECISION.md" in links(page)
    assert "the-lessons-and-this-site" in anchors(page)
    assert slug("Gradients without `.grad`, values without a graph") == (
        "gradients-without-grad-values-without-a-graph"
    )
    assert broken(page, "missing.md") == "missing.md does not exist"
    assert broken(page, "index.md#no-such-heading") == "index.md has no heading #no-such-heading"
    assert broken(page, "https://") == "not a well-formed address"
    assert links(DOCS / "lessons.md") == ["development.md#the-lessons-and-this-site"]


def test_code_blocks_are_found_inside_lists_and_can_be_left_out() -> None:
    text = "- item:\n\n  ```python\n  x = 1\n  ```\n\n<!-- no-test -->\n```python\nboom\n```\n"
    found = blocks(text)
    assert [(b.language, b.code, b.skipped) for b in found] == [
        ("python", "x = 1\n", False),
        ("python", "boom\n", True),
    ]


def test_the_table_of_ops_lists_every_op_of_the_table_once() -> None:
    from tinygrad_bp.value import OPS

    text = (DOCS / "ops.md").read_text(encoding="utf-8")
    first_cells = re.findall(r"^\| ((?:`[^`]+` ?)+)\|", text, re.M)
    listed = [name for cell in first_cells for name in re.findall(r"`([^`]+)`", cell)]
    assert len(listed) == len(set(listed)), "an op listed twice"
    assert set(listed) == set(OPS), (set(OPS) - set(listed), set(listed) - set(OPS))
