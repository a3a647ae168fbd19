"""The rules on plain floats: values and derivatives, edges, NaN, errors.

Each rule is checked against figures derived by hand, against central finite
differences (``gradcheck``) at several points inside its domain and away
from its kinks, at the edges of its domain (the conventions its docstring
states, which tests/torch/test_rule_conventions.py checks against PyTorch),
with NaN in each argument, and outside its domain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from graphgen import VALUE_FUNCTIONS

from nn import MLP
from tinygrad_bp import Value, gradcheck, math_rules, rules
from tinygrad_bp import ops as _engine
from tinygrad_bp import ops as functions

inf, nan = math.inf, math.nan
Rule = Callable[..., tuple[float, tuple[float, ...]]]

# Every rule of one or two arguments, by its op's name.
UNARY: dict[str, Rule] = {
    "neg": rules.neg,
    "exp": rules.exp,
    "log": rules.log,
    "tanh": rules.tanh,
    "sigmoid": rules.sigmoid,
    "relu": rules.relu,
    "softplus": rules.softplus,
    "abs": rules.abs,
    "sqrt": math_rules.sqrt,
    "sin": math_rules.sin,
    "cos": math_rules.cos,
    "tan": math_rules.tan,
    "asin": math_rules.asin,
    "acos": math_rules.acos,
    "atan": math_rules.atan,
    "sinh": math_rules.sinh,
    "cosh": math_rules.cosh,
    "log1p": math_rules.log1p,
    "expm1": math_rules.expm1,
    "log2": math_rules.log2,
    "log10": math_rules.log10,
    "exp2": math_rules.exp2,
}
BINARY: dict[str, Rule] = {
    "add": rules.add,
    "sub": rules.sub,
    "mul": rules.mul,
    "div": rules.div,
    "pow": rules.pow,
    "mod": rules.mod,
    "maximum": rules.maximum,
    "minimum": rules.minimum,
    "leaky_relu": rules.leaky_relu,
    "atan2": math_rules.atan2,
    "hypot": math_rules.hypot,
}
ALL = {**UNARY, **BINARY}


def same(a: float, b: float) -> bool:
    """Equal floats, NaN equal to NaN (the sign of a zero is not compared)."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def assert_rule(
    rule: Rule, args: tuple[float, ...], value: float, local: tuple[float, ...]
) -> None:
    got_value, got_local = rule(*args)
    assert same(got_value, value), (rule.__name__, args, got_value, value)
    assert len(got_local) == len(local)
    for got, want in zip(got_local, local):
        assert same(got, want), (rule.__name__, args, got_local, local)


# -- values and derivatives by hand ---------------------------------------------------

r3 = math.sqrt(3.0)
HAND: list[tuple[Rule, tuple[float, ...], float, tuple[float, ...]]] = [
    (math_rules.sqrt, (4.0,), 2.0, (0.25,)),
    (rules.abs, (-3.0,), 3.0, (-1.0,)),
    (rules.abs, (2.5,), 2.5, (1.0,)),
    (math_rules.sin, (math.pi / 6,), 0.5, (r3 / 2,)),
    (math_rules.cos, (math.pi / 3,), 0.5, (-r3 / 2,)),
    (math_rules.tan, (math.pi / 4,), 1.0, (2.0,)),
    (math_rules.asin, (0.5,), math.pi / 6, (2 / r3,)),
    (math_rules.acos, (0.5,), math.pi / 3, (-2 / r3,)),
    (math_rules.atan, (1.0,), math.pi / 4, (0.5,)),
    # atan2(y, x) at (x, y) = (-1, 1): the angle 3π/4; d/dy = x/r² = -1/2, d/dx = -y/r² = -1/2
    (math_rules.atan2, (1.0, -1.0), 3 * math.pi / 4, (-0.5, -0.5)),
    (math_rules.atan2, (-2.0, 0.0), -math.pi / 2, (0.0, 0.5)),
    # sinh(ln 2) = (2 - 1/2)/2 = 3/4 and cosh(ln 2) = (2 + 1/2)/2 = 5/4
    (math_rules.sinh, (math.log(2.0),), 0.75, (1.25,)),
    (math_rules.cosh, (math.log(2.0),), 1.25, (0.75,)),
    (math_rules.log1p, (math.e - 1.0,), 1.0, (1 / math.e,)),
    (math_rules.expm1, (math.log(2.0),), 1.0, (2.0,)),
    (math_rules.log2, (8.0,), 3.0, (1 / (8 * math.log(2.0)),)),
    (math_rules.log10, (1000.0,), 3.0, (1 / (1000 * math.log(10.0)),)),
    (math_rules.exp2, (3.0,), 8.0, (8 * math.log(2.0),)),
    (math_rules.exp2, (-1.0,), 0.5, (0.5 * math.log(2.0),)),
    (math_rules.hypot, (3.0, -4.0), 5.0, (0.6, -0.8)),
    (rules.maximum, (2.0, -1.0), 2.0, (1.0, 0.0)),
    (rules.maximum, (-1.0, 2.0), 2.0, (0.0, 1.0)),
    (rules.minimum, (2.0, -1.0), -1.0, (0.0, 1.0)),
    (rules.minimum, (-1.0, 2.0), -1.0, (1.0, 0.0)),
    # softplus(ln 3) = ln(1 + 3), with slope sigmoid(ln 3) = 3/4
    (rules.softplus, (math.log(3.0),), math.log(4.0), (0.75,)),
    (rules.softplus, (-math.log(3.0),), math.log(4.0 / 3.0), (0.25,)),
    (rules.leaky_relu, (3.0, 0.1), 3.0, (1.0, 0.0)),
    (rules.leaky_relu, (-2.0, 0.1), -0.2, (0.1, -2.0)),
    # Python's sign convention: the result has the divisor's sign; d/dc = -(x // c)
    (rules.mod, (7.5, 2.0), 1.5, (1.0, -3.0)),
    (rules.mod, (-7.5, 2.0), 0.5, (1.0, 4.0)),
    (rules.mod, (7.5, -2.0), -0.5, (1.0, 4.0)),
    (rules.mod, (-7.5, -2.0), -1.5, (1.0, -3.0)),
    (rules.pow, (2.0, 3.0), 8.0, (12.0, 8 * math.log(2.0))),
    (rules.div, (3.0, 4.0), 0.75, (0.25, -3.0 / 16)),
]


@pytest.mark.parametrize(("rule", "args", "value", "local"), HAND)
def test_values_and_derivatives_by_hand(
    rule: Rule, args: tuple[float, ...], value: float, local: tuple[float, ...]
) -> None:
    got_value, got_local = rule(*args)
    assert got_value == pytest.approx(value, rel=1e-15, abs=1e-300)
    assert got_local == pytest.approx(local, rel=1e-15, abs=1e-300)


# -- central finite differences, inside each domain and away from kinks ---------------

POINTS: dict[str, list[tuple[float, ...]]] = {
    "sqrt": [(0.01,), (0.7,), (2.0,), (1e4,)],
    "abs": [(-2.0,), (-0.3,), (0.4,), (3.0,)],
    "sin": [(-2.0,), (0.0,), (0.7,), (10.0,)],
    "cos": [(-2.0,), (0.0,), (0.7,), (10.0,)],
    "tan": [(-1.2,), (0.0,), (0.7,), (1.4,)],
    "asin": [(-0.9,), (0.0,), (0.5,), (0.99,)],
    "acos": [(-0.9,), (0.0,), (0.5,), (0.99,)],
    "atan": [(-20.0,), (0.0,), (0.7,), (3.0,)],
    "atan2": [(1.0, 1.0), (0.5, -2.0), (-0.5, -2.0), (-3.0, 0.2), (0.0, 1.0)],
    "sinh": [(-3.0,), (0.0,), (0.7,), (5.0,)],
    "cosh": [(-3.0,), (0.0,), (0.7,), (5.0,)],
    "log1p": [(-0.9,), (0.0,), (1e-3,), (4.0,)],
    "expm1": [(-3.0,), (0.0,), (1e-3,), (4.0,)],
    "log2": [(0.1,), (1.0,), (3.0,), (100.0,)],
    "log10": [(0.1,), (1.0,), (3.0,), (100.0,)],
    "exp2": [(-3.0,), (0.0,), (0.7,), (5.0,)],
    "hypot": [(3.0, 4.0), (-1.0, 0.5), (0.2, -0.1), (0.0, 2.0)],
    "minimum": [(1.0, 2.0), (2.0, 1.0), (-0.5, 0.5), (3.0, -3.0)],
    "maximum": [(1.0, 2.0), (2.0, 1.0), (-0.5, 0.5), (3.0, -3.0)],
    "softplus": [(-30.0,), (-1.0,), (0.0,), (2.0,), (30.0,)],
    "leaky_relu": [(-2.0, 0.01), (-0.5, 0.2), (0.5, 0.2), (3.0, -0.5)],
    "mod": [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (0.3, 1.0), (5.2, 0.75)],
}


# Each op as a function: the Op of functions.py (engine's for abs and %).
FUNCTION_FORMS = {name: getattr(functions, name, None) for name in POINTS}
FUNCTION_FORMS.update(abs=_engine.abs, mod=_engine.mod, leaky_relu=functions.leaky_relu)


@pytest.mark.parametrize("name", list(POINTS))
def test_each_new_op_passes_gradcheck_at_points_inside_its_domain(name: str) -> None:
    # as the generated graphs use it (a method, abs(), %, a function of two) and as a function
    for f in (VALUE_FUNCTIONS[name], FUNCTION_FORMS[name]):
        for xs in POINTS[name]:
            assert gradcheck(f, list(xs), eps=1e-6, atol=1e-8, rtol=1e-6), (name, f, xs)


@pytest.mark.parametrize(
    ("f", "xs"),
    [
        (lambda a: a**0.5, [0.3]),  # a fractional power near 0, where it used to raise at 0
        (lambda a, b: a**b, [0.3, 0.4]),
        (lambda b: 0.2**b, [0.6]),
        (lambda a, b: a / b, [1.3, -0.7]),
        (lambda a: a.relu(), [-0.4]),
    ],
)
def test_the_fixed_built_in_rules_pass_gradcheck(f: Callable[..., Value], xs: list[float]) -> None:
    assert gradcheck(f, xs, atol=1e-8, rtol=1e-6)


# -- the conventions at the edges (each PyTorch's, see tests/torch) -------------------

EDGES: list[tuple[Rule, tuple[float, ...], float, tuple[float, ...]]] = [
    # kinks
    (rules.abs, (0.0,), 0.0, (0.0,)),
    (rules.abs, (-0.0,), 0.0, (0.0,)),
    (rules.relu, (0.0,), 0.0, (0.0,)),
    (rules.relu, (-0.0,), -0.0, (0.0,)),
    (rules.leaky_relu, (0.0, 0.01), 0.0, (0.01, 0.0)),
    (rules.maximum, (1.5, 1.5), 1.5, (0.5, 0.5)),
    (rules.minimum, (1.5, 1.5), 1.5, (0.5, 0.5)),
    (rules.maximum, (inf, inf), inf, (0.5, 0.5)),
    (rules.mod, (4.0, 2.0), 0.0, (1.0, -2.0)),  # at a jump: the formula's derivatives
    (rules.mod, (-4.0, 2.0), 0.0, (1.0, 2.0)),
    (math_rules.atan2, (0.0, 0.0), 0.0, (0.0, 0.0)),
    (math_rules.atan2, (0.0, -0.0), math.pi, (0.0, 0.0)),
    (math_rules.atan2, (-0.0, -1.0), -math.pi, (-1.0, 0.0)),
    (math_rules.hypot, (0.0, -0.0), 0.0, (0.0, 0.0)),
    # domain edges: infinite slopes
    (math_rules.sqrt, (0.0,), 0.0, (inf,)),
    (math_rules.sqrt, (-0.0,), -0.0, (-inf,)),
    (math_rules.asin, (1.0,), math.pi / 2, (inf,)),
    (math_rules.asin, (-1.0,), -math.pi / 2, (inf,)),
    (math_rules.acos, (1.0,), 0.0, (-inf,)),
    (math_rules.acos, (-1.0,), math.pi, (-inf,)),
    # pow at a zero base (issue: 0.0 ** 0.5 raised while computing d/dx)
    (rules.pow, (0.0, 0.5), 0.0, (inf, 0.0)),
    (rules.pow, (-0.0, 0.5), 0.0, (inf, 0.0)),
    (rules.pow, (0.0, 0.25), 0.0, (inf, 0.0)),
    (rules.pow, (0.0, 0.0), 1.0, (0.0, 0.0)),
    (rules.pow, (0.0, 1.0), 0.0, (1.0, 0.0)),
    (rules.pow, (0.0, 1.5), 0.0, (0.0, 0.0)),
    (rules.pow, (0.0, 2.0), 0.0, (0.0, 0.0)),
    (rules.pow, (0.0, inf), 0.0, (nan, 0.0)),
    # pow where a derivative overflows: ±inf, not an exception
    (rules.pow, (1e-200, -1.0), 1e200, (-inf, -1e200 * 200 * math.log(10.0))),
    (rules.pow, (-1e-200, -1.0), -1e200, (-inf, nan)),
    (rules.pow, (-1e-110, -2.0), 1e-110**-2.0, (inf, nan)),  # x^(y-1) = -1e330: -inf, times -2
    (rules.pow, (-2.0, 3.0), -8.0, (12.0, nan)),
    (rules.pow, (-2.0, inf), inf, (inf, nan)),
    (rules.pow, (0.5, -inf), inf, (-inf, -inf)),
    (rules.pow, (inf, -0.5), 0.0, (-0.0, nan)),
    (rules.pow, (inf, 0.0), 1.0, (0.0, inf)),
    # infinities in, as IEEE arithmetic and PyTorch give them
    (rules.exp, (inf,), inf, (inf,)),
    (rules.exp, (-inf,), 0.0, (0.0,)),
    (rules.log, (inf,), inf, (0.0,)),
    (rules.tanh, (-inf,), -1.0, (0.0,)),
    (rules.sigmoid, (inf,), 1.0, (0.0,)),
    (rules.sigmoid, (-inf,), 0.0, (0.0,)),
    (rules.relu, (inf,), inf, (1.0,)),
    (rules.relu, (-inf,), 0.0, (0.0,)),
    (rules.softplus, (inf,), inf, (1.0,)),
    (rules.softplus, (-inf,), 0.0, (0.0,)),
    (rules.abs, (-inf,), inf, (-1.0,)),
    (math_rules.sqrt, (inf,), inf, (0.0,)),
    (math_rules.atan, (inf,), math.pi / 2, (0.0,)),
    (math_rules.sinh, (-inf,), -inf, (inf,)),
    (math_rules.cosh, (-inf,), inf, (-inf,)),
    (math_rules.expm1, (-inf,), -1.0, (0.0,)),
    (math_rules.exp2, (-inf,), 0.0, (0.0,)),
    (math_rules.log1p, (inf,), inf, (0.0,)),
    (math_rules.atan2, (1.0, inf), 0.0, (nan, -0.0)),
    (math_rules.atan2, (inf, 1.0), math.pi / 2, (0.0, nan)),
    (math_rules.hypot, (inf, 1.0), inf, (nan, 0.0)),
    (rules.mod, (-2.5, inf), inf, (1.0, 1.0)),
    (rules.mod, (2.5, inf), 2.5, (1.0, -0.0)),
    (rules.mod, (inf, 3.0), nan, (1.0, nan)),
    (rules.mul, (0.0, inf), nan, (inf, 0.0)),
    # subnormals are ordinary numbers
    (rules.log, (5e-324,), math.log(5e-324), (inf,)),
    (rules.div, (0.0, 5e-324), 0.0, (inf, -0.0)),
    (rules.div, (1e-10, 1e-310), 1e-10 / 1e-310, (inf, -inf)),
    (math_rules.sqrt, (5e-324,), math.sqrt(5e-324), (0.5 / math.sqrt(5e-324),)),
    (math_rules.log2, (5e-324,), -1074.0, (inf,)),
    (rules.relu, (-5e-324,), 0.0, (0.0,)),
    # NaN goes through, but where IEEE and PyTorch give a number
    (rules.pow, (nan, 0.0), 1.0, (0.0, nan)),
    (rules.pow, (1.0, nan), 1.0, (nan, 0.0)),
    (rules.pow, (0.0, nan), nan, (nan, nan)),
    (math_rules.hypot, (nan, inf), inf, (nan, nan)),
    (rules.relu, (nan,), nan, (1.0,)),
    (rules.abs, (nan,), nan, (0.0,)),
    (rules.leaky_relu, (nan, 0.01), nan, (0.01, nan)),
    (rules.maximum, (nan, 1.0), nan, (1.0, 1.0)),
    (rules.minimum, (1.0, nan), nan, (1.0, 1.0)),
]


@pytest.mark.parametrize(("rule", "args", "value", "local"), EDGES)
def test_the_conventions_at_the_edges(
    rule: Rule, args: tuple[float, ...], value: float, local: tuple[float, ...]
) -> None:
    assert_rule(rule, args, value, local)


def test_the_sign_of_an_infinite_slope_follows_the_sign_of_zero() -> None:
    assert math_rules.sqrt(0.0)[1] == (inf,) and math_rules.sqrt(-0.0)[1] == (-inf,)
    assert math.copysign(1.0, rules.relu(-0.0)[0]) == -1.0  # -0.0 stays -0.0, as in PyTorch
    assert math.copysign(1.0, rules.abs(-0.0)[0]) == 1.0


# -- NaN in, NaN out --------------------------------------------------------------------

ORDINARY = {name: POINTS.get(name, [(0.7,) if name in UNARY else (0.7, 0.4)])[0] for name in ALL}
ORDINARY.update(log=(0.7,), pow=(0.7, 0.4), add=(0.7, 0.4), leaky_relu=(0.7, 0.1))
# (name, position of the NaN) where the value is a number, as in IEEE and PyTorch
NOT_NAN = {("leaky_relu", 1)}  # x = 0.7 > 0 does not read the slope: 0.7, d/dslope 0


@pytest.mark.parametrize(
    ("name", "i"), [(name, i) for name, rule in ALL.items() for i in range(len(ORDINARY[name]))]
)
def test_nan_in_any_argument_gives_nan(name: str, i: int) -> None:
    args = list(ORDINARY[name])
    args[i] = nan
    value, local = ALL[name](*args)
    assert math.isnan(value) != ((name, i) in NOT_NAN), (name, args, value)
    assert all(isinstance(d, float) for d in local)


def test_nan_goes_through_relu_and_an_mlp() -> None:
    # the reproduction: relu(nan) was 0, so the network's output was 0.0
    assert math.isnan(Value(nan).relu().data)
    assert math.isnan(MLP(2, [3, 1], seed=0)([nan, 0.0]).data)  # type: ignore[union-attr]


# -- no overflow where the result is a float; an error naming the op where it is not ----


@pytest.mark.parametrize(
    ("rule", "x", "value"),
    [
        (rules.softplus, 1000.0, 1000.0),
        (rules.softplus, -1000.0, 0.0),
        (rules.softplus, -700.0, math.exp(-700.0)),
        (rules.sigmoid, -1000.0, 0.0),
        # e^710 / 2 = 1.1e308, though e^710 itself is past the largest float
        (math_rules.sinh, 710.0, 0.5 * math.exp(355.0) * math.exp(355.0)),
        (math_rules.cosh, -710.0, 0.5 * math.exp(355.0) * math.exp(355.0)),
        (math_rules.sinh, -709.0, -0.5 * math.exp(709.0)),
        (math_rules.expm1, 709.0, math.exp(709.0) - 1.0),
        (math_rules.exp2, 1023.5, 2.0**1023.5),
        (math_rules.exp2, -1074.0, 5e-324),
    ],
)
def test_finite_wherever_the_result_is(rule: Rule, x: float, value: float) -> None:
    out, (slope,) = rule(x)
    assert out == pytest.approx(value, rel=1e-13, abs=1e-320)
    assert not math.isnan(slope)


@pytest.mark.parametrize(
    ("rule", "args", "message"),
    [
        (rules.exp, (1000.0,), r"exp: exp\(1000\.0\) overflows a float"),
        (math_rules.sinh, (1000.0,), r"sinh: sinh\(1000\.0\) overflows a float"),
        (math_rules.sinh, (-711.0,), r"sinh: sinh\(-711\.0\) overflows a float"),
        (math_rules.cosh, (1000.0,), r"cosh: cosh\(1000\.0\) overflows a float"),
        (math_rules.cosh, (-1000.0,), r"cosh: cosh\(-1000\.0\) overflows a float"),
        (math_rules.expm1, (710.0,), r"expm1: expm1\(710\.0\) overflows a float"),
        (math_rules.exp2, (1024.0,), r"exp2: exp2\(1024\.0\) overflows a float"),
        (math_rules.hypot, (1.5e308, 1.5e308), r"hypot: hypot\(1\.5e\+308, 1\.5e\+308\) overflows"),
        (rules.pow, (10.0, 400.0), r"\*\*: 10\.0 \*\* 400\.0 overflows a float"),
    ],
)
def test_overflow_names_the_op_and_its_input(
    rule: Rule, args: tuple[float, ...], message: str
) -> None:
    with pytest.raises(OverflowError, match=message):
        rule(*args)


def test_log1p_and_expm1_are_exact_near_zero() -> None:
    for x in (1e-20, -1e-20, 1e-300, 5e-324):
        assert math_rules.log1p(x) == (x, (1.0,))
        assert math_rules.expm1(x) == (x, (1.0,))
    # log(1 + x) would give 0.0 or lose half the digits here
    x = 1e-10
    assert math_rules.log1p(x)[0] == pytest.approx(x - x * x / 2, rel=1e-16)
    assert math_rules.expm1(x)[0] == pytest.approx(x + x * x / 2, rel=1e-16)
    assert math_rules.expm1(-40.0)[1][0] == math.exp(-40.0)  # not expm1 + 1, which rounds to 0


def test_division_gives_the_exact_quotient() -> None:
    for x, y in [(1.0, 3.0), (0.1, 0.7), (2.0, 1e-310), (-5.0, 7.0e-300), (1e308, 0.5)]:
        value, (dx, dy) = rules.div(x, y)
        assert value == x / y
        assert dx == 1.0 / y and dy == -(x / y) / y


# -- outside the domain: an error naming the op and the argument -------------------------


@pytest.mark.parametrize(
    ("rule", "args", "error", "message"),
    [
        (rules.log, (0.0,), ValueError, r"log: needs a positive number, got 0\.0"),
        (rules.log, (-0.0,), ValueError, r"log: needs a positive number, got -0\.0"),
        (rules.log, (-inf,), ValueError, r"log: needs a positive number, got -inf"),
        (math_rules.sqrt, (-1.0,), ValueError, r"sqrt: needs a number >= 0, got -1\.0"),
        (math_rules.sqrt, (-5e-324,), ValueError, r"sqrt: needs a number >= 0, got -5e-324"),
        (math_rules.asin, (2.0,), ValueError, r"asin: needs a number in \[-1, 1\], got 2\.0"),
        (math_rules.asin, (-inf,), ValueError, r"asin: needs a number in \[-1, 1\], got -inf"),
        (math_rules.acos, (-1.5,), ValueError, r"acos: needs a number in \[-1, 1\], got -1\.5"),
        (math_rules.sin, (inf,), ValueError, r"sin: needs a finite number, got inf"),
        (math_rules.cos, (-inf,), ValueError, r"cos: needs a finite number, got -inf"),
        (math_rules.tan, (inf,), ValueError, r"tan: needs a finite number, got inf"),
        (math_rules.log1p, (-1.0,), ValueError, r"log1p: needs a number > -1, got -1\.0"),
        (math_rules.log1p, (-2.0,), ValueError, r"log1p: needs a number > -1, got -2\.0"),
        (math_rules.log2, (0.0,), ValueError, r"log2: needs a positive number, got 0\.0"),
        (math_rules.log10, (-3.0,), ValueError, r"log10: needs a positive number, got -3\.0"),
        (rules.div, (1.0, 0.0), ZeroDivisionError, r"/: division by zero \(1\.0 / 0\.0\)"),
        (rules.div, (nan, -0.0), ZeroDivisionError, r"/: division by zero \(nan / -0\.0\)"),
        (rules.mod, (3.0, 0.0), ZeroDivisionError, r"%: modulo by zero \(3\.0 % 0\.0\)"),
        (rules.mod, (nan, 0.0), ZeroDivisionError, r"%: modulo by zero \(nan % 0\.0\)"),
        (rules.pow, (0.0, -1.0), ZeroDivisionError, r"\*\*: zero to the negative power"),
        (rules.pow, (-0.0, -inf), ZeroDivisionError, r"\(-0\.0 \*\* -inf\)"),
        (rules.pow, (-2.0, 0.5), ValueError, r"\*\*: a negative base -2\.0 to the fractional"),
    ],
)
def test_outside_the_domain(
    rule: Rule, args: tuple[float, ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        rule(*args)


def test_a_negative_base_to_a_nan_or_infinite_power_is_no_error() -> None:
    assert math.isnan(rules.pow(-2.0, nan)[0])
    assert rules.pow(-2.0, -inf)[0] == 0.0
    assert rules.pow(-0.5, inf)[0] == 0.0


# -- through the engine: ** at a zero base (the reproductions) --------------------


def test_a_zero_base_to_a_fractional_power_through_values() -> None:
    x = Value(0.0)
    y = x**0.5
    y.backward()
    assert (y.data, x.grad) == (0.0, inf)

    x, p = Value(0.0), Value(0.5)
    y = x**p
    y.backward()
    assert (y.data, x.grad, p.grad) == (0.0, inf, 0.0)

    for e in (0.3, 0.999, 1.0, 2.5):
        p = Value(e)
        y = 0.0**p
        y.backward()
        assert (y.data, p.grad) == (0.0, 0.0)


# -- every rule gives floats: the built-ins are not checked when they run ------------------


@pytest.mark.parametrize("name", list(ALL))
def test_every_rule_returns_floats(name: str) -> None:
    points: list[Any] = [ORDINARY[name], *POINTS.get(name, [])]
    points += [edge[1] for edge in EDGES if edge[0] is ALL[name]]
    for args in points:
        value, local = ALL[name](*args)
        assert type(value) is float and type(local) is tuple, (name, args)
        assert all(type(d) is float for d in local), (name, args, local)


@pytest.mark.parametrize(
    ("y", "expected"), [(-0.5, 0.0), (-2.5, 0.0), (0.5, math.inf), (1.5, math.inf)]
)
def test_minus_infinity_to_a_fractional_power_is_ieees_as_pytorchs(
    y: float, expected: float
) -> None:
    # torch.pow(-inf, -0.5) is 0.0, torch.pow(-inf, 0.5) inf: no error where PyTorch has a number.
    assert rules.pow(-math.inf, y)[0] == expected
    assert (Value(-math.inf) ** y).data == expected
    with pytest.raises(ValueError, match=r"\*\*: a negative base -2.0 to the fractional power"):
        rules.pow(-2.0, y)
