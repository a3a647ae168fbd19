"""An op's value and local derivatives written as Python expressions: its template.

A rule (``rules.py``, ``math_rules.py``) computes an op's value and local
derivatives on floats. Its template, given beside it in the op table
(``ops.py``), says the same as source text, so the code ``trace`` generates
computes them inline, without a call: ``{0}``, ``{1}`` ... stand for the
arguments (a variable's name or a float literal), ``{out}`` for the op's
own value. A template gives

- ``value``: the expression for the value, the rule's exact float;
- ``local``: one expression per argument for its local derivative, again
  the rule's exact float (it may read ``{out}``);
- ``grad`` (optional): per argument, an expression for local · ``{g}``
  that skips the multiplication where the rule's derivative is 0 or 1.

Where a rule raises (``log(0)``, ``exp(1000)``, ``x / 0``), its template
raises too, with the math module's words; ``trace`` then runs the rule
itself to say which op failed, and where. Where a rule's handling of an
edge cannot be said in a line of arithmetic, the template tests for the
ordinary case inline and calls, for the rest, the same small function of
floats the rule calls (``FUNCTIONS``: ``pow_dx``, ``cosh_or_inf``, ...).
An op without a template (a user's ``op`` that gives none) is called
through its rule. ``tests/tracing/test_tracer.py`` holds every template
to its rule, float for float, at ordinary points and at the edges.

>>> Template("{0} * {1}", ("{1}", "{0}")).local_code(["a", "b"], "c")
['b', 'a']
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import math_rules, rules

# What the expressions may call: given to the generated code by name.
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
    "floordiv": operator.floordiv,
    "copysign": math.copysign,
    "isfinite": math.isfinite,
    "inf": math.inf,
    "nan": math.nan,
    "real_pow": rules.real_pow,
    "pow_dx": rules.pow_dx,
    "cosh_or_inf": math_rules.cosh_or_inf,
    "sinh_or_inf": math_rules.sinh_or_inf,
    "exp_or_inf": math_rules.exp_or_inf,
    "checked_hypot": math_rules.checked_hypot,
}


@dataclass(frozen=True)
class Template:
    """An op's value and local derivatives as expressions (see the module docstring).

    ``value`` and ``local`` are format strings, or for an op of any number
    of arguments functions of the arguments' code (``local`` also of the
    value's name). ``skip_zero``: the generated code passes nothing back
    through such a node (a weighted sum) while its gradient is 0 and its
    value finite, which changes no gradient's bits, where that gradient
    comes through ops that ``gate`` (a local derivative often exactly 0: relu, the hinge)
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


def sum_value(args: Sequence[str]) -> str:
    # rules.total adds left to right, as a chain of + does.
    return " + ".join(args) if args else "0.0"


def weighted_sum_value(args: Sequence[str]) -> str:
    # w1..wn, x1..xn, b: rules.dot adds the products left to right, then b.
    n = (len(args) - 1) // 2
    products = [f"{w} * {x}" for w, x in zip(args[:n], args[n : 2 * n])]
    return " + ".join([*products, args[-1]]) if products else f"0.0 + {args[-1]}"


def weighted_sum_local(args: Sequence[str], out: str) -> list[str]:
    n = (len(args) - 1) // 2
    return [*args[n : 2 * n], *args[:n], "1.0"]  # ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1


_LITERAL = re.compile(r"\(?-?(?:[0-9][0-9.e+-]*|inf|nan)\)?")


def _number(code: str) -> float | None:
    """The float an argument's code is, if it is a literal (``2.0``, ``(-0.5)``, ``inf``).

    A node's name is never one: names start with a letter or _, and ``inf``
    and ``nan`` are the generated code's own.
    """
    return float(code.strip("()")) if _LITERAL.fullmatch(code) else None


def literal(x: float) -> str:
    """A float as exact source text: ``repr``, negative ones in parentheses.

    >>> literal(0.1), literal(-2.0), literal(float("-inf")), literal(float("nan"))
    ('0.1', '(-2.0)', '(-inf)', 'nan')
    """
    text = repr(float(x))  # inf and nan are names the generated code is given
    return f"({text})" if text.startswith("-") else text


# x ** y. Python's ** is the rule's wherever the base is positive or the
# exponent whole (it raises for 0 to a negative power, and on overflow);
# a base <= 0 or NaN to any other exponent goes through real_pow. A
# constant's case is settled when the code is written: x ** 2.0 is just that.
def pow_value(args: Sequence[str]) -> str:
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
# Tests by <, <=, >, >= only, as every template's (ops.py says why).
def pow_local(args: Sequence[str], out: str) -> list[str]:
    x, y = args
    base, exponent = _number(x), _number(y)
    if exponent is None:
        dx = (
            f"{y} * {x} ** ({y} - 1.0) if {y} >= 1.0 "
            f"or (fabs({x}) >= 1.0 and not 0.0 <= {y} <= 0.0) else pow_dx({x}, {y})"
        )
    elif exponent == 0.0:
        dx = "0.0"
    elif exponent >= 1.0:
        dx = f"{y} * {x} ** {literal(exponent - 1.0)}"
    else:
        dx = f"{y} * {x} ** {literal(exponent - 1.0)} if fabs({x}) >= 1.0 else pow_dx({x}, {y})"
    if base is not None and base > 0.0:
        dy = f"{out} * log({x})"
    else:
        dy = f"{out} * log({x}) if {x} > 0.0 else 0.0 if {x} >= 0.0 and {y} >= 0.0 else nan"
    return [dx, dy]


def atan2_local(numerator: str) -> str:
    """atan2's n/(x² + y²); where a square leaves the floats' range, (n/r)/r, r = hypot(x, y)."""
    return (
        f"{numerator} / _d if 1e-300 < (_d := {{1}} * {{1}} + {{0}} * {{0}}) < inf "
        f"else ({numerator} / _r / _r if not (_r := hypot({{1}}, {{0}})) <= 0.0 else 0.0)"
    )
