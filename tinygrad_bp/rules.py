"""The local rules of the built-in ops, on plain floats.

Every op in tinygrad_bp is a function of plain floats that returns its value
and one local derivative per input: ``rule(x, y) -> (value, (d/dx, d/dy))``.
This module holds the arithmetic, the activations and the piecewise ops;
``math_rules.py`` holds the functions of Python's ``math`` module (sqrt, the
trigonometric and hyperbolic functions, the logarithms and exponentials).
Neither imports anything of the engine, so each can be read (and tested) on
its own. The op table (``ops.py``) lists each rule once, as an op on Values,
called the same way as a user's ``@op``.

A rule and its op share a name (``rules.tanh`` is the rule, ``tanh`` the op
made from it): the rules are always written with their module,
``rules.tanh``, and nothing imports a rule's bare name, so the two read
apart wherever they meet.

What every rule does at the edges, in one place:

- At a kink or a domain edge the local derivative is PyTorch's (float64
  autograd, checked one by one in ``tests/torch/test_rule_conventions.py``):
  abs'(0) = 0, relu'(0) = 0, a tie of maximum or minimum splits 0.5/0.5.
  Each rule's docstring says which convention it follows.
- NaN in, NaN out, with no exception and no masking: ``relu(nan)`` is NaN.
  The few exceptions are IEEE's and PyTorch's too, and are listed where they
  happen (``nan ** 0 == 1``, ``1 ** nan == 1``, ``hypot(nan, inf) == inf``).
- An argument outside the op's domain (``log(0)``, ``sqrt(-1)``,
  ``asin(2)``) is a ValueError that names the op and the argument, where
  PyTorch would return NaN or ±inf; a division by zero (``/``, ``%``, a
  negative power of zero) is a ZeroDivisionError, as in Python.
- A result too large for a float from a finite argument (``exp(1000)``,
  ``cosh(1000)``, ``10.0 ** 400``) is an OverflowError that names the op
  and the argument, where PyTorch returns inf. Infinite arguments give
  infinite results without one (``exp(inf) == inf``). ``+ - * /`` and the
  sums follow IEEE arithmetic, as Python's floats and PyTorch do
  (``1e308 * 10 == inf``).
- A local derivative too large for a float is ±inf, never an exception:
  ``sqrt'(0) = inf``, ``d/dx 0.0 ** 0.5 = inf``.
- Subnormal arguments are ordinary numbers: ``log(5e-324)`` is finite and
  its derivative 1/x overflows to inf, as in PyTorch.
- Rules take floats. The engine converts every argument with ``float()``
  before a rule sees it, so an int too large for a float (``10**400``)
  never reaches one.

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
    """x + y, with derivatives 1 and 1 (IEEE: ``inf + -inf`` is NaN)."""
    return x + y, (1.0, 1.0)


def sub(x: float, y: float) -> tuple[float, tuple[float, float]]:
    """x - y, with derivatives 1 and -1."""
    return x - y, (1.0, -1.0)


def mul(x: float, y: float) -> tuple[float, tuple[float, float]]:
    """x · y, with d/dx = y and d/dy = x (IEEE: ``0 * inf`` is NaN)."""
    return x * y, (y, x)


def div(x: float, y: float) -> tuple[float, tuple[float, float]]:
    """x / y, with d/dx = 1/y and d/dy = -x/y².

    y == 0 (either sign) is a ZeroDivisionError naming ``/``, whatever x is
    (``nan / 0`` too): PyTorch gives ±inf or NaN there. d/dy is computed as
    -(x/y)/y, so a subnormal y gives the exact quotient (``0.0 / 5e-324`` is
    0.0) and an infinite derivative only where it overflows.

    >>> div(1.0, 4.0)
    (0.25, (0.25, -0.0625))
    """
    if y == 0.0:
        raise ZeroDivisionError(f"/: division by zero ({x!r} / {y!r})")
    out = x / y
    return out, (1.0 / y, -out / y)


def neg(x: float) -> tuple[float, tuple[float]]:
    return -x, (-1.0,)


def pow(x: float, y: float) -> tuple[float, tuple[float, float]]:
    """x ** y, with d/dx = y·x^(y-1) and d/dy = x^y·ln x.

    Conventions, each PyTorch's (``torch.pow`` in float64):

    - d/dx is 0 at y == 0 (even at x == 0, where x^(y-1) is infinite).
    - At x == 0 (either sign): d/dx is inf for 0 < y < 1, 1 at y == 1 and 0
      for y > 1; d/dy is 0 for y >= 0 (the limit of x^y·ln x).
    - d/dy is NaN where x < 0: x^y is then defined only at whole y, so it has
      no derivative in y. It only reaches a gradient when the exponent is a
      Value; ``v ** 2`` drops the exponent's edge altogether.
    - A derivative too large for a float is ±inf (``1e-200 ** -1``).
    - ``nan ** 0`` is 1 (d/dx 0, d/dy NaN) and ``1 ** nan`` is 1 (d/dx NaN,
      d/dy 0), as IEEE, Python and PyTorch have it; otherwise NaN in either
      argument gives NaN. An infinite exponent follows IEEE's pow too
      (``0.5 ** inf == 0``, ``(-2) ** inf == inf``).

    Where PyTorch returns NaN or inf this raises, naming ``**`` and the
    inputs: a finite negative base to a finite fractional power is a
    ValueError, zero to a negative power a ZeroDivisionError, and a finite
    result too large for a float an OverflowError. -inf to a fractional
    power is IEEE's, as PyTorch's: 0.0 below 0 (``(-inf) ** -0.5``), inf
    above.

    >>> pow(0.0, 0.5)
    (0.0, (inf, 0.0))
    """
    if x < 0.0 and math.isfinite(x) and math.isfinite(y) and not float(y).is_integer():
        raise ValueError(
            f"**: a negative base {x!r} to the fractional power {y!r} is not a real number"
        )
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(f"**: zero to the negative power ({x!r} ** {y!r})")
    try:
        out = x**y
    except OverflowError:
        raise OverflowError(f"**: {x!r} ** {y!r} overflows a float") from None
    dx = pow_dx(x, y)
    if x > 0.0:
        dy = out * math.log(x)
    elif x == 0.0 and y >= 0.0:
        dy = 0.0
    else:  # x < 0, or NaN in x or y
        dy = math.nan
    return out, (dx, dy)


def pow_dx(x: float, y: float) -> float:
    """y·x^(y-1), the derivative of x ** y in x, also where ``**`` raises.

    0 at y == 0; inf at x == ±0 for 0 < y < 1 (where x^(y-1) divides by
    zero); ±inf where x^(y-1) overflows (|x| < 1 to a power below 1, a
    subnormal x), with the sign x^(y-1) would have. ``pow`` above and its
    template both call it.

    >>> pow_dx(0.0, 0.5), pow_dx(1e-200, -1.0), pow_dx(3.0, 2.0)
    (inf, -inf, 6.0)
    """
    if y == 0.0:
        return 0.0
    try:
        slope: float = y * x ** (y - 1.0)
    except ZeroDivisionError:  # x == ±0 and 0 < y < 1: x^(y-1) is +inf
        return math.inf
    except OverflowError:  # |x^(y-1)| past the largest float: keep its sign
        odd = x < 0.0 and (y - 1.0) % 2.0 == 1.0
        return y * (-math.inf if odd else math.inf)
    return slope


def real_pow(x: float, y: float) -> float:
    """x ** y where it is a real number; elsewhere an error, for ``pow``'s template.

    Python's ``**`` makes a finite negative base to a fractional power a
    complex number, and gives inf for ``0.0 ** -inf``: here the first is a
    ValueError, the second a ZeroDivisionError, as in ``pow``, which then
    says which op failed, and where.

    >>> real_pow(-8.0, 2.0), real_pow(0.0, 0.5)
    (64.0, 0.0)
    """
    if x < 0.0 and math.isfinite(x) and math.isfinite(y) and not y.is_integer():
        raise ValueError("math domain error: a negative base to a fractional power")
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError("0.0 cannot be raised to a negative power")
    out: float = x**y
    return out


def mod(x: float, c: float) -> tuple[float, tuple[float, float]]:
    """x % c with Python's sign convention (the result has the sign of c).

    ``torch.remainder`` follows the same convention, and this rule its
    derivatives: 1 with respect to x, and -⌊x/c⌋ (Python's ``x // c``) with
    respect to c, both also at the jumps, where x/c is a whole number and
    the value is discontinuous. ``%`` of a Value takes a number as c, so that
    edge is dropped; the rule has it for c given as a Value.

    c == 0 is a ZeroDivisionError naming ``%`` (PyTorch gives NaN). NaN in x
    or c gives NaN; an infinite x gives NaN and ``-2.5 % inf`` is inf, as in
    Python and PyTorch.

    >>> mod(7.5, 2.0)
    (1.5, (1.0, -3.0))
    >>> mod(-7.5, 2.0)
    (0.5, (1.0, 4.0))
    """
    if c == 0.0:
        raise ZeroDivisionError(f"%: modulo by zero ({x!r} % {c!r})")
    return x % c, (1.0, -(x // c))


def exp(x: float) -> tuple[float, tuple[float]]:
    """e^x, its own derivative.

    A finite x past 709.78 is an OverflowError naming exp (PyTorch: inf);
    ``exp(inf)`` is inf with derivative inf, ``exp(-inf)`` 0 with 0.
    """
    try:
        out = math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) overflows a float") from None
    return out, (out,)


def log(x: float) -> tuple[float, tuple[float]]:
    """The natural logarithm, with derivative 1/x.

    x <= 0 (-0.0 included) is a ValueError naming log; PyTorch gives -inf
    at 0 and NaN below. ``log(inf)`` is inf with derivative 0; a subnormal x
    has a finite log and the derivative inf, as in PyTorch.
    """
    if x <= 0.0:
        raise ValueError(f"log: needs a positive number, got {x!r}")
    return math.log(x), (1.0 / x,)


def tanh(x: float) -> tuple[float, tuple[float]]:
    """tanh x, with derivative 1 - tanh²x; saturates to ±1 with derivative 0."""
    out = math.tanh(x)  # saturates to ±1.0 without overflowing
    return out, (1.0 - out * out,)


def sigmoid(x: float) -> tuple[float, tuple[float]]:
    """The logistic function 1 / (1 + e^-x), the article's activation.

    exp is only ever taken of a non-positive number, so no argument
    overflows: sigmoid(-1000) is 0.0 and sigmoid(1000) is 1.0, both with
    gradient 0.0, as at ±inf. NaN gives NaN with derivative NaN.
    """
    if x >= 0.0:
        out = 1.0 / (1.0 + math.exp(-x))
    else:  # x < 0, or NaN
        z = math.exp(x)
        out = z / (1.0 + z)
    return out, (out * (1.0 - out),)


def relu(x: float) -> tuple[float, tuple[float]]:
    """max(0, x), with derivative 1 for x > 0 and 0 for x <= 0.

    As in PyTorch (and micrograd) the derivative at the kink x == 0 is 0.
    NaN goes through as NaN, with the local derivative 1 that PyTorch's
    relu gives it, and -0.0 stays -0.0 as PyTorch keeps it.
    """
    if x > 0.0 or x != x:  # x != x: NaN
        return x, (1.0,)
    return (0.0 if x < 0.0 else x), (0.0,)


def leaky_relu(x: float, slope: float) -> tuple[float, tuple[float, float]]:
    """x for x > 0, slope·x otherwise: the derivative is 1 or slope.

    The slope is an argument of the rule like x, with its own derivative
    (x where x <= 0, else 0). The usual call passes it as a number, which
    gets no edge, as ``torch.nn.functional.leaky_relu(x, slope)``; given as a
    Value it is a learnable slope, as in ``torch.prelu``. At the kink
    x == 0 the derivative is the slope, as both give it. NaN in x gives NaN,
    with d/dx = slope and d/dslope = NaN, as ``torch.prelu``.

    >>> leaky_relu(-2.0, 0.01)
    (-0.02, (0.01, -2.0))
    """
    if x > 0.0:
        return x, (1.0, 0.0)
    return slope * x, (slope, x)


def softplus(x: float) -> tuple[float, tuple[float]]:
    """ln(1 + e^x), a smooth relu, with derivative sigmoid(x).

    Computed as max(x, 0) + ln(1 + e^-|x|): no argument overflows, and the
    result is exact to rounding everywhere: softplus(1000) is 1000.0 with
    derivative 1.0, softplus(-1000) is 0.0 with derivative 0.0, as in
    PyTorch. PyTorch returns x itself past x = 20 (its ``threshold``); that
    differs from the exact value by less than 2.1e-9, and here the exact
    value is kept. NaN gives NaN with derivative NaN.

    >>> softplus(0.0)
    (0.6931471805599453, (0.5,))
    """
    if x != x:
        return x, (x,)
    z = math.exp(-math.fabs(x))  # in (0, 1]: never overflows
    out = (x if x > 0.0 else 0.0) + math.log1p(z)
    return out, ((1.0 if x >= 0.0 else z) / (1.0 + z),)


def abs(x: float) -> tuple[float, tuple[float]]:
    """|x|, with derivative sign(x).

    abs'(0) = 0 (either sign of zero), as PyTorch's abs, whose derivative is
    ``sgn``. NaN gives NaN, with local derivative 0, as ``sgn(nan)`` is 0
    in PyTorch.
    """
    if x > 0.0:
        return x, (1.0,)
    if x < 0.0:
        return -x, (-1.0,)
    return x + 0.0, (0.0,)  # +0.0 for either zero; NaN stays NaN


def maximum(x: float, y: float) -> tuple[float, tuple[float, float]]:
    """The larger of x and y; its derivative is 1 for the larger, 0 for the other.

    At a tie (x == y) the gradient is split 0.5/0.5, as ``torch.maximum``
    does, and the value is x. NaN in either gives NaN with local derivatives
    1 and 1, as in PyTorch.
    """
    if x > y:
        return x, (1.0, 0.0)
    if y > x:
        return y, (0.0, 1.0)
    if x == y:
        return x, (0.5, 0.5)
    return math.nan, (1.0, 1.0)


def minimum(x: float, y: float) -> tuple[float, tuple[float, float]]:
    """The smaller of x and y: ``maximum``'s conventions, mirrored (``torch.minimum``)."""
    if x < y:
        return x, (1.0, 0.0)
    if y < x:
        return y, (0.0, 1.0)
    if x == y:
        return x, (0.5, 0.5)
    return math.nan, (1.0, 1.0)


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
