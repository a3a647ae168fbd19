"""Forward mode: tangents swept from the inputs to the output along the recorded local derivatives.

Every edge already carries ∂node/∂parent. Swept from the output backward,
they give every input's gradient at once (``backward()``, reverse mode);
swept from the inputs forward, a tangent per node (Σ local · the parent's
tangent), they give the derivative along one direction of the inputs
(``jvp``, forward mode). One forward sweep per input direction against one
backward sweep for all: why a network with millions of weights and one
loss is trained backwards.

>>> from math import log, sin
>>> f = lambda x1, x2: x1.log() + x1 * x2 - x2.sin()   # Baydin et al.'s example
>>> value, slope = jvp(f, [2.0, 5.0], [1.0, 0.0])      # ∂f/∂x₁, by one forward sweep
>>> round(value, 3), round(slope, 3)
(11.652, 5.5)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .value import Value, walk


def tangents(root: Value, seeds: Mapping[Value, float]) -> dict[Value, float]:
    """Each node's tangent, parents first: a leaf's from ``seeds`` (0 if absent), every
    other node's Σ local_grads[k] · tangent(parents[k]). One forward sweep.

    >>> x, y = Value(3.0, "x"), Value(4.0, "y")
    >>> z = x * y
    >>> tangents(z, {x: 1.0})[z]   # ∂z/∂x = y
    4.0
    """
    tangent: dict[Value, float] = {}
    for node in walk(root):
        if node.creator is None:
            tangent[node] = float(seeds.get(node, 0.0))
        else:
            pairs = zip(node.local_grads, node.parents)
            tangent[node] = sum([d * tangent[p] for d, p in pairs], 0.0)
    return tangent


def jvp(
    f: Callable[..., Value], primals: Sequence[float], tangent: Sequence[float]
) -> tuple[float, float]:
    """``(f(primals), the derivative of f along tangent)``, by one forward sweep.

    As ``torch.func.jvp`` for one output: ``f`` takes one Value per primal
    and returns a Value; the result is its value and Σᵢ ∂f/∂xᵢ · tangentᵢ.
    ``f`` may itself return a gradient built as a graph
    (``grad(..., create_graph=True)``): forward over reverse, a row of the
    Hessian times the tangent.

    >>> jvp(lambda x, y: x * x * y, [3.0, 2.0], [1.0, 0.0])   # 2xy
    (18.0, 12.0)
    """
    if isinstance(primals, (str, bytes)) or not isinstance(primals, Sequence) or not primals:
        raise TypeError("jvp: primals must be a non-empty list of numbers")
    if len(tangent) != len(primals):
        raise ValueError(
            f"jvp: expected one tangent per primal ({len(primals)}), got {len(tangent)}"
        )
    xs = [Value(p, f"x{i}") for i, p in enumerate(primals)]
    y = f(*xs)
    if not isinstance(y, Value):
        raise TypeError(f"jvp: f must return a Value, it returned {type(y).__name__}")
    swept = tangents(y, dict(zip(xs, tangent)))
    return y.data, swept[y]


@dataclass(frozen=True)
class Sweeps:
    """What each mode costs for the gradient of one root with respect to many inputs,
    counted by running both: forward mode one sweep per input, reverse mode one in all."""

    forward_sweeps: int
    forward_visits: int  # node visits over all forward sweeps
    backward_sweeps: int
    backward_visits: int

    def __str__(self) -> str:
        each = self.forward_visits // max(self.forward_sweeps, 1)
        sweeps = "sweep" if self.forward_sweeps == 1 else "sweeps"
        return (
            f"forward mode: {self.forward_sweeps} {sweeps} of {each} node visits "
            f"({self.forward_visits} in all); reverse mode: {self.backward_sweeps} sweep of "
            f"{self.backward_visits}"
        )


def count_sweeps(root: Value, wrt: Sequence[Value]) -> Sweeps:
    """Run both modes for ∂root/∂w, every w in ``wrt``, and count the node visits.

    Forward mode sweeps the whole graph once per input (a tangent of 1 on
    that input, 0 on the others); reverse mode walks it once and has every
    gradient. Both give the same numbers (``tangents`` and ``backward``).

    >>> x, y = Value(2.0, "x"), Value(3.0, "y")
    >>> print(count_sweeps(x * y + x, [x, y]))
    forward mode: 2 sweeps of 4 node visits (8 in all); reverse mode: 1 sweep of 4
    """
    visits = sum(len(tangents(root, {w: 1.0})) for w in wrt)
    return Sweeps(len(wrt), visits, 1, len(walk(root)))
