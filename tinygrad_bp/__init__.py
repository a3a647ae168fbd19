"""tinygrad_bp: scalar reverse-mode autograd for learning backpropagation.

>>> from tinygrad_bp import Value
>>> x = Value(0.5, "x")
>>> y = (x * 2).sigmoid()
>>> y.backward()
>>> round(x.grad, 6)
0.393224
"""

from .engine import Op, Value, relu, sigmoid, tanh
from .functions import (
    acos,
    asin,
    atan,
    atan2,
    cos,
    cosh,
    exp2,
    expm1,
    hypot,
    leaky_relu,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    sin,
    sinh,
    softplus,
    sqrt,
    tan,
)
from .grad_mode import is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .graph import grad, topological_order
from .layer import Net, weighted_sum, weighted_sums
from .ops import op, total
from .show.derivations import Derivation
from .show.dot import Drawing
from .show.drawing import draw
from .show.explanation import Explainer, derivation, explain
from .show.learning import Learning
from .show.rendering import render, render_bytes
from .show.stepper import Step, Stepper, save_stepper, stepper_html
from .tracing.tracer import Traced, TraceError, trace

__all__ = [
    "acos",
    "asin",
    "atan",
    "atan2",
    "cos",
    "cosh",
    "Derivation",
    "derivation",
    "draw",
    "Drawing",
    "exp2",
    "explain",
    "Explainer",
    "expm1",
    "grad",
    "gradcheck",
    "GradcheckError",
    "hypot",
    "is_grad_enabled",
    "Learning",
    "leaky_relu",
    "log10",
    "log1p",
    "log2",
    "maximum",
    "minimum",
    "Net",
    "no_grad",
    "Op",
    "op",
    "relu",
    "render",
    "render_bytes",
    "save_stepper",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "Step",
    "Stepper",
    "stepper_html",
    "tan",
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
