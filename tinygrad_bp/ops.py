"""The op table: every built-in op, written once.

Each row is one op: the name drawings and explanations show, its rule on
floats (``rules.py``, ``math_rules.py``), its template (the value and the
local derivatives as the expressions the trace inlines, ``expressions.py``),
the symbol written between its operands if it has one, and whether it is
also a method of Value (``x.sin()``). Everything that needs to know the ops
reads them here: Value's operators (through ``OPS``), the functions of the
package, the formula parser's allowlist, the stepper's equations, the
trace, docs/ops.md (checked by a test) and the tests.

A user's op joins the same way through ``extend.op``, and nn's losses too;
only the built-in ones are listed in ``OPS``.

>>> from tinygrad_bp import Value
>>> y = sin(Value(0.0))
>>> y.op, y.creator is OPS["sin"], y.local_grads
('sin', True, (1.0,))
"""

from __future__ import annotations

from . import math_rules, rules
from .expressions import (
    Template,
    atan2_local,
    pow_local,
    pow_value,
    sum_value,
    weighted_sum_local,
    weighted_sum_value,
)
from .extend import add_method
from .value import OPS, Op, Operand, Rule, Value


def builtin(
    name: str, rule: Rule, template: Template, infix: str | None = None, method: bool = False
) -> Op:
    """One row of the table: the op, listed in ``OPS`` (and made a method of Value)."""
    new = Op(rule, name, template, infix=infix, checked=False)
    OPS[name] = new
    if method:
        add_method(new)
    return new


class LeakyReLU(Op):
    """leaky_relu's op: the slope is its second argument, 0.01 when it is not given.

    A number as the slope is a constant, as in ``torch.nn.functional.leaky_relu``;
    a Value is a learnable slope with its own edge, as in ``torch.prelu``.

    >>> leaky_relu(Value(-2.0)).data, Value(-2.0).leaky_relu(0.5).data
    (-0.02, -1.0)
    """

    def __call__(self, x: Operand, slope: Operand = 0.01) -> Value:  # type: ignore[override]
        return super().__call__(x, slope)


# A template's tests compare with <, <=, > and >= only, never == or !=: the same
# expressions run on Values for grad(..., create_graph=True) (higher_order.py),
# where == is identity, so "x == 0.0" would be False at 0. Each test below is
# written so that, after the tests before it, it is the same test on floats
# (NaN included): "not out <= 0.0" for "out != 0.0" where out >= 0 or NaN.

# -- arithmetic: what Value's operators call --------------------------------------
add = builtin("+", rules.add, Template("{0} + {1}", ("1.0", "1.0")), "+")
sub = builtin("-", rules.sub, Template("{0} - {1}", ("1.0", "-1.0")), "-")
mul = builtin("*", rules.mul, Template("{0} * {1}", ("{1}", "{0}")), "*")
div = builtin(
    "/", rules.div, Template("{0} / {1}", ("1.0 / {1}", "-{out} / {1}"), raises=True), "/"
)
pow = builtin("**", rules.pow, Template(pow_value, pow_local, raises=True), "**")
mod = builtin(
    "%", rules.mod, Template("{0} % {1}", ("1.0", "-floordiv({0}, {1})"), raises=True), "%"
)
neg = builtin("neg", rules.neg, Template("-{0}", ("-1.0",)))
abs = builtin(
    "abs",
    rules.abs,
    Template("fabs({0})", ("1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0",)),
    method=True,
)
# The larger of the two; a tie is x's, its gradient split 0.5/0.5; NaN in
# either gives NaN with derivatives 1 and 1.
maximum = builtin(
    "maximum",
    rules.maximum,
    Template(
        "{0} if {0} >= {1} else {1} if {1} > {0} else nan",
        (
            "0.0 if {1} > {0} else 0.5 if {0} <= {1} else 1.0",
            "0.0 if {0} > {1} else 0.5 if {0} >= {1} else 1.0",
        ),
        grad=(
            "0.0 * {g} if {1} > {0} else 0.5 * {g} if {0} <= {1} else {g}",
            "0.0 * {g} if {0} > {1} else 0.5 * {g} if {0} >= {1} else {g}",
        ),
        gates=True,
    ),
)
minimum = builtin(
    "minimum",
    rules.minimum,
    Template(
        "{0} if {0} <= {1} else {1} if {1} < {0} else nan",
        (
            "0.0 if {1} < {0} else 0.5 if {0} >= {1} else 1.0",
            "0.0 if {0} < {1} else 0.5 if {0} <= {1} else 1.0",
        ),
        grad=(
            "0.0 * {g} if {1} < {0} else 0.5 * {g} if {0} >= {1} else {g}",
            "0.0 * {g} if {0} < {1} else 0.5 * {g} if {0} <= {1} else {g}",
        ),
        gates=True,
    ),
)

# -- sums as one node: Σ of many terms, and a neuron's Σ wᵢ·xᵢ + b (sums.py) ---------
total_op = builtin("Σ", rules.total, Template(sum_value, lambda args, out: ["1.0"] * len(args)))
weighted_sum_op = builtin(
    "Σwx+b", rules.weighted_sum, Template(weighted_sum_value, weighted_sum_local, skip_zero=True)
)

# -- the article's functions and the activations ------------------------------------
exp = builtin("exp", rules.exp, Template("exp({0})", ("{out}",), raises=True))
log = builtin("log", rules.log, Template("log({0})", ("1.0 / {0}",), raises=True))
tanh = builtin("tanh", rules.tanh, Template("tanh({0})", ("1.0 - {out} * {out}",)))
# exp only ever of a number <= 0, as in the rule: no overflow. _z is the
# generated code's scratch name (no label becomes a name starting with _).
sigmoid = builtin(
    "sigmoid",
    rules.sigmoid,
    Template(
        "1.0 / (1.0 + exp(-{0})) if {0} >= 0.0 else (_z := exp({0})) / (1.0 + _z)",
        ("{out} * (1.0 - {out})",),
    ),
)
# 1 above 0 and for NaN, 0 at and below 0 (-0.0 stays -0.0).
relu = builtin(
    "relu",
    rules.relu,
    Template(
        "0.0 if {0} < 0.0 else {0}",
        ("0.0 if {0} <= 0.0 else 1.0",),
        grad=("0.0 * {g} if {0} <= 0.0 else {g}",),
        gates=True,
    ),
)
# x and the slope: 1 and 0 above 0; slope and x at and below 0, and for NaN.
leaky_relu = LeakyReLU(
    rules.leaky_relu,
    "leaky_relu",
    Template(
        "{0} if {0} > 0.0 else {1} * {0}",
        ("1.0 if {0} > 0.0 else {1}", "0.0 if {0} > 0.0 else {0}"),
        grad=("{g} if {0} > 0.0 else {1} * {g}", "0.0 * {g} if {0} > 0.0 else {0} * {g}"),
    ),
    checked=False,
)
OPS[leaky_relu.name] = leaky_relu
add_method(leaky_relu)
# max(x, 0) + ln(1 + e^-|x|); the derivative is sigmoid's expression:
# exp only ever of a number <= 0 (e^-|x| is e^x below 0).
softplus = builtin(
    "softplus",
    rules.softplus,
    Template(
        "({0} if {0} > 0.0 else 0.0) + log1p(exp(-fabs({0})))",
        ("1.0 / (1.0 + exp(-{0})) if {0} >= 0.0 else (_z := exp({0})) / (1.0 + _z)",),
    ),
    method=True,
)

# -- the functions of Python's math module --------------------------------------------
sqrt = builtin(
    "sqrt",
    math_rules.sqrt,
    Template(
        "sqrt({0})", ("0.5 / {out} if not {out} <= 0.0 else copysign(inf, {out})",), raises=True
    ),
    method=True,
)
sin = builtin("sin", math_rules.sin, Template("sin({0})", ("cos({0})",), raises=True), method=True)
cos = builtin("cos", math_rules.cos, Template("cos({0})", ("-sin({0})",), raises=True), method=True)
tan = builtin(
    "tan", math_rules.tan, Template("tan({0})", ("1.0 + {out} * {out}",), raises=True), method=True
)
# 1/√((1-x)(1+x)), infinite at ±1; math.asin raises past them.
asin = builtin(
    "asin",
    math_rules.asin,
    Template(
        "asin({0})",
        ("1.0 / sqrt((1.0 - {0}) * (1.0 + {0})) if not 1.0 <= fabs({0}) <= 1.0 else inf",),
        raises=True,
    ),
    method=True,
)
acos = builtin(
    "acos",
    math_rules.acos,
    Template(
        "acos({0})",
        ("-1.0 / sqrt((1.0 - {0}) * (1.0 + {0})) if not 1.0 <= fabs({0}) <= 1.0 else -inf",),
        raises=True,
    ),
    method=True,
)
atan = builtin(
    "atan", math_rules.atan, Template("atan({0})", ("1.0 / (1.0 + {0} * {0})",)), method=True
)
# atan2(y, x): {0} is y, {1} is x. _d and _r are scratch names, as _z.
atan2 = builtin(
    "atan2",
    math_rules.atan2,
    Template("atan2({0}, {1})", (atan2_local("{1}"), atan2_local("-{0}"))),
)
# The derivatives cosh and sinh overflow only within a rounding of the
# value's own limit, |x| ≈ 710.48: past |x| = 710 they are called with care.
sinh = builtin(
    "sinh",
    math_rules.sinh,
    Template("sinh({0})", ("cosh({0}) if fabs({0}) < 710.0 else cosh_or_inf({0})",), raises=True),
    method=True,
)
cosh = builtin(
    "cosh",
    math_rules.cosh,
    Template("cosh({0})", ("sinh({0}) if fabs({0}) < 710.0 else sinh_or_inf({0})",), raises=True),
    method=True,
)
log1p = builtin(
    "log1p",
    math_rules.log1p,
    Template("log1p({0})", ("1.0 / (1.0 + {0})",), raises=True),
    method=True,
)
# e^x itself, not expm1(x) + 1; e^x may overflow only past x = 709.
expm1 = builtin(
    "expm1",
    math_rules.expm1,
    Template("expm1({0})", ("exp({0}) if {0} < 709.0 else exp_or_inf({0})",), raises=True),
    method=True,
)
# ln 2 and ln 10 as the rules' own constants, written out.
log2 = builtin(
    "log2",
    math_rules.log2,
    Template("log2({0})", (f"1.0 / ({{0}} * {math_rules.LN2!r})",), raises=True),
    method=True,
)
log10 = builtin(
    "log10",
    math_rules.log10,
    Template("log10({0})", (f"1.0 / ({{0}} * {math_rules.LN10!r})",), raises=True),
    method=True,
)
exp2 = builtin(
    "exp2",
    math_rules.exp2,
    Template("2.0 ** {0}", (f"{{out}} * {math_rules.LN2!r}",), raises=True),
    method=True,
)
# x/r and y/r, 0 at the origin; two finite numbers whose hypot is inf raise.
hypot = builtin(
    "hypot",
    math_rules.hypot,
    Template(
        "hypot({0}, {1}) if fabs({0}) + fabs({1}) < 1e300 else checked_hypot({0}, {1})",
        ("{0} / {out} if not {out} <= 0.0 else 0.0", "{1} / {out} if not {out} <= 0.0 else 0.0"),
        raises=True,
    ),
)
