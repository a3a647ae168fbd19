"""Gradients of gradients and forward mode, against closed forms and each other.

The figures: Baydin et al.'s survey example, σ''(1) and tanh's first four
derivatives in closed form, Newton's method on x⁴ − 2x², double backprop
(DeZero's step 36), HIPS autograd's second derivative of x**0 at 0.
"""

from __future__ import annotations

import math
import random

import pytest
from graphgen import VALUE_FUNCTIONS as GRAPH_FUNCTIONS
from graphgen import evaluate, random_graph

from tinygrad_bp import (
    Value,
    atan2,
    grad,
    gradcheck,
    hessian,
    hvp,
    hypot,
    jvp,
    maximum,
    minimum,
    op,
    trace,
)
from tinygrad_bp.expressions import FUNCTIONS
from tinygrad_bp.finite_differences import GradcheckError
from tinygrad_bp.forward_mode import tangents
from tinygrad_bp.higher_order import VALUE_FUNCTIONS
from tinygrad_bp.value import OPS


def baydin(x1: Value, x2: Value) -> Value:
    return x1.log() + x1 * x2 - x2.sin()


def test_baydins_example_by_both_modes() -> None:
    # f(x1, x2) = ln x1 + x1·x2 − sin x2 at (2, 5): 11.652, ∂f/∂x1 = 5.5, ∂f/∂x2 = 1.716.
    f1, d1 = jvp(baydin, [2.0, 5.0], [1.0, 0.0])  # one forward sweep per input...
    f2, d2 = jvp(baydin, [2.0, 5.0], [0.0, 1.0])
    x1, x2 = Value(2.0, "x1"), Value(5.0, "x2")
    reverse = grad(baydin(x1, x2), [x1, x2])  # ... one backward sweep for both
    assert round(f1, 3) == round(f2, 3) == 11.652
    assert (round(d1, 3), round(d2, 3)) == (5.5, 1.716)
    assert reverse == pytest.approx([d1, d2], rel=1e-15)
    assert d2 == pytest.approx(2.0 - math.cos(5.0), rel=1e-15)


def test_sigmoid_second_derivative_at_one() -> None:
    s = 1.0 / (1.0 + math.exp(-1.0))
    x = Value(1.0, "x")
    (first,) = grad(x.sigmoid(), [x], create_graph=True)
    assert first.data == pytest.approx(s * (1 - s), rel=1e-15)
    assert grad(first, [x]) == [pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-14)]


def tanh_derivatives(x: float) -> list[float]:
    t = math.tanh(x)
    d1 = 1 - t * t
    return [d1, -2 * t * d1, (6 * t * t - 2) * d1, (16 * t - 24 * t**3) * d1]


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.5, 2.0])
def test_tanh_and_its_first_four_derivatives_by_grad_of_grad(x: float) -> None:
    v = Value(x, "x")
    derivative, found = v.tanh(), []
    for _ in range(4):
        (derivative,) = grad(derivative, [v], create_graph=True)
        found.append(derivative.data)
    assert found == pytest.approx(tanh_derivatives(x), rel=1e-12, abs=1e-15)


def test_newtons_method_with_grad_of_grad_converges_within_seven_steps() -> None:
    x = 2.0  # f = x⁴ − 2x², minima at ±1: x ← x − f'(x)/f''(x)
    for _ in range(7):
        v = Value(x, "x")
        (slope,) = grad(v**4 - 2 * v**2, [v], create_graph=True)
        (curvature,) = grad(slope, [v])
        x -= slope.data / curvature
    assert abs(x - 1.0) < 1e-12


def test_double_backprop() -> None:
    # y = x², z = (dy/dx)³ + y: dz/dx = 3·(2x)²·2 + 2x = 100 at x = 2.
    x = Value(2.0, "x")
    y = x * x
    (dy,) = grad(y, [x], create_graph=True)
    z = dy**3 + y
    assert grad(z, [x]) == [100.0]


def test_the_second_derivative_of_x_to_the_zero_at_zero() -> None:
    x = Value(0.0, "x")  # HIPS autograd's test_power_arg0, its second half
    (first,) = grad(x**0, [x], create_graph=True)
    assert first.data == 0.0 and grad(first, [x]) == [0.0]


def test_relu_and_abs_have_second_derivative_zero() -> None:
    for make in (lambda v: v.relu() * v, lambda v: abs(v) * v):
        x = Value(0.7, "x")
        (first,) = grad(make(x), [x], create_graph=True)
        assert first.data == pytest.approx(1.4) and grad(first, [x]) == [2.0]
        (kink,) = grad(Value(0.7).relu(), [x], create_graph=True)
        assert kink.data == 0.0


def quadratic_form(a: Value, b: Value, c: Value) -> Value:
    return (a * b).sin() + a**3 * c + (b / c).exp()


PRIMALS = [0.5, 1.5, 2.0]


def test_hvp_is_forward_over_reverse_and_the_hessian_times_v() -> None:
    v = [1.0, -2.0, 0.5]
    by_hvp = hvp(quadratic_form, PRIMALS, v)
    h = hessian(quadratic_form, PRIMALS)
    by_hessian = [sum(h[i][j] * v[j] for j in range(3)) for i in range(3)]

    def partial(i: int):  # type: ignore[no-untyped-def]
        return lambda *xs: grad(quadratic_form(*xs), list(xs), create_graph=True)[i]

    forward_over_reverse = [jvp(partial(i), PRIMALS, v)[1] for i in range(3)]
    assert by_hvp == pytest.approx(by_hessian, rel=1e-13)
    assert forward_over_reverse == pytest.approx(by_hvp, rel=1e-13)
    assert all(h[i][j] == pytest.approx(h[j][i], rel=1e-13) for i in range(3) for j in range(3))


@pytest.mark.parametrize("seed", range(40))
def test_jvp_is_grad_dot_v_on_random_graphs(seed: int) -> None:
    rng = random.Random(seed)
    graph = random_graph(rng)
    leaves = [Value(x, f"x{i}") for i, x in enumerate(graph.inputs)]
    root = evaluate(graph, leaves, GRAPH_FUNCTIONS)[-1]
    v = [rng.uniform(-1, 1) for _ in leaves]
    swept = tangents(root, dict(zip(leaves, v)))[root]
    by_grad = sum(g * c for g, c in zip(grad(root, leaves), v))
    assert swept == pytest.approx(by_grad, rel=1e-9, abs=1e-12)


def test_an_op_with_a_rule_on_floats_only_is_refused_for_create_graph() -> None:
    @op
    def cube(x: float) -> tuple[float, tuple[float]]:
        return x**3, (3 * x * x,)

    x = Value(2.0, "x")
    assert grad(cube(x), [x]) == [12.0]  # first order: as always
    with pytest.raises(TypeError, match=r"^create_graph: op 'cube' gives its local derivatives"):
        grad(cube(x), [x], create_graph=True)


@pytest.mark.parametrize("name", sorted(n for n in OPS if n not in ("Σ", "Σwx+b")))
def test_every_built_in_op_passes_gradcheck_of_order_two(name: str) -> None:
    o = OPS[name]
    points = {"log": 1.3, "sqrt": 1.3, "log1p": 0.4, "log2": 1.3, "log10": 1.3, "asin": 0.3}
    x = points.get(name, 0.3)
    if o.least == 1 and o.most == 1:
        assert gradcheck(lambda v: o(v) * v, [x], order=2, atol=1e-4)
    else:  # two arguments (leaky_relu's slope among them)
        assert gradcheck(lambda a, b: o(a, b) * a, [x + 0.9, 0.7], order=2, atol=1e-4)


def test_gradcheck_of_order_two_catches_a_wrong_second_derivative() -> None:
    from tinygrad_bp.extend import Template

    @op(template=Template("{0} ** 3", ("3.0 * {0}",)))  # 3x where 3x² is right
    def cube(x: float) -> tuple[float, tuple[float]]:
        return x**3, (3 * x * x,)

    assert gradcheck(cube, [1.5])  # the first derivative is right
    with pytest.raises(GradcheckError, match="disagree"):
        gradcheck(cube, [1.5], order=2)


def test_a_gradient_graph_is_traced_as_any_graph() -> None:
    x = Value(0.8, "x")
    (slope,) = grad((x * x).sin(), [x], create_graph=True)  # 2x·cos(x²)
    traced = trace(slope)
    assert traced() == slope.data == pytest.approx(2 * 0.8 * math.cos(0.64), rel=1e-15)
    assert x.grad == grad(slope, [x])[0]


def test_the_value_functions_are_the_templates_functions() -> None:
    assert VALUE_FUNCTIONS.keys() == FUNCTIONS.keys()


def test_gradcheck_of_order_three_checks_the_third_derivatives() -> None:
    assert gradcheck(lambda v: v.tanh() * v, [0.7], order=3, atol=1e-4)
    assert gradcheck(lambda a, b: (a * b).sin() + a**3, [0.4, 1.1], order=3, atol=1e-4)


@pytest.mark.parametrize(
    ("f", "point"),
    [
        (lambda x, y: maximum(x, y), [1.0, 1.0]),  # a tie: 0.5 and 0.5
        (lambda x, y: minimum(x, y), [-2.0, -2.0]),
        (lambda x: x.sqrt(), [0.0]),  # inf
        (lambda x: x.asin(), [1.0]),
        (lambda x: x.acos(), [-1.0]),
        (lambda x, y: hypot(x, y), [0.0, 0.0]),  # 0 and 0
        (lambda x, y: atan2(x, y), [0.0, 0.0]),
        (lambda x, y: x**y, [0.0, 2.0]),  # d/dy: 0 at x = 0, y >= 0
        (lambda x, y: x**y, [0.0, 0.0]),
        (lambda x, y: x**y, [0.5, 0.0]),  # y = 0: y·x^(y-1) = 0
    ],
)
def test_at_the_edges_the_gradient_built_as_a_graph_is_backwards(f, point) -> None:  # type: ignore[no-untyped-def]
    # The templates' tests run on Values here, where == is identity: each edge must
    # still take the branch backward() takes (a tie was 1 and 1, sqrt'(0) raised).
    xs = [Value(p) for p in point]
    y = f(*xs)
    assert [g.data for g in grad(y, xs, create_graph=True)] == grad(y, xs)


def test_the_mixed_partial_of_x_to_the_y_at_y_zero() -> None:
    # ∂²(x^y)/∂x∂y = x^(y-1)·(1 + y·ln x) = 1/x at y = 0, from either side.
    h = hessian(lambda x, y: x**y, [0.5, 0.0])
    assert h == [[0.0, pytest.approx(2.0)], [pytest.approx(2.0), pytest.approx(math.log(0.5) ** 2)]]


def test_a_template_that_tests_with_equality_is_refused_for_create_graph() -> None:
    from tinygrad_bp.extend import Template

    @op(template=Template("{0} * {0}", ("0.0 if {0} == 0.0 else 2.0 * {0}",)))
    def square(x: float) -> tuple[float, tuple[float]]:
        return x * x, (2 * x,)

    x = Value(0.0, "x")
    assert grad(square(x), [x]) == [0.0]  # first order: the rule, as always
    with pytest.raises(ValueError, match="compares with == or !=, which on Values is identity"):
        grad(square(x), [x], create_graph=True)
