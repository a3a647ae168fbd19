"""The local rules of the built-in ops, on plain floats.

Every op in tinygrad_bp is a function of plain floats that returns its value
and one local derivative per input: ``rule(x, y) -> (value, (d/dx, d/dy))``.
This module holds the built-in rules and imports nothing of the engine, so it
can be read (and tested) on its own. ``engine.py`` turns each rule into an op
on Values with the same mechanism a user's ``@op`` goes through.

>>> mul(3.0, 4.0)
(12.0, (4.0, 3.0))
>>> sigmoid(0.0)
(0.5, (0.25,))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import mul as _fmul


def add(x: float, y: float) -> tuple[float, tuple[float, float]]:
    return x + y, (1.0, 1.0)


def sub(x: float, y: float) -> tuple[float, tuple[float, float]]:
    return x - y, (1.0, -1.0)


def mul(x: float, y: float) -> tuple[float, tuple[float, float]]:
    return x * y, (y, x)


def div(x: float, y: float) -> tuple[float, tuple[float, float]]:
    if y == 0.0:
        raise ZeroDivisionError(f"/: division by zero ({x!r} / {y!r})")
    inv = 1.0 / y
    return x * inv, (inv, -x * inv * inv)


def neg(x: float) -> tuple[float, tuple[float]]:
    return -x, (-1.0,)


def pow(x: float, y: float) -> tuple[float, tuple[float, float]]:
    """x ** y, with d/dx = y·x^(y-1) and d/dy = x^y·ln x.

    d/dy needs ln x: it is 0 where x == 0 (the limit of x^y·ln x for y > 0)
    and NaN where x < 0 (x^y is then defined only at whole y, so it has no
    derivative in y). The NaN only reaches a gradient when the exponent is a
    Value; ``v ** 2`` drops the exponent's edge altogether.
    """
    if x < 0.0 and not float(y).is_integer():
        raise ValueError(
            f"**: a negative base {x!r} to the fractional power {y!r} is not a real number"
        )
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(f"**: zero to the negative power {y!r}")
    try:
        out = x**y
    except OverflowError:
        raise OverflowError(f"**: {x!r} ** {y!r} overflows a float") from None
    # x^(y-1) is written out rather than out / x so that x == 0 works.
    dx = y * x ** (y - 1.0) if y != 0.0 else 0.0
    if x > 0.0:
        dy = out * math.log(x)
    elif x == 0.0:
        dy = 0.0
    else:
        dy = math.nan
    return out, (dx, dy)


def exp(x: float) -> tuple[float, tuple[float]]:
    try:
        out = math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) overflows a float") from None
    return out, (out,)


def log(x: float) -> tuple[float, tuple[float]]:
    if x <= 0.0:
        raise ValueError(f"log: needs a positive number, got {x!r}")
    return math.log(x), (1.0 / x,)


def tanh(x: float) -> tuple[float, tuple[float]]:
    out = math.tanh(x)  # saturates to ±1.0 without overflowing
    return out, (1.0 - out * out,)


def sigmoid(x: float) -> tuple[float, tuple[float]]:
    """The logistic function 1 / (1 + e^-x), the article's activation.

    exp is only ever taken of a non-positive number, so no argument
    overflows: sigmoid(-1000) is 0.0 and sigmoid(1000) is 1.0, both with
    gradient 0.0.
    """
    if x >= 0.0:
        out = 1.0 / (1.0 + math.exp(-x))
    else:
        z = math.exp(x)
        out = z / (1.0 + z)
    return out, (out * (1.0 - out),)


def relu(x: float) -> tuple[float, tuple[float]]:
    # The derivative at exactly 0 is taken as 0, as micrograd and PyTorch do.
    return (x, (1.0,)) if x > 0.0 else (0.0, (0.0,))


def weighted_sum(*wxb: float) -> tuple[float, tuple[float, ...]]:
    """A neuron's total net input Σ wᵢ·xᵢ + b, as one op.

    The arguments are w1..wn, then x1..xn, then b. The local derivative with
    respect to wᵢ is xᵢ, with respect to xᵢ it is wᵢ, and with respect to b it
    is 1. This is how the article draws net_h1 = w1·i1 + w2·i2 + b1.

    >>> weighted_sum(0.15, 0.20, 0.05, 0.10, 0.35)[0]
    0.3775
    """
    n = (len(wxb) - 1) // 2
    w, x = wxb[:n], wxb[n : 2 * n]
    return dot(w, x) + wxb[-1], (*x, *w, 1.0)


def dot(w: Sequence[float], x: Sequence[float]) -> float:
    """Σ wᵢ·xᵢ, left to right: the weighted sum's value before its bias.

    >>> dot([0.5, 0.25], [2.0, 4.0])
    2.0
    """
    result: float = sum(map(_fmul, w, x))
    return result


def total(*xs: float) -> tuple[float, tuple[float, ...]]:
    """Σ xᵢ as one op: one edge per term, each with local derivative 1."""
    # Left to right, like a chain of +, so both give the same float.
    return sum(xs, 0.0), (1.0,) * len(xs)
