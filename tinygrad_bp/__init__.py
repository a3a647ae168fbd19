"""tinygrad_bp: scalar reverse-mode autograd for learning backpropagation.

The front door: ``Value`` and ``backward()``, ``op`` for your own ops,
``grad`` (of any order, with ``create_graph=True``), ``hessian``, ``hvp``
and ``jvp`` (forward mode), ``no_grad``, sums as one node (``total``, ``weighted_sum``),
``gradcheck``, ``trace``, ``draw`` and ``explain``, and every math op by
name, as ``torch.nn.functional`` gathers them. What an op's author needs is
in ``tinygrad_bp.extend``; the drawing, the explanations and the pages are
in ``tinygrad_bp.show``, the trace in ``tinygrad_bp.tracing``.

>>> from tinygrad_bp import Value
>>> x = Value(0.5, "x")
>>> y = (x * 2).sigmoid()
>>> y.backward()
>>> round(x.grad, 6)
0.393224
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from .extend import op
from .finite_differences import gradcheck
from .forward_mode import jvp
from .grad_mode import no_grad
from .graph import grad
from .higher_order import hessian, hvp
from .ops import (
    acos,
    asin,
    atan,
    atan2,
    cos,
    cosh,
    exp,
    exp2,
    expm1,
    hypot,
    leaky_relu,
    log,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    relu,
    sigmoid,
    sin,
    sinh,
    softplus,
    sqrt,
    tan,
    tanh,
)
from .show.explanation import explain
from .sums import total, weighted_sum
from .tracing.tracer import trace
from .value import Value

if TYPE_CHECKING:  # draw is loaded on first use: it brings in graphviz
    from .show.drawing import draw

__all__ = [
    "Value",
    "acos",
    "asin",
    "atan",
    "atan2",
    "cos",
    "cosh",
    "draw",
    "exp",
    "exp2",
    "explain",
    "expm1",
    "grad",
    "gradcheck",
    "hessian",
    "hvp",
    "hypot",
    "jvp",
    "leaky_relu",
    "log",
    "log10",
    "log1p",
    "log2",
    "maximum",
    "minimum",
    "no_grad",
    "op",
    "relu",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "tan",
    "tanh",
    "total",
    "trace",
    "weighted_sum",
]
__version__ = "0.1.0"

# Names that were at the top before it was made small: where each lives now.
# The old import keeps working, with a DeprecationWarning naming the new one.
MOVED = {
    "Derivation": "tinygrad_bp.show",
    "derivation": "tinygrad_bp.show",
    "Drawing": "tinygrad_bp.show",
    "Explainer": "tinygrad_bp.show",
    "Learning": "tinygrad_bp.show",
    "render": "tinygrad_bp.show",
    "render_bytes": "tinygrad_bp.show",
    "Step": "tinygrad_bp.show",
    "Stepper": "tinygrad_bp.show",
    "save_stepper": "tinygrad_bp.show",
    "stepper_html": "tinygrad_bp.show",
    "Traced": "tinygrad_bp.tracing",
    "TraceError": "tinygrad_bp.tracing",
    "GradcheckError": "tinygrad_bp.finite_differences",
    "Op": "tinygrad_bp.extend",
    "add_method": "tinygrad_bp.extend",
    "is_grad_enabled": "tinygrad_bp.grad_mode",
    "topological_order": "tinygrad_bp.graph",
    "weighted_sums": "tinygrad_bp.sums",
}


def __getattr__(name: str) -> Any:
    """``draw`` on first use; a moved name from its new home, with a DeprecationWarning."""
    if name == "draw":
        from .show.drawing import draw

        globals()["draw"] = draw  # loaded once
        return draw
    if name in MOVED:
        home = MOVED[name]
        warnings.warn(
            f"tinygrad_bp.{name} moved: import it from {home} (from {home} import {name})",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(home), name)
    raise AttributeError(f"module 'tinygrad_bp' has no attribute {name!r}")
