"""Every rule at the edges of its domain, against PyTorch float64 autograd.

Each rule runs at every edge point (±0, subnormals, ±1, huge, ±inf, NaN; every
pair of them for the rules of two arguments) and must either give PyTorch's
value and local derivatives there, or refuse where PyTorch's value is not a
finite number (log(0), sqrt(-1), exp(1000)) with an error that names the op
and the argument. The few places where a rule deliberately differs from
PyTorch are listed in DIFFERENCES and pinned by their own tests.

Skipped without PyTorch, unless TINYGRAD_BP_REQUIRE_TORCH=1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import pytest
from torch_or_skip import require_torch  # tests/support

torch = require_torch("the cross-check")  # or this file is skipped
from tinygrad_bp import math_rules, rules  # noqa: E402  (after the skip: nothing to import if skipped)

inf, nan = math.inf, math.nan
Rule = Callable[..., tuple[float, tuple[float, ...]]]
functional = torch.nn.functional


def _prelu(x: Any, slope: Any) -> Any:
    return torch.prelu(x.reshape(1), slope.reshape(1)).reshape(())


# Each rule, its op's name in messages, and the PyTorch function it follows.
RULES: dict[str, tuple[Rule, str, Callable[..., Any]]] = {
    "add": (rules.add, "+", torch.add),
    "sub": (rules.sub, "-", torch.sub),
    "mul": (rules.mul, "*", torch.mul),
    "div": (rules.div, "/", torch.div),
    "neg": (rules.neg, "neg", torch.neg),
    "pow": (rules.pow, "**", torch.pow),
    "mod": (rules.mod, "%", torch.remainder),
    "exp": (rules.exp, "exp", torch.exp),
    "log": (rules.log, "log", torch.log),
    "tanh": (rules.tanh, "tanh", torch.tanh),
    "sigmoid": (rules.sigmoid, "sigmoid", torch.sigmoid),
    "relu": (rules.relu, "relu", torch.relu),
    "leaky_relu": (rules.leaky_relu, "leaky_relu", _prelu),
    "softplus": (rules.softplus, "softplus", functional.softplus),
    "abs": (rules.abs, "abs", torch.abs),
    "maximum": (rules.maximum, "maximum", torch.maximum),
    "minimum": (rules.minimum, "minimum", torch.minimum),
    "sqrt": (math_rules.sqrt, "sqrt", torch.sqrt),
    "sin": (math_rules.sin, "sin", torch.sin),
    "cos": (math_rules.cos, "cos", torch.cos),
    "tan": (math_rules.tan, "tan", torch.tan),
    "asin": (math_rules.asin, "asin", torch.asin),
    "acos": (math_rules.acos, "acos", torch.acos),
    "atan": (math_rules.atan, "atan", torch.atan),
    "atan2": (math_rules.atan2, "atan2", torch.atan2),
    "sinh": (math_rules.sinh, "sinh", torch.sinh),
    "cosh": (math_rules.cosh, "cosh", torch.cosh),
    "log1p": (math_rules.log1p, "log1p", torch.log1p),
    "expm1": (math_rules.expm1, "expm1", torch.expm1),
    "log2": (math_rules.log2, "log2", torch.log2),
    "log10": (math_rules.log10, "log10", torch.log10),
    "exp2": (math_rules.exp2, "exp2", torch.exp2),
    "hypot": (math_rules.hypot, "hypot", torch.hypot),
}

EDGES_1 = [0.0, -0.0, 5e-324, -5e-324, 0.5, -0.5, 1.0, -1.0, 2.0, -2.5]
EDGES_1 += [709.0, 1000.0, -1000.0, 1e308, -1e308, inf, -inf, nan]
EDGES_2 = [0.0, -0.0, 5e-324, 1e-200, 0.5, -0.5, 1.0, -1.0, 2.0, -2.5, 3.0, 1e200, inf, -inf, nan]


def is_in_differences(name: str, args: tuple[float, ...]) -> bool:
    """Where a rule deliberately differs from PyTorch; each case has its own test below."""
    if name == "hypot":  # at the origin: 0, as vector_norm; torch.hypot gives 0/0 = NaN
        return args[0] == 0.0 and args[1] == 0.0
    if name == "atan2":  # x² + y² overflows or underflows in PyTorch's formula
        return any(a != 0.0 and not 1e-150 < abs(a) < 1e150 for a in args if math.isfinite(a))
    if name == "pow":  # -inf to a fractional power: PyTorch follows C's pow, here it is refused
        x, y = args
        return x == -inf and math.isfinite(y) and not y.is_integer()
    return False


def in_torch(f: Callable[..., Any], args: tuple[float, ...]) -> tuple[float, list[float]]:
    """PyTorch's value and local derivatives of ``f`` at ``args``, in float64."""
    xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out = f(*xs)
    out.backward()
    return out.item(), [0.0 if x.grad is None else x.grad.item() for x in xs]


def agree(a: float, b: float) -> bool:
    """Equal to within rounding (the libraries' last digits differ); NaN with NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    # the tiny floor: PyTorch's log1p flushes a subnormal argument to 0
    return a == b or abs(a - b) <= 1e-14 * max(abs(a), abs(b)) + 1e-300


def points(name: str) -> list[tuple[float, ...]]:
    rule = RULES[name][0]
    n = 2 if rule.__code__.co_argcount == 2 else 1
    return list(itertools.product(EDGES_2 if n == 2 else EDGES_1, repeat=n))


@pytest.mark.parametrize("name", list(RULES))
def test_every_rule_at_every_edge_agrees_with_pytorch_or_refuses(name: str) -> None:
    rule, op_name, f = RULES[name]
    wrong = []
    for args in points(name):
        if is_in_differences(name, args):
            continue
        t_value, t_local = in_torch(f, args)
        try:
            value, local = rule(*args)
        except (ArithmeticError, ValueError) as error:
            # refused only where PyTorch has no finite value either, and said where
            message = str(error)
            names_it = message.startswith(f"{op_name}: ") and any(repr(a) in message for a in args)
            if math.isfinite(t_value) or not names_it:
                wrong.append(f"{name}{args}: {type(error).__name__} {message}; torch {t_value!r}")
            continue
        if not agree(value, t_value) or not all(map(agree, local, t_local)):
            wrong.append(f"{name}{args}: {(value, local)} but torch {(t_value, t_local)}")
    assert wrong == []


# -- the conventions the docstrings state, one by one ------------------------------------

CONVENTIONS: list[tuple[str, str, tuple[float, ...]]] = [
    ("abs'(0) = 0", "abs", (0.0,)),
    ("abs'(-0.0) = 0", "abs", (-0.0,)),
    ("abs'(nan) = 0, abs(nan) = nan", "abs", (nan,)),
    ("relu'(0) = 0", "relu", (0.0,)),
    ("relu(nan) = nan, relu'(nan) = 1", "relu", (nan,)),
    ("leaky_relu'(0) = slope", "leaky_relu", (0.0, 0.01)),
    ("leaky_relu(nan): d/dx = slope", "leaky_relu", (nan, 0.2)),
    ("maximum at a tie: 0.5/0.5", "maximum", (1.5, 1.5)),
    ("minimum at a tie: 0.5/0.5", "minimum", (-2.0, -2.0)),
    ("maximum with nan: nan, 1/1", "maximum", (nan, 1.0)),
    ("sqrt'(0) = inf", "sqrt", (0.0,)),
    ("sqrt'(-0.0) = -inf", "sqrt", (-0.0,)),
    ("asin'(1) = inf", "asin", (1.0,)),
    ("acos'(-1) = -inf", "acos", (-1.0,)),
    ("atan2 at the origin: 0/0", "atan2", (0.0, 0.0)),
    ("atan2 across the cut: -π", "atan2", (-0.0, -1.0)),
    ("0 ** 0.5: d/dx = inf, d/dy = 0", "pow", (0.0, 0.5)),
    ("0 ** 0: d/dx = 0, d/dy = 0", "pow", (0.0, 0.0)),
    ("0 ** 1: d/dx = 1", "pow", (0.0, 1.0)),
    ("0 ** 2: d/dx = 0", "pow", (0.0, 2.0)),
    ("(-2) ** 3: d/dy = nan", "pow", (-2.0, 3.0)),
    ("nan ** 0 = 1", "pow", (nan, 0.0)),
    ("1 ** nan = 1", "pow", (1.0, nan)),
    ("7.5 % -2: the divisor's sign, d/dc = -(x // c)", "mod", (7.5, -2.0)),
    ("4 % 2 at a jump: d/dx = 1, d/dc = -2", "mod", (4.0, 2.0)),
    ("-2.5 % inf = inf", "mod", (-2.5, inf)),
    ("softplus(1000) = 1000", "softplus", (1000.0,)),
    ("softplus(-1000) = 0", "softplus", (-1000.0,)),
    ("sinh(710) is finite", "sinh", (710.0,)),
    ("expm1(-inf) = -1", "expm1", (-inf,)),
    ("hypot(nan, inf) = inf", "hypot", (nan, inf)),
    ("log(5e-324): log' = inf", "log", (5e-324,)),
    ("0 / 5e-324 = 0", "div", (0.0, 5e-324)),
]


@pytest.mark.parametrize(
    ("name", "args"), [c[1:] for c in CONVENTIONS], ids=[c[0] for c in CONVENTIONS]
)
def test_a_stated_convention_is_pytorchs(name: str, args: tuple[float, ...]) -> None:
    rule, _, f = RULES[name]
    value, local = rule(*args)
    t_value, t_local = in_torch(f, args)
    assert agree(value, t_value) and all(map(agree, local, t_local)), (
        value,
        local,
        t_value,
        t_local,
    )


@pytest.mark.parametrize(
    ("name", "args", "threshold"),
    [
        ("softplus", (30.0,), 100.0),
        ("softplus", (-30.0,), 100.0),
        ("softplus", (0.5,), 20.0),
    ],
)
def test_softplus_is_pytorchs_without_its_linear_shortcut(
    name: str, args: tuple[float, ...], threshold: float
) -> None:
    # Past x = 20 PyTorch returns x itself (2e-9 off); below its threshold it is exact.
    value, local = rules.softplus(*args)
    t_value, t_local = in_torch(lambda x: functional.softplus(x, threshold=threshold), args)
    assert agree(value, t_value) and all(map(agree, local, t_local))
    assert rules.softplus(30.0)[0] == 30.0 + math.exp(-30.0)
    assert in_torch(functional.softplus, (30.0,))[0] == 30.0  # the shortcut


# -- where a rule deliberately differs ---------------------------------------------------


def test_hypot_at_the_origin_is_vector_norms_convention() -> None:
    for x, y in itertools.product([0.0, -0.0], repeat=2):
        assert math_rules.hypot(x, y) == (0.0, (0.0, 0.0))
        v = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
        torch.linalg.vector_norm(v).backward()
        assert v.grad is not None and v.grad.tolist() == [0.0, 0.0]
        _, t_local = in_torch(torch.hypot, (x, y))
        assert all(math.isnan(d) for d in t_local)  # torch.hypot's own 0/0


def test_atan2_keeps_its_derivatives_where_pytorchs_squares_overflow() -> None:
    # d/dy = x/(x² + y²) = 1e200/2e400 = 5e-201, where PyTorch's x² + y² is inf: 0
    _, (dy, dx) = math_rules.atan2(1e200, 1e200)
    assert dy == pytest.approx(5e-201, rel=1e-15) and dx == pytest.approx(-5e-201, rel=1e-15)
    assert in_torch(torch.atan2, (1e200, 1e200))[1] == [0.0, -0.0]
    # and where they underflow: 1e-200/2e-400 = 5e199, where PyTorch's x² + y² is 0
    _, (dy, dx) = math_rules.atan2(1e-200, 1e-200)
    assert dy == pytest.approx(5e199, rel=1e-15) and dx == pytest.approx(-5e199, rel=1e-15)


def test_a_negative_infinite_base_to_a_fractional_power_is_ieees_as_in_torch() -> None:
    # 0.0 below 0, inf above: no error where PyTorch gives a number (docs/ops.md).
    for y in (0.5, -0.5, 2.5, -2.5):
        assert rules.pow(-inf, y)[0] == in_torch(torch.pow, (-inf, y))[0]
