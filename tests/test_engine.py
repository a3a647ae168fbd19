"""The engine: every op against central finite differences and hand-derived values."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable

import pytest

from tinygrad_bp import Value, grad, topological_order, total, weighted_sum


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
