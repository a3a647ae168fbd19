"""The built-in rules written as Python expressions, for the code ``trace`` generates.

A rule (``rules.py``, ``math_rules.py``) computes an op's value and local
derivatives on floats. Its template says the same as source text, so the
generated code computes them inline, without a call: ``{0}``, ``{1}`` ...
stand for the arguments (a variable's name or a float literal), ``{out}``
for the op's own value. Each template gives

- ``value``: the expression for the value, the rule's exact float;
- ``local``: one expression per argument for its local derivative, again
  the rule's exact float (it may read ``{out}``);
- ``grad`` (optional): per argument, an expression for local · ``{g}``
  that skips the multiplication where the rule's derivative is 0 or 1.

Where a rule raises (``log(0)``, ``exp(1000)``, ``x / 0``), its template
raises too, with the math module's words; ``trace`` then runs the rules
themselves to say which op failed, and where. Every rule of ``rules.py``
and ``math_rules.py`` has a template; an op without one (a user's ``@op``,
any op added later) is called through its rule as it is.
``tests/test_trace.py`` holds every template to its rule, float for
float, at ordinary points and at the edges (±0, ±inf, NaN, the largest and
the subnormal floats, the points where a result overflows), with its
arguments as names and as literals.

Where a rule's handling of an edge cannot be said in a line of arithmetic
(an overflow it catches, an error Python's ``**`` would not raise), the
template tests for the ordinary case inline and calls a small function of
``FUNCTIONS`` for the rest: ``real_pow`` and ``pow_dx`` for ``**``,
``cosh_or_inf``, ``sinh_or_inf`` and ``exp_or_inf`` for derivatives near
the largest float, ``checked_hypot`` for a hypot that overflows.

>>> TEMPLATES[rules.mul].value.format("a", "b", out="c")
'a * b'
>>> TEMPLATES[rules.sigmoid].local[0].format("x", out="s")
's * (1.0 - s)'
>>> TEMPLATES[rules.pow].value_code(["x", "2.0"], out="y")  # a constant exponent: settled
'x ** 2.0'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import math_rules, rules

# -- the edges a line of arithmetic cannot say -------------------------------------------
# Plain functions of floats, each for the edges of one rule (the templates
# below call them only there) and each held to the rule by the same test.


def real_pow(x: float, y: float) -> float:
    """x ** y where it is a real number; where it is not, the error ``rules.pow`` raises.

    Python's ``**`` makes a negative base to a fractional power a complex
    number, and gives inf for ``(-inf) ** 0.5`` and ``0.0 ** -inf``: here
    the first two are a ValueError, the last a ZeroDivisionError, as in
    the rule.

    >>> real_pow(-8.0, 2.0), real_pow(0.0, 0.5)
    (64.0, 0.0)
    """
    if x < 0.0 and math.isfinite(y) and not y.is_integer():
        raise ValueError("math domain error: a negative base to a fractional power")
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError("0.0 cannot be raised to a negative power")
    out: float = x**y
    return out


def pow_dx(x: float, y: float) -> float:
    """y·x^(y-1), the derivative of x ** y in x, also where ``**`` raises.

    0 at y == 0; inf at x == ±0 for 0 < y < 1 (where x^(y-1) divides by
    zero); ±inf where x^(y-1) overflows (|x| < 1 to a power below 1, a
    subnormal x), with the sign x^(y-1) would have: ``rules.pow``'s d/dx.

    >>> pow_dx(0.0, 0.5), pow_dx(1e-200, -1.0), pow_dx(3.0, 2.0)
    (inf, -inf, 6.0)
    """
    if y == 0.0:
        return 0.0
    try:
        slope: float = y * x ** (y - 1.0)
    except ZeroDivisionError:
        return math.inf
    except OverflowError:
        odd = x < 0.0 and (y - 1.0) % 2.0 == 1.0
        return y * (-math.inf if odd else math.inf)
    return slope


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


def exp_or_inf(x: float) -> float:
    """e^x, or inf where it is too large for a float (``math.exp`` raises there)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def checked_hypot(x: float, y: float) -> float:
    """``math.hypot``, but an OverflowError where two finite numbers give inf, as the rule.

    ``math.hypot(1.5e308, 1.5e308)`` is inf; an infinite argument gives inf
    without an error, even beside a NaN.
    """
    r = math.hypot(x, y)
    if math.isinf(r) and math.isfinite(x) and math.isfinite(y):
        raise OverflowError("math range error")
    return r


# What the expressions below may call: given to the generated code by name.
FUNCTIONS: dict[str, object] = {
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "atan2": math.atan2,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "log1p": math.log1p,
    "expm1": math.expm1,
    "log2": math.log2,
    "log10": math.log10,
    "hypot": math.hypot,
    "fabs": math.fabs,
    "copysign": math.copysign,
    "isfinite": math.isfinite,
    "inf": math.inf,
    "nan": math.nan,
    "real_pow": real_pow,
    "pow_dx": pow_dx,
    "cosh_or_inf": cosh_or_inf,
    "sinh_or_inf": sinh_or_inf,
    "exp_or_inf": exp_or_inf,
    "checked_hypot": checked_hypot,
}


@dataclass(frozen=True)
class Template:
    """An op's value and local derivatives as expressions (see the module docstring).

    ``value`` and ``local`` are format strings, or for an op of any number
    of arguments functions of the arguments' code (``local`` also of the
    value's name). ``skip_zero``: the engine passes nothing back through
    such a node while its gradient is 0 and its value finite (a ``Net``),
    and neither does the generated code where that gradient comes through
    ops that ``gate`` (a local derivative often exactly 0: relu, the hinge)
    or rule calls; elsewhere the test would cost more than it saves, and
    adding 0 changes no sum. ``raises``: the expressions can raise (out of
    a domain, a division by 0); a value nothing reads may be left out of a
    training loop only where they cannot.
    """

    value: str | Callable[[Sequence[str]], str]
    local: tuple[str, ...] | Callable[[Sequence[str], str], Sequence[str]]
    grad: tuple[str | None, ...] = ()
    skip_zero: bool = False
    gates: bool = False
    raises: bool = False

    def value_code(self, args: Sequence[str], out: str) -> str:
        if isinstance(self.value, str):
            return self.value.format(*args, out=out)
        return self.value(args)

    def local_code(self, args: Sequence[str], out: str) -> list[str]:
        if isinstance(self.local, tuple):
            return [d.format(*args, out=out) for d in self.local]
        return list(self.local(args, out))

    def grad_code(self, k: int, args: Sequence[str], out: str, g: str) -> str | None:
        """local_k · g written out, where the template says how; else None."""
        if k < len(self.grad) and self.grad[k] is not None:
            return self.grad[k].format(*args, out=out, g=g)  # type: ignore[union-attr]
        return None


def _sum(args: Sequence[str]) -> str:
    # rules.total adds left to right, as a chain of + does.
    return " + ".join(args) if args else "0.0"


def _weighted_sum(args: Sequence[str]) -> str:
    # w1..wn, x1..xn, b: rules.dot adds the products left to right, then b.
    n = (len(args) - 1) // 2
    products = [f"{w} * {x}" for w, x in zip(args[:n], args[n : 2 * n])]
    return " + ".join([*products, args[-1]]) if products else f"0.0 + {args[-1]}"


def _weighted_sum_local(args: Sequence[str], out: str) -> list[str]:
    n = (len(args) - 1) // 2
    return [*args[n : 2 * n], *args[:n], "1.0"]  # ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1


_LITERAL = re.compile(r"\(?-?(?:[0-9][0-9.e+-]*|inf|nan)\)?")


def _number(code: str) -> float | None:
    """The float an argument's code is, if it is a literal (``2.0``, ``(-0.5)``, ``inf``).

    A node's name is never one: names start with a letter or _, and ``inf``
    and ``nan`` are the generated code's own.
    """
    return float(code.strip("()")) if _LITERAL.fullmatch(code) else None


def _literal(x: float) -> str:
    # As codegen.literal writes a constant: negative ones in parentheses.
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


# x ** y. Python's ** is the rule's wherever the base is positive or the
# exponent whole (it raises for 0 to a negative power, and on overflow);
# a base <= 0 or NaN to any other exponent goes through real_pow. A
# constant's case is settled when the code is written: x ** 2.0 is just that.
def _pow_value(args: Sequence[str]) -> str:
    x, y = args
    base, exponent = _number(x), _number(y)
    if (base is not None and base > 0.0) or (exponent is not None and exponent.is_integer()):
        return f"{x} ** {y}"
    if exponent is not None:
        return f"{x} ** {y} if {x} > 0.0 else real_pow({x}, {y})"
    return f"{x} ** {y} if {x} > 0.0 or {y} % 1.0 == 0.0 else real_pow({x}, {y})"


# d/dx = y·x^(y-1) is inline where x^(y-1) cannot divide by zero or
# overflow: y >= 1, or |x| >= 1 (x^(y-1) is then no larger than x^y, a float
# already). The rest (y == 0, a base near 0 to a power below 1) is pow_dx.
# d/dy = x^y·ln x for x > 0, 0 at x == 0 and y >= 0, NaN otherwise.
def _pow_local(args: Sequence[str], out: str) -> list[str]:
    x, y = args
    base, exponent = _number(x), _number(y)
    if exponent is None:
        dx = (
            f"{y} * {x} ** ({y} - 1.0) if {y} >= 1.0 or (fabs({x}) >= 1.0 and {y} != 0.0) "
            f"else pow_dx({x}, {y})"
        )
    elif exponent == 0.0:
        dx = "0.0"
    elif exponent >= 1.0:
        dx = f"{y} * {x} ** {_literal(exponent - 1.0)}"
    else:
        dx = f"{y} * {x} ** {_literal(exponent - 1.0)} if fabs({x}) >= 1.0 else pow_dx({x}, {y})"
    if base is not None and base > 0.0:
        dy = f"{out} * log({x})"
    else:
        dy = f"{out} * log({x}) if {x} > 0.0 else 0.0 if {x} == 0.0 and {y} >= 0.0 else nan"
    return [dx, dy]


def _atan2_local(numerator: str) -> str:
    """atan2's n/(x² + y²); where a square leaves the floats' range, (n/r)/r, r = hypot(x, y)."""
    return (
        f"{numerator} / _d if 1e-300 < (_d := {{1}} * {{1}} + {{0}} * {{0}}) < inf "
        f"else ({numerator} / _r / _r if (_r := hypot({{1}}, {{0}})) != 0.0 else 0.0)"
    )


# Keyed by the rule itself: an op made from a built-in rule with ``op`` (a
# checked op) gets its template too.
TEMPLATES: dict[Callable[..., object], Template] = {
    rules.add: Template("{0} + {1}", ("1.0", "1.0")),
    rules.sub: Template("{0} - {1}", ("1.0", "-1.0")),
    rules.mul: Template("{0} * {1}", ("{1}", "{0}")),
    rules.div: Template("{0} / {1}", ("1.0 / {1}", "-{out} / {1}"), raises=True),
    rules.neg: Template("-{0}", ("-1.0",)),
    rules.mod: Template("{0} % {1}", ("1.0", "-({0} // {1})"), raises=True),
    rules.exp: Template("exp({0})", ("{out}",), raises=True),
    rules.log: Template("log({0})", ("1.0 / {0}",), raises=True),
    rules.tanh: Template("tanh({0})", ("1.0 - {out} * {out}",)),
    # exp only ever of a number <= 0, as in the rule: no overflow. _z is the
    # generated code's scratch name (no label becomes a name starting with _).
    rules.sigmoid: Template(
        "1.0 / (1.0 + exp(-{0})) if {0} >= 0.0 else (_z := exp({0})) / (1.0 + _z)",
        ("{out} * (1.0 - {out})",),
    ),
    # 1 above 0 and for NaN, 0 at and below 0 (-0.0 stays -0.0).
    rules.relu: Template(
        "0.0 if {0} < 0.0 else {0}",
        ("0.0 if {0} <= 0.0 else 1.0",),
        grad=("0.0 * {g} if {0} <= 0.0 else {g}",),
        gates=True,
    ),
    rules.abs: Template("fabs({0})", ("1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0",)),
    rules.total: Template(_sum, lambda args, out: ["1.0"] * len(args)),
    rules.weighted_sum: Template(_weighted_sum, _weighted_sum_local, skip_zero=True),
    math_rules.sqrt: Template(
        "sqrt({0})", ("0.5 / {out} if {out} != 0.0 else copysign(inf, {out})",), raises=True
    ),
    math_rules.sin: Template("sin({0})", ("cos({0})",), raises=True),
    math_rules.cos: Template("cos({0})", ("-sin({0})",), raises=True),
    math_rules.tan: Template("tan({0})", ("1.0 + {out} * {out}",), raises=True),
    math_rules.atan: Template("atan({0})", ("1.0 / (1.0 + {0} * {0})",)),
    rules.pow: Template(_pow_value, _pow_local, raises=True),
    # The larger of the two; a tie is x's, its gradient split 0.5/0.5; NaN in
    # either gives NaN with derivatives 1 and 1.
    rules.maximum: Template(
        "{0} if {0} >= {1} else {1} if {1} > {0} else nan",
        (
            "0.0 if {1} > {0} else 0.5 if {0} == {1} else 1.0",
            "0.0 if {0} > {1} else 0.5 if {0} == {1} else 1.0",
        ),
        grad=(
            "0.0 * {g} if {1} > {0} else 0.5 * {g} if {0} == {1} else {g}",
            "0.0 * {g} if {0} > {1} else 0.5 * {g} if {0} == {1} else {g}",
        ),
        gates=True,
    ),
    rules.minimum: Template(
        "{0} if {0} <= {1} else {1} if {1} < {0} else nan",
        (
            "0.0 if {1} < {0} else 0.5 if {0} == {1} else 1.0",
            "0.0 if {0} < {1} else 0.5 if {0} == {1} else 1.0",
        ),
        grad=(
            "0.0 * {g} if {1} < {0} else 0.5 * {g} if {0} == {1} else {g}",
            "0.0 * {g} if {0} < {1} else 0.5 * {g} if {0} == {1} else {g}",
        ),
        gates=True,
    ),
    # x and the slope: 1 and 0 above 0; slope and x at and below 0, and for NaN.
    rules.leaky_relu: Template(
        "{0} if {0} > 0.0 else {1} * {0}",
        ("1.0 if {0} > 0.0 else {1}", "0.0 if {0} > 0.0 else {0}"),
        grad=("{g} if {0} > 0.0 else {1} * {g}", "0.0 * {g} if {0} > 0.0 else {0} * {g}"),
    ),
    # max(x, 0) + ln(1 + e^-|x|); the derivative is sigmoid's expression:
    # exp only ever of a number <= 0 (e^-|x| is e^x below 0).
    rules.softplus: Template(
        "({0} if {0} > 0.0 else 0.0) + log1p(exp(-fabs({0})))",
        ("1.0 / (1.0 + exp(-{0})) if {0} >= 0.0 else (_z := exp({0})) / (1.0 + _z)",),
    ),
    # 1/√((1-x)(1+x)), infinite at ±1; math.asin raises past them.
    math_rules.asin: Template(
        "asin({0})",
        ("1.0 / sqrt((1.0 - {0}) * (1.0 + {0})) if fabs({0}) != 1.0 else inf",),
        raises=True,
    ),
    math_rules.acos: Template(
        "acos({0})",
        ("-1.0 / sqrt((1.0 - {0}) * (1.0 + {0})) if fabs({0}) != 1.0 else -inf",),
        raises=True,
    ),
    # atan2(y, x): {0} is y, {1} is x. _d and _r are scratch names, as _z.
    math_rules.atan2: Template("atan2({0}, {1})", (_atan2_local("{1}"), _atan2_local("-{0}"))),
    # The derivatives cosh and sinh overflow only within a rounding of the
    # value's own limit, |x| ≈ 710.48: past |x| = 710 they are called with care.
    math_rules.sinh: Template(
        "sinh({0})", ("cosh({0}) if fabs({0}) < 710.0 else cosh_or_inf({0})",), raises=True
    ),
    math_rules.cosh: Template(
        "cosh({0})", ("sinh({0}) if fabs({0}) < 710.0 else sinh_or_inf({0})",), raises=True
    ),
    math_rules.log1p: Template("log1p({0})", ("1.0 / (1.0 + {0})",), raises=True),
    # e^x itself, not expm1(x) + 1; e^x may overflow only past x = 709.
    math_rules.expm1: Template(
        "expm1({0})", ("exp({0}) if {0} < 709.0 else exp_or_inf({0})",), raises=True
    ),
    # ln 2 and ln 10 as the rules' own constants, written out.
    math_rules.log2: Template("log2({0})", (f"1.0 / ({{0}} * {math_rules.LN2!r})",), raises=True),
    math_rules.log10: Template(
        "log10({0})", (f"1.0 / ({{0}} * {math_rules.LN10!r})",), raises=True
    ),
    math_rules.exp2: Template("2.0 ** {0}", (f"{{out}} * {math_rules.LN2!r}",), raises=True),
    # x/r and y/r, 0 at the origin; two finite numbers whose hypot is inf raise.
    math_rules.hypot: Template(
        "hypot({0}, {1}) if fabs({0}) + fabs({1}) < 1e300 else checked_hypot({0}, {1})",
        ("{0} / {out} if {out} != 0.0 else 0.0", "{1} / {out} if {out} != 0.0 else 0.0"),
        raises=True,
    ),
}
