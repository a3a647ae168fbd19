"""The softmax cross-entropy op's template is its rule, to the bit, and traces as the engine runs.

As tests/tracing/test_tracer.py holds the built-in ops' templates to their
rules: the template's expressions are evaluated with the names the
generated code has, every argument a variable or (as a trace writes a
number) a literal, and compared float for float with the rule.
"""

from __future__ import annotations

import math
import random

import pytest
from template_check import run_rule, run_template, same_result

from nn import MLP
from nn.losses import (
    _softmax_cross_entropy_template,
    softmax_ce,
    softmax_cross_entropy,
    softmax_cross_entropy_term,
)
from nn.train import SoftmaxLoss
from tinygrad_bp import Value
from tinygrad_bp.tracing.tracer import trace

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, 700.0, 710.0, -745.0, 1e300, -1e300]
EDGES += [math.inf, -math.inf, math.nan, 3.0, -0.75, 1000.0, -1000.0]


def points(K: int) -> list[list[float]]:
    rng = random.Random(K)
    out = []
    for _ in range(300):  # edges at random, the class a good one or (sometimes) not
        k = rng.choice([*range(K), *range(K), -1, K, 0.5, math.nan])
        out.append([*(rng.choice(EDGES) for _ in range(K)), float(k)])
    for _ in range(300):  # ordinary logits, and logits of any size
        zs = [rng.uniform(-5, 5) for _ in range(K)]
        out.append([*zs, float(rng.randrange(K))])
        zs = [rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 300) for _ in range(K)]
        out.append([*zs, float(rng.randrange(K))])
    out += [[x] * K + [0.0] for x in EDGES]  # ties: max() keeps the first
    return out


@pytest.mark.parametrize("K", [1, 2, 3, 10])
def test_the_template_is_the_rule_to_the_bit(K: int) -> None:
    for xs in points(K):
        expected = run_rule(softmax_ce, xs)
        for constants in [(), *[(k,) for k in range(K + 1)]]:
            template = _softmax_cross_entropy_template(len(xs) - 1)
            got = run_template(template, xs, constants, out="sce")
            assert same_result(expected, got), (xs, constants, expected, got)


def test_the_rule_raises_for_a_class_out_of_range() -> None:
    assert run_rule(softmax_ce, [1.0, 2.0, 2.0]) == "raises"
    assert run_rule(softmax_ce, [1.0, 2.0, 0.5]) == "raises"
    with pytest.raises(ValueError, match=r"the class must be one of 0\.\.1, got 2\.0"):
        softmax_ce(1.0, 2.0, 2.0)


def test_the_ops_are_made_once_per_number_of_classes() -> None:
    a = softmax_cross_entropy_term([Value(1.0), Value(2.0)], 1)
    b = softmax_cross_entropy_term([Value(3.0), Value(4.0)], 0)
    c = softmax_cross_entropy_term([Value(1.0), Value(2.0), Value(3.0)], 0)
    assert a.creator is b.creator and a.creator is not c.creator
    assert a.op == c.op == "softmax-CE"


def test_hand_values_at_two_classes() -> None:
    # z = (2, 0), k = 0: log(1 + e⁻²), ∂/∂z₀ = σ(2) − 1, ∂/∂z₁ = 1 − σ(2)
    a, b = Value(2.0), Value(0.0)
    term = softmax_cross_entropy_term([a, b], 0)
    assert term.data == pytest.approx(math.log1p(math.exp(-2.0)), rel=1e-15)
    term.backward()
    sigma = 1.0 / (1.0 + math.exp(-2.0))
    assert a.grad == pytest.approx(sigma - 1.0, rel=1e-14)
    assert b.grad == pytest.approx(1.0 - sigma, rel=1e-14)


def test_a_traced_mlp_gives_backwards_numbers_to_the_bit() -> None:
    rng = random.Random(3)
    model = MLP(6, [5, 4], seed=1)
    X = [[rng.uniform(-1, 1) for _ in range(6)] for _ in range(12)]
    y = [rng.randrange(4) for _ in range(12)]
    loss_fn = SoftmaxLoss(alpha=1e-4)
    traced = trace(
        lambda x, label: loss_fn.term(model, x, label),
        X[0],
        y[0],
        penalty=loss_fn.penalty(model),
    )
    assert "_softmax_ce1_s := " in traced.source  # inline: the rule is not called
    assert "softmax_ce (op" not in traced.source
    params = model.parameters()
    for _ in range(5):
        for p in params:
            p.grad = 0.0
        value = traced(list(zip(X, y)), mean=True)
        grads = [p.grad for p in params]
        for p in params:
            p.grad = 0.0
        loss, _ = loss_fn(model, X, y)
        loss.backward()
        assert value == loss.data
        assert grads == [p.grad for p in params]
        for p in params:  # move the parameters, as a step of training would
            p.data -= 0.5 * p.grad
            p.grad = 0.0
    # The scores come back per example, the predicted class by argmax.
    assert len(traced.outputs) == 12 and all(len(o) == 4 for o in traced.outputs)


def test_the_mean_loss_is_the_mean_of_the_terms() -> None:
    rows = [[Value(0.5), Value(-1.0), Value(2.0)], [Value(0.0), Value(0.0), Value(0.0)]]
    loss = softmax_cross_entropy(rows, [2, 1])
    first = math.log(math.exp(0.5) + math.exp(-1.0) + math.exp(2.0)) - 2.0
    assert loss.data == pytest.approx((first + math.log(3.0)) / 2, rel=1e-15)
