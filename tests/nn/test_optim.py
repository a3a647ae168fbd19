"""SGD and Adam against updates computed by hand, with PyTorch's conventions."""

from __future__ import annotations

import math

import pytest

from nn import SGD, Adam, mazur
from nn.optim import Optimizer
from tinygrad_bp import Value

GRADS = [0.5, -0.2, 0.3]  # the gradients fed to three steps


def run(opt: Optimizer, p: Value, grads: list[float]) -> list[float]:
    """Feed ``grads`` one per step; the parameter's value after each."""
    seen = []
    for g in grads:
        p.grad = g
        opt.step()
        seen.append(p.data)
    return seen


def test_plain_sgd() -> None:
    p = Value(1.0)
    assert run(SGD([p], lr=0.1), p, GRADS) == pytest.approx([0.95, 0.97, 0.94], abs=1e-15)


def test_sgd_momentum_and_weight_decay_by_hand() -> None:
    # torch.optim.SGD: d = g + wd·p; b = d on step 1, then μ·b + d; p −= lr·b.
    lr, mu, wd = 0.1, 0.9, 0.01
    # step 1: d = 0.5 + 0.01·1 = 0.51;            b = 0.51;                    p = 0.949
    # step 2: d = −0.2 + 0.01·0.949 = −0.19051;   b = 0.459 − 0.19051 = 0.26849; p = 0.922151
    # step 3: d = 0.3 + 0.00922151 = 0.30922151;  b = 0.241641 + 0.30922151
    #                                               = 0.55086251;               p = 0.867064749
    p = Value(1.0)
    got = run(SGD([p], lr=lr, momentum=mu, weight_decay=wd), p, GRADS)
    assert got == pytest.approx([0.949, 0.922151, 0.867064749], abs=1e-14)


def test_sgd_momentum_without_weight_decay() -> None:
    # b: 0.5, 0.45 − 0.2 = 0.25, 0.225 + 0.3 = 0.525; p: 0.95, 0.925, 0.8725
    p = Value(1.0)
    got = run(SGD([p], lr=0.1, momentum=0.9), p, GRADS)
    assert got == pytest.approx([0.95, 0.925, 0.8725], abs=1e-14)


def test_adam_by_hand() -> None:
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p = Value(1.0)
    got = run(Adam([p], lr=lr, betas=(b1, b2), eps=eps), p, GRADS)
    # Written out, step by step: m, v, then the bias-corrected update.
    m1, v1 = 0.1 * 0.5, 0.001 * 0.25  # 0.05, 0.00025
    p1 = 1.0 - lr * (m1 / 0.1) / (math.sqrt(v1 / 0.001) + eps)  # = 1 − 0.1·0.5/(0.5 + eps)
    m2, v2 = 0.9 * m1 + 0.1 * -0.2, 0.999 * v1 + 0.001 * 0.04  # 0.025, 0.00028975
    p2 = p1 - lr * (m2 / (1 - 0.81)) / (math.sqrt(v2 / (1 - 0.998001)) + eps)
    m3, v3 = 0.9 * m2 + 0.1 * 0.3, 0.999 * v2 + 0.001 * 0.09  # 0.0525, 0.00037946025
    p3 = p2 - lr * (m3 / (1 - 0.729)) / (math.sqrt(v3 / (1 - 0.997002999)) + eps)
    assert got == pytest.approx([p1, p2, p3], abs=1e-12)
    # The figures themselves, to 9 decimals.
    assert [round(x, 9) for x in got] == [0.900000002, 0.865439418, 0.810995384]


def test_adam_weight_decay_is_added_to_the_gradient() -> None:
    # Step 1 with g = 0.5 + 0.1·2 = 0.7: m̂ = 0.7, v̂ = 0.49, so p = 2 − 0.01·0.7/(0.7 + 1e-8).
    p = Value(2.0)
    opt = Adam([p], lr=0.01, weight_decay=0.1)
    p.grad = 0.5
    opt.step()
    assert p.data == pytest.approx(2.0 - 0.01 * 0.7 / (0.7 + 1e-8), abs=1e-15)


def test_adams_first_step_has_the_size_of_the_learning_rate() -> None:
    ps = [Value(0.0), Value(0.0)]
    opt = Adam(ps, lr=0.05)
    ps[0].grad, ps[1].grad = 1e-3, -250.0
    opt.step()
    assert [p.data for p in ps] == pytest.approx([-0.05, 0.05], rel=1e-4)


def test_the_articles_setup_is_one_line() -> None:
    model = mazur.network()
    step = mazur.forward(model)
    opt = SGD(mazur.trained_parameters(model), lr=0.5)  # the weights; b1, b2 stay fixed
    opt.zero_grad()
    step.E_total.backward()
    opt.step()
    assert round(mazur.weight(model, "w5").data, 9) == 0.358916480
    assert round(mazur.weight(model, "w1").data, 9) == 0.149780716
    assert (mazur.weight(model, "b1").data, mazur.weight(model, "b2").data) == (0.35, 0.60)
    assert round(mazur.forward(model).E_total.data, 9) == 0.291027774


def test_zero_grad_clears_every_parameter() -> None:
    ps = [Value(1.0), Value(2.0)]
    opt = SGD(ps, lr=0.1)
    ps[0].grad, ps[1].grad = 3.0, -4.0
    opt.zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


def test_a_parameter_listed_twice_is_updated_once() -> None:
    shared = Value(1.0)
    opt = SGD([shared, shared], lr=0.5)
    shared.grad = 1.0
    opt.step()
    assert shared.data == 0.5 and len(opt.params) == 1


@pytest.mark.parametrize("make", [SGD, Adam])
@pytest.mark.parametrize("lr", [0.0, -0.1, math.nan, math.inf])
def test_a_non_positive_learning_rate_is_refused(make: type[Optimizer], lr: float) -> None:
    with pytest.raises(ValueError, match="the learning rate must be a positive number"):
        make([Value(1.0)], lr=lr)


def test_a_schedule_cannot_set_a_bad_learning_rate() -> None:
    opt = SGD([Value(1.0)], lr=0.1)
    with pytest.raises(
        ValueError, match=r"SGD: the learning rate must be a positive number, got 0"
    ):
        opt.lr = 0
    assert opt.lr == 0.1
    with pytest.raises(TypeError, match="lr must be a real number, got str"):
        opt.lr = "0.1"  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ps: SGD(ps, lr=0.1, momentum=1.0), r"momentum must be in \[0.0, 1.0\)"),
        (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), r"momentum must be in \[0.0, 1.0\)"),
        (lambda ps: SGD(ps, lr=0.1, weight_decay=-1), r"weight_decay must be in \[0.0, ∞\)"),
        (lambda ps: Adam(ps, betas=(0.9, 1.0)), r"beta2 must be in \[0.0, 1.0\)"),
        (lambda ps: Adam(ps, betas=(0.9,)), "betas must be a pair"),
        (lambda ps: Adam(ps, eps=0.0), "eps must be positive"),
        (lambda ps: SGD([], lr=0.1), "empty parameter list"),
    ],
)
def test_bad_hyperparameters_are_refused(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make([Value(1.0)])  # type: ignore[operator]


def test_parameters_must_be_values() -> None:
    with pytest.raises(TypeError, match="parameters must be Values, got float at index 1"):
        SGD([Value(1.0), 2.0], lr=0.1)  # type: ignore[list-item]


@pytest.mark.parametrize("make", [SGD, Adam])
def test_a_non_finite_gradient_changes_nothing(make: type[Optimizer]) -> None:
    ps = [Value(1.0, "w1"), Value(2.0, "w2"), Value(3.0, "w3")]
    opt = make(ps, lr=0.1)
    ps[0].grad, ps[1].grad, ps[2].grad = 0.5, 0.5, math.nan
    with pytest.raises(ValueError, match=r"the gradient of parameter 'w3' is nan.*No parameter"):
        opt.step()
    assert [p.data for p in ps] == [1.0, 2.0, 3.0]
