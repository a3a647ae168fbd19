"""Render DOT to SVG, PNG or PDF with the Graphviz that pygraphviz bundles.

One path, everywhere: the DOT source is parsed and laid out in this process
by pygraphviz (2.0 and newer ship wheels with Graphviz inside for Linux,
macOS and Windows), so no ``dot`` program has to be installed or on the
PATH. ``.dot`` (or ``.gv``) files get the DOT source itself.

>>> from tinygrad_bp import Value, draw
>>> a = Value(2.0, "a")
>>> svg = render_bytes(draw(a * a), "svg")
>>> svg.startswith(b"<?xml")
True
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# A file's extension -> the Graphviz output format it gets.
FORMATS: dict[str, str] = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


def _source(graph: Any) -> str:
    """The DOT source of a ``graphviz`` graph (anything with ``.source``) or of a str."""
    if isinstance(graph, str):
        return graph
    source = getattr(graph, "source", None)
    if not isinstance(source, str):
        raise TypeError(
            f"expected a graphviz graph (such as draw() returns) or DOT source as a str, "
            f"got {type(graph).__name__}"
        )
    return source


def _check_format(fmt: str) -> str:
    wanted = sorted(set(FORMATS.values()))
    if fmt not in wanted:
        raise ValueError(f"unsupported format {fmt!r}; supported formats are {', '.join(wanted)}")
    return fmt


def render_bytes(graph: Any, format: str = "svg") -> bytes:
    """Lay ``graph`` out with the dot layout and return it as ``format`` ("svg", "png", "pdf").

    ``format="dot"`` returns the DOT source unchanged (UTF-8). ``graph`` is
    what ``draw`` returns, any ``graphviz`` graph, or DOT source as a str.

    >>> render_bytes("digraph { a -> b }", "png")[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    fmt = _check_format(format)
    source = _source(graph)
    if fmt == "dot":
        return source.encode("utf-8")
    agraph_class = _pygraphviz_agraph()
    with _graphviz_stderr():
        try:
            agraph = agraph_class(string=source)
        except Exception as error:  # pygraphviz raises its own DotError and others
            raise ValueError(f"Graphviz could not parse the DOT source: {error}") from None
        try:
            data = agraph.draw(format=fmt, prog="dot")
        finally:
            agraph.close()
    if not isinstance(data, bytes) or not data:
        raise RuntimeError(f"Graphviz produced no {fmt} output")
    return data


def render(graph: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``graph`` to ``path`` as the file's extension says: .svg, .png, .pdf or .dot.

    Everything is rendered before the file is opened, so a failure leaves
    no half-written file. Returns the path written.

    >>> import tempfile, pathlib
    >>> from tinygrad_bp import Value, draw
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = render(draw(Value(1.0, "x")), pathlib.Path(tmp) / "x.pdf")
    ...     out.read_bytes()[:4]
    b'%PDF'
    """
    target = Path(path)
    ext = target.suffix.lower()
    if ext not in FORMATS:
        supported = ", ".join(FORMATS)
        shown = f"extension {ext!r}" if ext else "no extension"
        raise ValueError(
            f"cannot tell the format of {str(target)!r} ({shown}); use one of {supported}"
        )
    data = render_bytes(graph, FORMATS[ext])
    target.write_bytes(data)
    return target


def _pygraphviz_agraph() -> Any:
    """pygraphviz's AGraph, imported only when something is rendered."""
    try:
        import pygraphviz
    except ImportError as error:
        raise RuntimeError(
            "rendering needs pygraphviz 2.0 or newer, whose wheels bundle Graphviz: "
            f"pip install 'pygraphviz>=2.0' ({error})"
        ) from None
    return pygraphviz.AGraph


@contextmanager
def _graphviz_stderr() -> Iterator[None]:
    """Pass on what Graphviz writes to the process's stderr, less fontconfig's noise.

    Graphviz (and the fontconfig bundled with it) write to file descriptor
    2 directly. The bundled fontconfig is older than many systems' font
    configuration and warns about elements it does not know ("Fontconfig
    warning: ... unknown element") although fonts work; those lines are
    dropped, everything else is written to ``sys.stderr`` (which also brings
    Graphviz's messages into a notebook).
    """
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 to catch: let it be
        yield
        return
    with tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = caught.read().decode("utf-8", "replace")
    kept = [line for line in text.splitlines(True) if not line.startswith("Fontconfig warning:")]
    if kept:
        sys.stderr.write("".join(kept))
