"""Each loss against hand-derived values, central finite differences and extreme logits."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest

from nn import (
    MLP,
    binary_cross_entropy_with_logits,
    half_squared_error,
    hinge,
    l2,
    mse,
    softmax_cross_entropy,
)
from tinygrad_bp import Value
from tinygrad_bp.graph import topological_order


def values(*xs: float) -> list[Value]:
    return [Value(x, f"v{i}") for i, x in enumerate(xs)]


def check_against_finite_differences(
    loss: Callable[[], Value], leaves: Sequence[Value], h: float = 1e-6
) -> None:
    """backward()'s gradient of every leaf against (f(x+h) − f(x−h)) / 2h."""
    for leaf in leaves:
        leaf.grad = 0.0
    loss().backward()
    for leaf in leaves:
        leaf.data += h
        up = loss().data
        leaf.data -= 2 * h
        down = loss().data
        leaf.data += h
        numeric = (up - down) / (2 * h)
        assert leaf.grad == pytest.approx(numeric, rel=1e-6, abs=1e-8), leaf.label


# -- the article's error and MSE ------------------------------------------------------
def test_half_squared_error_is_the_articles_error() -> None:
    out_o1, out_o2 = values(0.75136507, 0.772928465)
    E = half_squared_error([out_o1, out_o2], [0.01, 0.99])
    assert E.data == pytest.approx(0.298371109, abs=1e-9)
    E.backward()
    assert out_o1.grad == pytest.approx(0.74136507, abs=1e-12)  # −(target − out)


def test_mse_hand_values_and_gradients() -> None:
    o1, o2 = values(3.0, 1.0)
    t2 = Value(2.0, "t2")
    loss = mse([o1, o2], [1.0, t2])
    assert loss.data == (2.0**2 + 1.0**2) / 2  # 2.5
    loss.backward()
    assert (o1.grad, o2.grad, t2.grad) == (2.0, -1.0, 1.0)  # 2(o − t)/n and its negative


def test_mse_against_finite_differences() -> None:
    outs, targets = values(0.3, -1.2, 2.5), values(0.0, 0.7, 2.0)
    check_against_finite_differences(lambda: mse(outs, targets), outs + targets)


# -- hinge --------------------------------------------------------------------------
def test_hinge_hand_values() -> None:
    # y·s = 0.25 (inside the margin: 0.75), −0.5 (wrong side: 1.5), 3 (past it: 0).
    s1, s2, s3 = values(0.25, 0.5, 3.0)
    loss = hinge([s1, s2, s3], [1, -1, 1])
    assert loss.data == pytest.approx((0.75 + 1.5 + 0.0) / 3, abs=1e-15)
    loss.backward()
    assert (s1.grad, s2.grad, s3.grad) == pytest.approx((-1 / 3, 1 / 3, 0.0), abs=1e-15)


def test_hinge_is_micrograds_relu_form() -> None:
    ss = values(0.9, -0.2, 1.7, -3.0, 0.0)
    ys = [1, 1, -1, -1, 1]
    micrograd = sum((1 + -y * s).relu() for s, y in zip(ss, ys)) * (1.0 / len(ss))
    assert isinstance(micrograd, Value)
    assert hinge(ss, ys).data == pytest.approx(micrograd.data, abs=1e-15)


def test_hinge_against_finite_differences() -> None:
    ss = values(0.3, -0.4, 0.95, -2.0)  # away from the kink at y·s = 1
    check_against_finite_differences(lambda: hinge(ss, [1, 1, -1, -1]), ss)


def test_hinge_refuses_zero_one_labels() -> None:
    with pytest.raises(ValueError, match=r"labels must be -1 or \+1, got 0.0 at index 1"):
        hinge(values(0.1, 0.2), [1, 0])


def test_hinge_of_a_batch_is_a_few_nodes() -> None:
    # One node per term, one Σ, one division: cheap to backpropagate through.
    ss = values(*[0.1 * k for k in range(100)])
    loss = hinge(ss, [1] * 100)
    assert len(topological_order(loss, leaves=False)) == 100 + 2


# -- binary cross-entropy from logits ----------------------------------------------------
def naive_bce(z: float, t: float) -> float:
    p = 1 / (1 + math.exp(-z))
    return -(t * math.log(p) + (1 - t) * math.log(1 - p))


def test_bce_hand_values() -> None:
    z = Value(0.0)
    loss = binary_cross_entropy_with_logits([z], [1.0])
    assert loss.data == pytest.approx(math.log(2), abs=1e-15)
    loss.backward()
    assert z.grad == -0.5  # σ(0) − 1

    z1, z2 = values(2.0, -1.0)
    loss = binary_cross_entropy_with_logits([z1, z2], [0.0, 0.25])
    expected = (math.log(1 + math.exp(2.0)) + naive_bce(-1.0, 0.25)) / 2
    assert loss.data == pytest.approx(expected, rel=1e-14)
    loss.backward()
    sigma = 1 / (1 + math.exp(-2.0))
    assert z1.grad == pytest.approx(sigma / 2, rel=1e-14)  # (σ(z) − t) / n
    assert z2.grad == pytest.approx((1 / (1 + math.e) - 0.25) / 2, rel=1e-14)


@pytest.mark.parametrize("z", [-7.0, -0.3, 0.0, 0.8, 12.0])
@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_bce_matches_the_naive_formula_where_that_is_safe(z: float, t: float) -> None:
    loss = binary_cross_entropy_with_logits([z], [t])
    assert loss.data == pytest.approx(naive_bce(z, t), rel=1e-9, abs=1e-12)


def test_bce_against_finite_differences() -> None:
    zs, ts = values(-1.5, 0.2, 3.0), values(0.1, 0.9, 0.5)
    check_against_finite_differences(lambda: binary_cross_entropy_with_logits(zs, ts), zs + ts)


@pytest.mark.parametrize(
    ("z", "t", "loss", "grad"),
    [
        (1000.0, 0.0, 1000.0, 1.0),  # confidently wrong: costs the logit
        (-1000.0, 1.0, 1000.0, -1.0),
        (1000.0, 1.0, 0.0, 0.0),  # confidently right: free
        (-1000.0, 0.0, 0.0, 0.0),
    ],
)
def test_bce_does_not_overflow(z: float, t: float, loss: float, grad: float) -> None:
    logit = Value(z)
    out = binary_cross_entropy_with_logits([logit], [t])
    out.backward()
    assert out.data == loss and logit.grad == grad


def test_bce_refuses_targets_outside_zero_one() -> None:
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\], got -1.0 at index 0"):
        binary_cross_entropy_with_logits([0.5], [-1])


# -- softmax cross-entropy ----------------------------------------------------------------
def test_softmax_cross_entropy_hand_values() -> None:
    z = values(1.0, 2.0, 3.0)
    loss = softmax_cross_entropy([z], [0])
    denom = math.e + math.e**2 + math.e**3
    assert loss.data == pytest.approx(math.log(denom) - 1.0, rel=1e-14)  # 2.4076...
    loss.backward()
    softmax = [math.e / denom, math.e**2 / denom, math.e**3 / denom]
    assert [v.grad for v in z] == pytest.approx([softmax[0] - 1, softmax[1], softmax[2]])


def test_softmax_cross_entropy_is_the_mean_over_samples() -> None:
    a, b = values(0.0, 0.0), values(0.0, math.log(3.0))
    loss = softmax_cross_entropy([a, b], [1, 1])
    assert loss.data == pytest.approx((math.log(2) + math.log(4 / 3)) / 2, rel=1e-14)
    loss.backward()
    assert [v.grad for v in a + b] == pytest.approx([0.25, -0.25, 0.125, -0.125])


def test_softmax_cross_entropy_against_finite_differences() -> None:
    rows = [values(0.5, -1.0, 2.0), values(-0.3, 0.1, 0.0)]
    check_against_finite_differences(lambda: softmax_cross_entropy(rows, [2, 0]), rows[0] + rows[1])


def test_softmax_cross_entropy_does_not_overflow() -> None:
    z = values(1000.0, -1000.0)
    loss = softmax_cross_entropy([z], [1])
    loss.backward()
    assert loss.data == 2000.0
    assert [v.grad for v in z] == [1.0, -1.0]

    z = values(1000.0, 999.0)
    loss = softmax_cross_entropy([z], [0])
    assert loss.data == pytest.approx(math.log1p(math.exp(-1.0)), rel=1e-12)
    assert softmax_cross_entropy([values(1000.0, 0.0)], [0]).data == 0.0


@pytest.mark.parametrize(
    ("logits", "targets", "message"),
    [
        ([[0.0, 1.0]], [2], r"targets\[0\] must be a class index in 0..1, got 2"),
        ([[0.0, 1.0]], [-1], r"targets\[0\] must be a class index in 0..1, got -1"),
        ([[0.0, 1.0]], [True], r"targets\[0\] must be a class index"),
        ([[0.0, 1.0]], [0.0], r"targets\[0\] must be a class index"),
        ([[]], [0], r"logits\[0\] must be a non-empty list"),
        ([[0.0], [1.0]], [0], r"expected one target per output, got 2 outputs and 1 targets"),
        ([], [], r"expected at least one output"),
    ],
)
def test_softmax_cross_entropy_refuses_bad_input(
    logits: list[list[float]], targets: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        softmax_cross_entropy(logits, targets)


# -- L2 and shared checks ----------------------------------------------------------------
def test_l2_is_the_sum_of_squares_as_one_node() -> None:
    model = MLP(2, [3, 1], seed=2)
    params = model.parameters()
    reg = l2(params)
    assert reg.data == pytest.approx(sum(p.data**2 for p in params), rel=1e-14)
    assert len(reg.parents) == len(params)
    check_against_finite_differences(lambda: l2(params), params)


@pytest.mark.parametrize("loss", [mse, hinge, binary_cross_entropy_with_logits])
def test_losses_refuse_mismatched_lengths(loss: Callable[..., Value]) -> None:
    with pytest.raises(ValueError, match="expected one target per output, got 2 outputs and 1"):
        loss([0.5, 0.5], [1])
