"""tinygrad_bp: scalar reverse-mode autograd for learning backpropagation.

>>> from tinygrad_bp import Value
>>> x = Value(0.5, "x")
>>> y = (x * 2).sigmoid()
>>> y.backward()
>>> round(x.grad, 6)
0.393224
"""

from .check import GradcheckError, gradcheck
from .draw import Drawing, draw
from .engine import Op, Value, is_grad_enabled, relu, sigmoid, tanh
from .explain import Derivation, Explainer, derivation, explain
from .graph import grad, no_grad, topological_order
from .layer import Net, weighted_sum, weighted_sums
from .ops import op, total
from .render import render, render_bytes
from .stepper import Step, Stepper, save_stepper, stepper_html
from .trace import Traced, TraceError, trace

__all__ = [
    "Derivation",
    "derivation",
    "draw",
    "Drawing",
    "explain",
    "Explainer",
    "grad",
    "is_grad_enabled",
    "Net",
    "gradcheck",
    "GradcheckError",
    "no_grad",
    "Op",
    "op",
    "render",
    "relu",
    "render_bytes",
    "save_stepper",
    "sigmoid",
    "Step",
    "Stepper",
    "stepper_html",
    "tanh",
    "topological_order",
    "total",
    "trace",
    "Traced",
    "TraceError",
    "Value",
    "weighted_sum",
    "weighted_sums",
]
__version__ = "0.1.0"
