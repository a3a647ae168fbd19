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
from .engine import (
    Op,
    Value,
    grad,
    no_grad,
    op,
    topological_order,
    total,
    weighted_sum,
    weighted_sums,
)
from .explain import Derivation, Explainer, derivation, explain
from .render import render, render_bytes
from .stepper import Step, Stepper, save_stepper, stepper_html

__all__ = [
    "Derivation",
    "derivation",
    "draw",
    "Drawing",
    "explain",
    "Explainer",
    "grad",
    "gradcheck",
    "GradcheckError",
    "no_grad",
    "Op",
    "op",
    "render",
    "render_bytes",
    "save_stepper",
    "Step",
    "Stepper",
    "stepper_html",
    "topological_order",
    "total",
    "Value",
    "weighted_sum",
    "weighted_sums",
]
__version__ = "0.1.0"
