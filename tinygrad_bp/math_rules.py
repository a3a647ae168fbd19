"""The rules of the functions of Python's ``math`` module, on plain floats.

Each is a rule like those in ``rules.py``: floats in, ``(value, (local
derivative per input,))`` out; ``rules.py``'s docstring lists what every
rule does at the edges (NaN, out of domain, overflow). What is particular
to one function is in its docstring, with the PyTorch (float64 autograd)
convention it follows, checked one by one in
``tests/torch/test_rule_conventions.py``.

The derivatives are the textbook ones, written where it matters in a form
that keeps their precision: asin's 1/√((1-x)(1+x)) rather than 1/√(1-x²)
near ±1, atan2's through hypot where the squares would overflow or
underflow.

>>> sqrt(4.0)
(2.0, (0.25,))
>>> atan2(1.0, 1.0)
(0.7853981633974483, (0.5, -0.5))
"""

from __future__ import annotations

import math

LN2 = math.log(2.0)
LN10 = math.log(10.0)


def _overflow(name: str, *args: float) -> OverflowError:
    """The error for a finite argument whose result is too large for a float."""
    at = ", ".join(map(repr, args))
    return OverflowError(f"{name}: {name}({at}) overflows a float")


def _finite(name: str, x: float) -> None:
    """A ValueError naming ``name`` for ±inf, where a periodic function has no value."""
    if math.isinf(x):
        raise ValueError(f"{name}: needs a finite number, got {x!r}")


# -- the edges a line of arithmetic cannot say: each used by a rule below and by
# its template (``ops.py``), which calls it only at those edges.


def exp_or_inf(x: float) -> float:
    """e^x, or inf past the largest float: for a derivative, which never raises."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def cosh_or_inf(x: float) -> float:
    """cosh x, or inf where it is too large for a float (``math.cosh`` raises there)."""
    try:
        return math.cosh(x)
    except OverflowError:
        return math.inf


def sinh_or_inf(x: float) -> float:
    """sinh x, or ±inf (the sign of x) where it is too large for a float."""
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(math.inf, x)


def checked_hypot(x: float, y: float) -> float:
    """``math.hypot``, but an OverflowError where two finite numbers give inf, as the rule.

    ``math.hypot(1.5e308, 1.5e308)`` is inf; an infinite argument gives inf
    without an error, even beside a NaN.
    """
    r = math.hypot(x, y)
    if math.isinf(r) and math.isfinite(x) and math.isfinite(y):
        raise OverflowError("math range error")
    return r


def sqrt(x: float) -> tuple[float, tuple[float]]:
    """√x, with derivative 1/(2√x).

    sqrt'(0) = inf, as in PyTorch; and as in PyTorch, sqrt(-0.0) is -0.0
    (IEEE) with derivative -inf. x < 0 (-inf included) is a ValueError
    naming sqrt (PyTorch: NaN). ``sqrt(inf)`` is inf with derivative 0.
    """
    if x < 0.0:
        raise ValueError(f"sqrt: needs a number >= 0, got {x!r}")
    out = math.sqrt(x)
    if out == 0.0:
        return out, (math.copysign(math.inf, out),)
    return out, (0.5 / out,)


def sin(x: float) -> tuple[float, tuple[float]]:
    """sin x, with derivative cos x. ±inf is a ValueError naming sin (PyTorch: NaN)."""
    _finite("sin", x)
    return math.sin(x), (math.cos(x),)


def cos(x: float) -> tuple[float, tuple[float]]:
    """cos x, with derivative -sin x. ±inf is a ValueError naming cos (PyTorch: NaN)."""
    _finite("cos", x)
    return math.cos(x), (-math.sin(x),)


def tan(x: float) -> tuple[float, tuple[float]]:
    """tan x, with derivative 1 + tan²x (PyTorch's form).

    No float is an odd multiple of π/2, so tan is finite at every finite x
    (at most about 1.6e16). ±inf is a ValueError naming tan (PyTorch: NaN).
    """
    _finite("tan", x)
    out = math.tan(x)
    return out, (1.0 + out * out,)


def asin(x: float) -> tuple[float, tuple[float]]:
    """arcsin x, with derivative 1/√(1 - x²).

    At the domain's ends x = ±1 the derivative is inf, as in PyTorch.
    |x| > 1 is a ValueError naming asin (PyTorch: NaN).
    """
    if abs(x) > 1.0:
        raise ValueError(f"asin: needs a number in [-1, 1], got {x!r}")
    d = (1.0 - x) * (1.0 + x)  # 1 - x², without losing digits near ±1
    return math.asin(x), (1.0 / math.sqrt(d) if d != 0.0 else math.inf,)


def acos(x: float) -> tuple[float, tuple[float]]:
    """arccos x, with derivative -1/√(1 - x²).

    At x = ±1 the derivative is -inf, as in PyTorch. |x| > 1 is a
    ValueError naming acos (PyTorch: NaN).
    """
    if abs(x) > 1.0:
        raise ValueError(f"acos: needs a number in [-1, 1], got {x!r}")
    d = (1.0 - x) * (1.0 + x)
    return math.acos(x), (-1.0 / math.sqrt(d) if d != 0.0 else -math.inf,)


def atan(x: float) -> tuple[float, tuple[float]]:
    """arctan x, with derivative 1/(1 + x²): ``atan(±inf)`` is ±π/2 with derivative 0."""
    return math.atan(x), (1.0 / (1.0 + x * x),)


def atan2(y: float, x: float) -> tuple[float, tuple[float, float]]:
    """The angle of the point (x, y), in (-π, π]; y comes first, as in ``math.atan2``.

    d/dy = x/(x² + y²) and d/dx = -y/(x² + y²). Where a square would
    overflow or underflow they are computed as (x/r)/r with r = hypot(x, y)
    instead (PyTorch's x·(1/(x² + y²)) gives 0 past |x| ≈ 1e154, and
    loses them below 1e-154). At the origin the value is
    ``math.atan2``'s (±0 or ±π, by the signs of the zeros) and both
    derivatives are 0, as PyTorch gives them. Along the negative x axis the
    value jumps from π to -π; the derivatives there are the formula's. An
    infinite argument gives NaN derivatives where the formula has inf/inf,
    as in PyTorch.
    """
    out = math.atan2(y, x)
    d = x * x + y * y
    if 1e-300 < d < math.inf:
        return out, (x / d, -y / d)
    r = math.hypot(x, y)  # a square is past the floats' range; or a zero, inf or NaN
    if r == 0.0:
        return out, (0.0, 0.0)
    return out, ((x / r) / r, (-y / r) / r)


def sinh(x: float) -> tuple[float, tuple[float]]:
    """sinh x, with derivative cosh x.

    Finite wherever the result is (up to |x| ≈ 710.47); past that an
    OverflowError naming sinh (PyTorch: ±inf). ``sinh(±inf)`` is ±inf with
    derivative inf.
    """
    try:
        out = math.sinh(x)
    except OverflowError:
        raise _overflow("sinh", x) from None
    return out, (cosh_or_inf(x),)  # inf only within a rounding of sinh's own limit


def cosh(x: float) -> tuple[float, tuple[float]]:
    """cosh x, with derivative sinh x.

    Finite wherever the result is (up to |x| ≈ 710.47); past that an
    OverflowError naming cosh, as cosh(1000) (PyTorch: inf).
    ``cosh(±inf)`` is inf with derivative ±inf.
    """
    try:
        out = math.cosh(x)
    except OverflowError:
        raise _overflow("cosh", x) from None
    return out, (sinh_or_inf(x),)


def log1p(x: float) -> tuple[float, tuple[float]]:
    """ln(1 + x), exact near 0, with derivative 1/(1 + x).

    log1p(1e-20) is 1e-20, where log(1 + x) gives 0. x <= -1 is a ValueError
    naming log1p, as log(0) (PyTorch: -inf at -1, NaN below).
    """
    if x <= -1.0:
        raise ValueError(f"log1p: needs a number > -1, got {x!r}")
    return math.log1p(x), (1.0 / (1.0 + x),)


def expm1(x: float) -> tuple[float, tuple[float]]:
    """e^x - 1, exact near 0, with derivative e^x.

    expm1(1e-20) is 1e-20, where exp(x) - 1 gives 0. The derivative is
    e^x itself, not expm1(x) + 1 (PyTorch's form, which rounds to 0 below
    x ≈ -37). A finite x past 709.78 is an OverflowError naming expm1
    (PyTorch: inf); ``expm1(-inf)`` is -1 with derivative 0.
    """
    try:
        out = math.expm1(x)
    except OverflowError:
        raise _overflow("expm1", x) from None
    return out, (exp_or_inf(x),)


def log2(x: float) -> tuple[float, tuple[float]]:
    """log₂ x, with derivative 1/(x·ln 2); exact at powers of 2.

    x <= 0 is a ValueError naming log2, as for log (PyTorch: -inf or NaN).
    """
    if x <= 0.0:
        raise ValueError(f"log2: needs a positive number, got {x!r}")
    return math.log2(x), (1.0 / (x * LN2),)


def log10(x: float) -> tuple[float, tuple[float]]:
    """log₁₀ x, with derivative 1/(x·ln 10); exact at powers of 10.

    x <= 0 is a ValueError naming log10, as for log (PyTorch: -inf or NaN).
    """
    if x <= 0.0:
        raise ValueError(f"log10: needs a positive number, got {x!r}")
    return math.log10(x), (1.0 / (x * LN10),)


def exp2(x: float) -> tuple[float, tuple[float]]:
    """2^x, with derivative 2^x·ln 2; exact at whole x.

    A finite x of 1024 or more is an OverflowError naming exp2 (PyTorch:
    inf); ``exp2(-inf)`` is 0 with derivative 0.
    """
    try:
        out = 2.0**x
    except OverflowError:
        raise _overflow("exp2", x) from None
    return out, (out * LN2,)


def hypot(x: float, y: float) -> tuple[float, tuple[float, float]]:
    """√(x² + y²) without overflow in the squares, with derivatives x/r and y/r.

    At the origin both derivatives are 0, the convention of abs'(0) = 0
    (hypot(x, 0) is |x|) and of PyTorch's ``torch.linalg.vector_norm``;
    ``torch.hypot`` itself gives NaN there (0/0). A finite pair whose result
    is too large for a float is an OverflowError naming hypot (PyTorch:
    inf). An infinite argument gives inf even when the other is NaN (IEEE,
    Python and PyTorch agree), with the derivatives inf/inf = NaN and
    finite/inf = 0, as PyTorch's.
    """
    r = math.hypot(x, y)
    if r == 0.0:
        return r, (0.0, 0.0)
    if math.isinf(r) and math.isfinite(x) and math.isfinite(y):
        raise _overflow("hypot", x, y)
    return r, (x / r, y / r)
