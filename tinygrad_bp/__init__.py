"""tinygrad_bp: scalar reverse-mode autograd for learning backpropagation.

>>> from tinygrad_bp import Value
>>> x = Value(0.5, "x")
>>> y = (x * 2).sigmoid()
>>> y.backward()
>>> round(x.grad, 6)
0.393224
"""

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

__all__ = [
    "Op",
    "Value",
    "grad",
    "no_grad",
    "op",
    "topological_order",
    "total",
    "weighted_sum",
    "weighted_sums",
]
__version__ = "0.1.0"
