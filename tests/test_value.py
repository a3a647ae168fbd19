"""The engine: every op against central finite differences and hand-derived values."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable

import pytest

from tinygrad_bp import Value, grad, gradcheck, total, weighted_sum
from tinygrad_bp.graph import topological_order


def central_difference(f: Callable[..., float], xs: list[float], i: int, h: float = 1e-6) -> float:
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def check_gradients(
    build: Callable[..., Value], xs: list[float], rel: float = 1e-6, abs_: float = 1e-7
) -> None:
    """backward() of build(*Values) agrees with central differences of build(*floats)."""
    values = [Value(x) for x in xs]
    out = build(*values)
    out.backward()

    def f(*floats: float) -> float:
        return build(*[Value(x) for x in floats]).data

    for i, v in enumerate(values):
        numeric = central_difference(f, xs, i)
        assert v.grad == pytest.approx(numeric, rel=rel, abs=abs_), (i, xs)


rng = random.Random(1234)
ANYWHERE = [rng.uniform(-3, 3) for _ in range(40)]
POSITIVE = [rng.uniform(0.05, 4) for _ in range(40)]
AWAY_FROM_ZERO = [x for x in ANYWHERE if abs(x) > 0.05]

UNARY = {
    "neg": (lambda a: -a, ANYWHERE),
    "exp": (lambda a: a.exp(), ANYWHERE),
    "log": (lambda a: a.log(), POSITIVE),
    "tanh": (lambda a: a.tanh(), ANYWHERE),
    "sigmoid": (lambda a: a.sigmoid(), ANYWHERE),
    "relu": (lambda a: a.relu(), AWAY_FROM_ZERO),  # not differentiable at 0
    "pow const": (lambda a: a**3, ANYWHERE),
    "pow fractional": (lambda a: a**1.5, POSITIVE),
    "pow negative": (lambda a: a**-2, AWAY_FROM_ZERO),
    "rpow": (lambda a: 2.0**a, ANYWHERE),
    "add const": (lambda a: a + 2.5, ANYWHERE),
    "radd": (lambda a: 2.5 + a, ANYWHERE),
    "sub const": (lambda a: a - 2.5, ANYWHERE),
    "rsub": (lambda a: 2.5 - a, ANYWHERE),
    "mul const": (lambda a: a * -1.5, ANYWHERE),
    "rmul": (lambda a: -1.5 * a, ANYWHERE),
    "div const": (lambda a: a / 3.0, ANYWHERE),
    "rdiv": (lambda a: 3.0 / a, AWAY_FROM_ZERO),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_match_finite_differences(name: str) -> None:
    build, points = UNARY[name]
    for x in points:
        check_gradients(build, [x])


BINARY = {
    "add": (lambda a, b: a + b, ANYWHERE, ANYWHERE),
    "sub": (lambda a, b: a - b, ANYWHERE, ANYWHERE),
    "mul": (lambda a, b: a * b, ANYWHERE, ANYWHERE),
    "div": (lambda a, b: a / b, ANYWHERE, AWAY_FROM_ZERO),
    "pow": (lambda a, b: a**b, POSITIVE, ANYWHERE),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_match_finite_differences(name: str) -> None:
    build, xs, ys = BINARY[name]
    for x, y in zip(xs, ys):
        check_gradients(build, [x, y])


def test_weighted_sum_and_total_match_finite_differences() -> None:
    for _ in range(20):
        xs = [rng.uniform(-2, 2) for _ in range(7)]
        check_gradients(
            lambda w1, w2, w3, x1, x2, x3, b: weighted_sum([w1, w2, w3], [x1, x2, x3], b), xs
        )
        check_gradients(lambda a, b, c, d, e, f, g: total([a, b, c, d, e, f, g]), xs)


def test_weighted_sum_is_one_node_with_an_edge_per_value() -> None:
    w1, w2, x1, b = Value(0.15, "w1"), Value(0.20, "w2"), Value(0.05, "i1"), Value(0.35, "b1")
    net = weighted_sum([w1, w2], [x1, 0.10], b)
    assert net.data == pytest.approx(0.3775, abs=1e-15)
    # the plain number 0.10 gets no edge
    assert net.parents == (w1, w2, x1, b)
    assert net.local_grads == (0.05, 0.10, 0.15, 1.0)
    with pytest.raises(
        ValueError, match="expected one weight per input, got 2 weights and 3 inputs"
    ):
        weighted_sum([w1, w2], [1.0, 2.0, 3.0])


def test_pow_value_to_value_and_number_to_value() -> None:
    x, y = Value(2.0), Value(3.0)
    z = x**y
    z.backward()
    assert z.data == 8.0
    assert x.grad == pytest.approx(12.0)  # y·x^(y−1)
    assert y.grad == pytest.approx(8.0 * math.log(2.0))  # x^y·ln x
    w = Value(3.0)
    t = 2**w
    t.backward()
    assert t.data == 8.0 and w.grad == pytest.approx(8.0 * math.log(2.0))


def test_mixed_expression_with_every_operator_by_hand() -> None:
    # f = (a·b + c/a − b**2)·(−c) + exp(a) − log(b) + tanh(c) + sigmoid(a) + relu(b)
    a, b, c = Value(2.0), Value(3.0), Value(0.5)
    f = (a * b + c / a - b**2) * (-c) + a.exp() - b.log() + c.tanh() + a.sigmoid() + b.relu()
    f.backward()
    s = 1 / (1 + math.exp(-2.0))
    inner = 2.0 * 3.0 + 0.5 / 2.0 - 9.0
    assert f.data == pytest.approx(
        inner * -0.5 + math.exp(2.0) - math.log(3.0) + math.tanh(0.5) + s + 3.0, rel=1e-15
    )
    # by hand: ∂/∂a = −c·(b − c/a²) + e^a + s(1−s)
    assert a.grad == pytest.approx(
        -0.5 * (3.0 - 0.5 / 4.0) + math.exp(2.0) + s * (1 - s), rel=1e-14
    )
    # ∂/∂b = −c·(a − 2b) − 1/b + 1
    assert b.grad == pytest.approx(-0.5 * (2.0 - 6.0) - 1 / 3.0 + 1.0, rel=1e-14)
    # ∂/∂c = (1/a)(−c) − inner + 1 − tanh²(c)
    assert c.grad == pytest.approx(-0.5 / 2.0 - inner + 1 - math.tanh(0.5) ** 2, rel=1e-14)


def test_shared_node_a_times_a_has_two_edges() -> None:
    a = Value(3.0, "a")
    y = a * a
    assert y.parents == (a, a)
    y.backward()
    assert a.grad == 6.0
    b = Value(3.0)
    z = b + b
    z.backward()
    assert z.parents == (b, b) and b.grad == 2.0


def test_diamond() -> None:
    # x feeds two branches that meet again: f = (2x)·(x+1)
    x = Value(1.5)
    left, right = x * 2.0, x + 1.0
    f = left * right
    f.backward()
    assert f.data == 7.5
    assert x.grad == pytest.approx(2 * (1.5 + 1) + 2 * 1.5)  # 4x + 2
    assert left.grad == 2.5 and right.grad == 3.0


def test_million_deep_chain_with_the_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 10_000
    x = Value(0.0, "x")
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert y.data == 1_000_000.0
    assert x.grad == 1.0


def test_backward_twice_doubles_leaves_and_recomputes_intermediates() -> None:
    a, b = Value(2.0), Value(-3.0)
    mid = a * b
    out = mid.tanh() + a
    out.backward()
    first = (a.grad, b.grad, mid.grad)
    out.backward()
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])
    assert mid.grad == first[2]  # intermediate: from zero again
    assert out.grad == 1.0


def test_leaf_as_root_accumulates_one() -> None:
    x = Value(4.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_grad_returns_without_touching_dot_grad() -> None:
    x, y = Value(2.0), Value(5.0)
    f = x * y + x
    assert grad(f, [x, y]) == [6.0, 2.0]
    assert x.grad == 0.0 and y.grad == 0.0 and f.grad == 0.0


def test_topological_order_puts_parents_first() -> None:
    a, b = Value(1.0, "a"), Value(2.0, "b")
    c = a * b
    d = c + a
    order = topological_order(d)
    assert order.index(a) < order.index(c) < order.index(d)
    assert order.index(b) < order.index(c)
    assert len(order) == 4
    assert topological_order(d, leaves=False) == [c, d]


# -- bad input ------------------------------------------------------------------


def test_value_of_a_string_is_a_type_error_naming_the_type() -> None:
    with pytest.raises(TypeError, match="got str 'abc'"):
        Value("abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a Value or a real number, got str"):
        Value(1.0) + "x"  # type: ignore[operator]


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_log_outside_its_domain(x: float) -> None:
    with pytest.raises(ValueError, match=rf"log: needs a positive number, got {x!r}"):
        Value(x).log()


def test_negative_base_to_fractional_power() -> None:
    with pytest.raises(ValueError, match=r"\*\*: a negative base -2.0 to the fractional power 0.5"):
        Value(-2.0) ** 0.5
    # a whole power of a negative base is fine
    y = Value(-2.0) ** 3
    y.backward()
    assert y.data == -8.0


def test_division_by_zero_names_the_op() -> None:
    with pytest.raises(ZeroDivisionError, match=r"/: division by zero"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match=r"/: division by zero"):
        1.0 / Value(0.0)
    with pytest.raises(ZeroDivisionError, match=r"\*\*: zero to the negative power"):
        Value(0.0) ** -1


def test_exp_overflow_names_the_op() -> None:
    with pytest.raises(OverflowError, match="exp"):
        Value(1000.0).exp()


@pytest.mark.parametrize(
    ("x", "value", "local"),
    [(1000.0, 1.0, 0.0), (-1000.0, 0.0, 0.0), (40.0, 1 / (1 + math.exp(-40.0)), None)],
)
def test_sigmoid_saturates_without_overflow(x: float, value: float, local: float | None) -> None:
    v = Value(x)
    y = v.sigmoid()
    y.backward()
    assert y.data == value
    s = y.data
    assert v.grad == (local if local is not None else s * (1 - s))
    assert math.isfinite(v.grad)


@pytest.mark.parametrize("x", [1000.0, -1000.0])
def test_tanh_saturates_without_overflow(x: float) -> None:
    v = Value(x)
    y = v.tanh()
    y.backward()
    assert y.data == math.copysign(1.0, x)
    assert v.grad == 0.0


def test_sigmoid_of_a_very_negative_number_keeps_its_tiny_value() -> None:
    y = Value(-700.0).sigmoid()
    assert y.data == pytest.approx(math.exp(-700.0), rel=1e-12)


# -- comparisons, identity, abs() and % ------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (Value(1.0), Value(2.0)),
        (Value(2.0), Value(2.0)),
        (Value(3.0), Value(-2.0)),
        (Value(1.0), 2.0),
        (Value(2.0), 2),
        (1.5, Value(2.0)),
        (3, Value(-2.0)),
    ],
)
def test_comparisons_compare_the_numbers_and_give_a_bool(a: object, b: object) -> None:
    x = a.data if isinstance(a, Value) else a
    y = b.data if isinstance(b, Value) else b
    got = [a < b, a <= b, a > b, a >= b]  # type: ignore[operator]
    assert got == [x < y, x <= y, x > y, x >= y]  # type: ignore[operator]
    assert all(type(g) is bool for g in got)  # a bool: no node, no derivative


def test_a_comparison_makes_no_node_and_touches_no_gradient() -> None:
    a, b = Value(1.0, "a"), Value(2.0, "b")
    y = a * b
    assert (y < a) is False and (y >= 2.0) is True and (a < b < 3.0) is True
    y.backward()
    assert topological_order(y) == [a, b, y]  # the comparisons added nothing
    assert (a.grad, b.grad) == (2.0, 1.0)


def test_comparisons_with_nan_are_false_and_with_a_non_number_a_type_error() -> None:
    n = Value(math.nan)
    assert not (n < 1.0 or n <= 1.0 or n > 1.0 or n >= 1.0 or n < n)
    with pytest.raises(TypeError, match=r"^comparison: expected a Value or a real number, got str"):
        assert Value(1.0) < "2"  # type: ignore[operator]


def test_max_min_and_sorted_pick_values_themselves() -> None:
    a, b, c = Value(1.0, "a"), Value(3.0, "b"), Value(-2.0, "c")
    assert max(a, b, c) is b and min(a, b, c) is c and sorted([a, b, c]) == [c, a, b]
    m = max(a, b) * 2.0  # the gradient reaches only the larger: maximum() is the op
    m.backward()
    assert (a.grad, b.grad) == (0.0, 2.0)


def test_equality_is_identity_so_values_are_dict_keys_and_set_members() -> None:
    a, b = Value(2.0, "a"), Value(2.0, "a")  # the same number and label
    assert a == a and a != b and not (a == b)
    assert a != 2.0 and not (a == 2.0)  # not a comparison of numbers: use .data
    assert hash(a) == object.__hash__(a) and hash(a) != hash(b)
    grads = {a: 1.0, b: 2.0}
    assert len(grads) == 2 and grads[a] == 1.0 and grads[b] == 2.0
    assert len({a, b, a}) == 2
    assert Value.__eq__ is object.__eq__ and Value.__hash__ is object.__hash__


@pytest.mark.parametrize("x", [-2.5, -0.3, 0.4, 3.0])
def test_abs_of_a_value_is_a_node_with_the_sign_as_local_derivative(x: float) -> None:
    v = Value(x, "v")
    y = abs(v)
    assert y.op == "abs" and y.parents == (v,)
    assert y.data == math.fabs(x) and y.local_grads == (math.copysign(1.0, x),)
    y.backward()
    assert v.grad == math.copysign(1.0, x)
    check_gradients(lambda a: abs(a) * a, [x])
    assert gradcheck(lambda a: abs(a), [x])
    assert abs(Value(0.0)).local_grads == (0.0,)  # abs'(0) = 0, as PyTorch's


@pytest.mark.parametrize("x", [7.5, -7.5, 0.3, 5.2, -0.7])
def test_a_value_modulo_a_number_and_a_number_modulo_a_value(x: float) -> None:
    v = Value(x, "v")
    y = v % 2.0  # d/dx = 1: the dividend's edge
    assert y.op == "%" and y.parents == (v,) and y.data == x % 2.0 and y.local_grads == (1.0,)
    y.backward()
    assert v.grad == 1.0
    assert gradcheck(lambda a: a % 2.0, [x])
    w = Value(x, "w")
    z = 2.0 % w  # d/dc = -(2 // c): the divisor's edge
    assert z.parents == (w,) and z.data == 2.0 % x and z.local_grads == (-(2.0 // x),)
    assert gradcheck(lambda c: 2.0 % c, [x])
    check_gradients(lambda a, c: a % c, [x, 1.7])


def test_modulo_by_zero_names_the_op() -> None:
    with pytest.raises(ZeroDivisionError, match=r"^%: modulo by zero \(1\.0 % 0\.0\)$"):
        Value(1.0) % 0
    with pytest.raises(ZeroDivisionError, match=r"^%: modulo by zero \(1\.0 % 0\.0\)$"):
        1.0 % Value(0.0)


def test_data_stays_a_float_when_it_is_set() -> None:
    # x.data = 3 then y.data = 10**9 made x ** y an exact integer power: a hang.
    x, y = Value(2.0, "x"), Value(3.0, "y")
    x.data, y.data = 3, 10**9  # type: ignore[assignment]
    assert type(x.data) is float and type(y.data) is float
    with pytest.raises(OverflowError, match=r"\*\*: 3.0 \*\* 1000000000.0 overflows a float"):
        x**y
    with pytest.raises(TypeError, match="^Value.data: expected a number, got str '3'$"):
        x.data = "3"  # type: ignore[assignment]
    assert x.data == 3.0  # unchanged
    with pytest.raises(ValueError, match="too large for a float"):
        x.data = 10**400  # type: ignore[assignment]
