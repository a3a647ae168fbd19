"""Checking gradients: ``backward()`` against central finite differences.

A new op is trusted once its local derivatives agree with what its values
say: nudge each input by ±eps, watch the output move, and compare that slope
with the gradient the chain rule computed. ``gradcheck`` does this for any
function of Values (a single op, or a whole expression that uses it).

>>> import math
>>> from tinygrad_bp import op
>>> @op
... def softplus(x):
...     return math.log1p(math.exp(x)), (1 / (1 + math.exp(-x)),)
>>> gradcheck(softplus, [0.3])
True
>>> @op
... def bad_softplus(x):  # e^x / 2 is the slope at x = 0 only, not e^x / (1 + e^x)
...     return math.log1p(math.exp(x)), (math.exp(x) / 2,)
>>> gradcheck(lambda a: bad_softplus(a * 2), [0.3])  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
tinygrad_bp.finite_differences.GradcheckError: gradcheck: 1 of 1 inputs disagree ...
  input 0: analytic 1.8221188..., numeric 1.2913126...; difference 0.531
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .checks import short_repr
from .grad_mode import is_grad_enabled, no_grad
from .graph import grad
from .value import Value


@dataclass(frozen=True)
class Mismatch:
    """One input whose analytic and numeric gradients disagree."""

    index: int
    label: str
    analytic: float
    numeric: float

    def describe(self) -> str:
        name = f"input {self.index}" + (f" ({self.label!r})" if self.label else "")
        return (
            f"{name}: analytic {self.analytic!r}, numeric {self.numeric!r}; "
            f"difference {abs(self.analytic - self.numeric):.3g}"
        )


class GradcheckError(AssertionError):
    """``gradcheck`` found gradients that disagree; ``mismatches`` lists them.

    It is an AssertionError, so a failing check reads like a failing
    ``assert`` in a test.
    """

    def __init__(self, message: str, mismatches: Sequence[Mismatch] = ()) -> None:
        super().__init__(message)
        self.mismatches: tuple[Mismatch, ...] = tuple(mismatches)


def _as_inputs(inputs: Sequence[Value | float]) -> list[Value]:
    """The inputs as Values: numbers become fresh Values; nothing else is allowed."""
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise TypeError(
            f"gradcheck: inputs must be a list of Values or numbers, "
            f"got {type(inputs).__name__} {short_repr(inputs)}"
        )
    if not inputs:
        raise ValueError("gradcheck: inputs is empty; give at least one Value or number")
    values: list[Value] = []
    seen: dict[int, int] = {}
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            if id(x) in seen:
                # Nudging it would move "both" inputs at once: the check would be ambiguous.
                raise ValueError(
                    f"gradcheck: inputs {seen[id(x)]} and {i} are the same Value; "
                    f"give each input once"
                )
            seen[id(x)] = i
            values.append(x)
        elif isinstance(x, numbers.Real) and not isinstance(x, bool):
            values.append(Value(float(x)))
        else:
            raise TypeError(
                f"gradcheck: input {i} must be a Value or a real number, "
                f"got {type(x).__name__} {short_repr(x)}"
            )
    return values


def _evaluate(f: Callable[..., Value], values: Sequence[Value]) -> Value:
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(
            f"gradcheck: f must return a Value, it returned {type(out).__name__} {short_repr(out)}"
        )
    return out


def _check_tolerance(name: str, x: float, positive: bool) -> None:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
        raise ValueError(f"gradcheck: {name} must be a finite number, got {x!r}")
    if (positive and x <= 0) or x < 0:
        wanted = "greater than 0" if positive else "0 or more"
        raise ValueError(f"gradcheck: {name} must be {wanted}, got {x!r}")


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Value | float],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    order: int = 1,
) -> bool:
    """Compare ``backward()`` of ``f(*inputs)`` with central finite differences.

    ``f`` takes one Value per input and returns a Value. For every input the
    analytic gradient (the chain rule through the recorded local
    derivatives) must match the numeric slope
    ``(f(x + eps) - f(x - eps)) / (2 eps)`` within
    ``|analytic - numeric| <= atol + rtol * |numeric|``, the rule (and the
    defaults) of ``torch.autograd.gradcheck``.

    Returns True, or raises ``GradcheckError`` (an AssertionError) naming
    every input that disagrees (index and label), its analytic and its
    numeric gradient. Inputs may be Values or numbers (a number becomes a
    fresh Value). The inputs' ``data`` and ``grad`` are left as they were:
    the analytic gradients come from ``grad()``, and the nudged evaluations
    run under ``no_grad()``. ``f`` must be differentiable at the inputs:
    keep them away from kinks (``relu`` at 0) and domain edges (``log`` at 0)
    by more than ``eps``.

    ValueError for empty or repeated inputs, bad tolerances, or an ``f`` that
    fails at a nudged input; TypeError for an input that is not a Value or a
    number, or an ``f`` that does not return a Value; RuntimeError inside
    ``no_grad()``.

    ``order=2`` also checks the second derivatives: each ∂f/∂xᵢ, built as
    a graph (``grad(..., create_graph=True)``), is checked the same way
    against central differences of itself, as HIPS autograd's
    ``check_grads(order=2)`` and PyTorch's ``gradgradcheck`` do; ``order=3``
    goes one further, and so on.

    >>> from tinygrad_bp import Value
    >>> x, y = Value(2.0, "x"), Value(0.5, "y")
    >>> gradcheck(lambda a, b: (a * b).tanh() + a / b, [x, y], order=2)
    True
    >>> x.grad, y.grad
    (0.0, 0.0)
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"gradcheck: order must be a whole number from 1, got {order!r}")
    _check(f, inputs, eps, atol, rtol, with_graph=False)
    values = _as_inputs(inputs)
    if order > 1:
        _check_graph_gradient(f, values, atol, rtol)
    functions = [f]
    for _ in range(order - 1):
        # The next order: each derivative of the last, as a graph, is a function to check.
        functions = [_partial(g, i) for g in functions for i in range(len(values))]
        for g in functions:
            _check(g, values, eps, atol, rtol, with_graph=True)
    return True


def _check_graph_gradient(
    f: Callable[..., Value], values: list[Value], atol: float, rtol: float
) -> None:
    """The gradient built as a graph (from the ops' templates) must be the gradient of
    the rules: a template that says another derivative than its rule is caught here."""
    root = _evaluate(f, values)  # neither grad() below changes it: one graph serves both
    by_rules = grad(root, values)
    by_graph = [g.data for g in grad(root, values, create_graph=True)]
    wrong = [
        Mismatch(i, v.label, g, r)
        for i, (v, g, r) in enumerate(zip(values, by_graph, by_rules))
        if not (math.isfinite(g) and abs(g - r) <= atol + rtol * abs(r))
    ]
    if wrong:
        lines = "\n".join("  " + m.describe().replace("numeric", "by the rules") for m in wrong)
        raise GradcheckError(
            f"gradcheck: {len(wrong)} of {len(values)} gradients built as a graph (from the "
            f"ops' templates) disagree with the rules' (atol={atol!r}, rtol={rtol!r}):\n{lines}",
            wrong,
        )


def _partial(f: Callable[..., Value], i: int) -> Callable[..., Value]:
    """xs -> ∂f/∂xᵢ at xs, a Value of a graph (what the next order checks)."""

    def partial(*xs: Value) -> Value:
        return grad(_evaluate(f, xs), list(xs), create_graph=True)[i]

    return partial


def _check(
    f: Callable[..., Value],
    inputs: Sequence[Value | float],
    eps: float,
    atol: float,
    rtol: float,
    with_graph: bool,
) -> None:
    """One order's comparison (see ``gradcheck``). ``with_graph``: ``f`` builds a graph
    to take a gradient of (a first derivative), so its nudged values need one too."""
    _check_tolerance("eps", eps, positive=True)
    _check_tolerance("atol", atol, positive=False)
    _check_tolerance("rtol", rtol, positive=False)
    values = _as_inputs(inputs)
    if not is_grad_enabled():
        raise RuntimeError(
            "gradcheck: called inside no_grad(), where ops record no graph and every "
            "analytic gradient would be 0; call it outside the no_grad() block"
        )

    analytic = grad(_evaluate(f, values), values)

    mismatches: list[Mismatch] = []
    for i, v in enumerate(values):
        start = v.data
        try:
            with contextlib.nullcontext() if with_graph else no_grad():  # values only
                v.data = start + eps
                up = _evaluate(f, values).data
                v.data = start - eps
                down = _evaluate(f, values).data
        except (ArithmeticError, ValueError) as error:
            raise ValueError(
                f"gradcheck: f cannot be evaluated with input {i} = {start!r} ± {eps!r} "
                f"({error}); move the input away from the edge of f's domain or use a "
                f"smaller eps"
            ) from error
        finally:
            v.data = start
        numeric = (up - down) / (2.0 * eps)
        a = analytic[i]
        agree = math.isfinite(a) and math.isfinite(numeric)
        if not (agree and abs(a - numeric) <= atol + rtol * abs(numeric)):
            mismatches.append(Mismatch(i, v.label, a, numeric))

    if mismatches:
        lines = "\n".join("  " + m.describe() for m in mismatches)
        raise GradcheckError(
            f"gradcheck: {len(mismatches)} of {len(values)} inputs disagree with central "
            f"differences (eps={eps!r}, atol={atol!r}, rtol={rtol!r}):\n{lines}",
            mismatches,
        )
