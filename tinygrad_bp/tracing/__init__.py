"""Backprop written out as code: ``trace`` a graph once, replay it as straight-line Python.

``tracer.py`` holds ``trace`` and ``Traced`` (what was traced, checking,
calling); ``codegen.py`` writes the statements (names, literals, the
forward pass, the chain rule); ``compiled.py`` compiles the pass and the
SGD loop. Each op's value and derivatives come from its template in the op
table (``tinygrad_bp.ops``).
"""

from .tracer import Traced, TraceError, trace

__all__ = ["TraceError", "Traced", "trace"]
