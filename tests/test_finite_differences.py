"""gradcheck: passes right rules, names what is wrong in wrong ones, changes nothing."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from tinygrad_bp import Value, gradcheck, no_grad, op, total, weighted_sum
from tinygrad_bp.finite_differences import GradcheckError


@op
def softplus(x: float) -> tuple[float, tuple[float]]:
    return math.log1p(math.exp(x)), (1 / (1 + math.exp(-x)),)


@op(name="tanh")
def tanh_wrt_input(x: float) -> tuple[float, tuple[float]]:
    # A classic slip: 1 − x² instead of 1 − tanh(x)², the derivative written
    # in terms of the input where it should be the output.
    return math.tanh(x), (1.0 - x * x,)


@op
def slightly_off(x: float) -> tuple[float, tuple[float]]:
    return x * x, (2.0 * x * (1.0 + 1e-4),)  # 0.01 % too large


@op
def nan_derivative(x: float) -> tuple[float, tuple[float]]:
    return 3.0 * x, (math.nan,)


CORRECT: dict[str, tuple[Callable[..., Value], list[float]]] = {
    "add": (lambda a, b: a + b, [0.3, -1.2]),
    "sub": (lambda a, b: 2.0 - a - b, [0.3, -1.2]),
    "mul": (lambda a, b: a * b * 1.5, [0.3, -1.2]),
    "div": (lambda a, b: a / b + 1.0 / a, [0.3, -1.2]),
    "pow": (lambda a, b: a**b + a**3 + 2.0**b + a**-1.5, [0.7, -1.2]),
    "neg": (lambda a: -a, [0.3]),
    "exp": (lambda a: a.exp(), [0.3]),
    "log": (lambda a: a.log(), [0.3]),
    "tanh": (lambda a: a.tanh(), [0.3]),
    "sigmoid": (lambda a: a.sigmoid(), [-0.3]),
    "relu": (lambda a: a.relu(), [0.3]),
    "weighted_sum": (lambda a, b, c: weighted_sum([a, b], [b, 0.5], c), [0.3, -1.2, 0.8]),
    "total": (lambda a, b: total([a, b, a * b]), [0.3, -1.2]),
    "softplus": (lambda a: softplus(a), [-2.0]),
}


@pytest.mark.parametrize("name", list(CORRECT))
def test_right_rules_pass(name: str) -> None:
    f, xs = CORRECT[name]
    assert gradcheck(f, xs) is True
    assert gradcheck(f, [Value(x) for x in xs], eps=1e-5, atol=1e-7, rtol=1e-7) is True


def test_a_wrong_rule_is_named_with_its_input_analytic_and_numeric_values() -> None:
    x = Value(0.8, "x")
    with pytest.raises(GradcheckError) as caught:
        gradcheck(tanh_wrt_input, [x])
    error = caught.value
    assert isinstance(error, AssertionError)
    (m,) = error.mismatches
    assert (m.index, m.label) == (0, "x")
    assert m.analytic == pytest.approx(1 - 0.8**2, rel=1e-15)  # what backward() gives
    assert m.numeric == pytest.approx(1 - math.tanh(0.8) ** 2, rel=1e-8)  # the truth
    message = str(error)
    assert "1 of 1 inputs disagree" in message
    assert f"input 0 ('x'): analytic {m.analytic!r}, numeric {m.numeric!r}" in message


def test_only_the_inputs_that_disagree_are_named() -> None:
    a, b, c = Value(0.5, "a"), Value(1.5, "b"), Value(-0.4, "c")
    with pytest.raises(GradcheckError, match="1 of 3 inputs disagree") as caught:
        gradcheck(lambda p, q, r: p * q + tanh_wrt_input(r), [a, b, c])
    assert [m.index for m in caught.value.mismatches] == [2]
    assert "input 2 ('c')" in str(caught.value) and "input 0" not in str(caught.value)


def test_the_numeric_value_is_the_central_difference() -> None:
    eps = 1e-3
    with pytest.raises(GradcheckError) as caught:
        gradcheck(tanh_wrt_input, [0.8], eps=eps)
    expected = (math.tanh(0.8 + eps) - math.tanh(0.8 - eps)) / (2 * eps)
    assert caught.value.mismatches[0].numeric == pytest.approx(expected, rel=1e-12)
    assert caught.value.mismatches[0].label == ""
    assert "input 0: analytic" in str(caught.value)  # no label, no quotes


def test_tolerances_decide_a_small_error() -> None:
    assert gradcheck(slightly_off, [1.3])  # 1e-4 relative is inside the default rtol 1e-3
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(slightly_off, [1.3], rtol=1e-6, atol=0.0)
    assert gradcheck(slightly_off, [1.3], rtol=0.0, atol=1e-3)  # off by 2.6e-4 absolute


def test_a_nan_derivative_never_passes() -> None:
    with pytest.raises(GradcheckError, match=r"analytic nan, numeric 2\.99999"):
        gradcheck(nan_derivative, [1.0], atol=1e9, rtol=1e9)


def test_relu_at_its_kink_is_not_differentiable_and_gradcheck_says_so() -> None:
    # backward takes 0 there; the two-sided slope is ½
    with pytest.raises(GradcheckError, match=r"analytic 0\.0, numeric 0\.5"):
        gradcheck(lambda a: a.relu(), [0.0])


def test_inputs_keep_their_data_and_grad_pass_or_fail() -> None:
    x, y = Value(0.8, "x"), Value(-0.3, "y")
    x.grad, y.grad = 5.0, -1.0
    assert gradcheck(lambda a, b: (a * b).exp(), [x, y])
    assert (x.data, y.data, x.grad, y.grad) == (0.8, -0.3, 5.0, -1.0)
    with pytest.raises(GradcheckError):
        gradcheck(lambda a, b: tanh_wrt_input(a) * b, [x, y])
    assert (x.data, y.data, x.grad, y.grad) == (0.8, -0.3, 5.0, -1.0)


def test_a_label_cannot_write_control_characters_to_the_terminal() -> None:
    x = Value(0.8, "x\x1b[2J\n")
    with pytest.raises(GradcheckError) as caught:
        gradcheck(tanh_wrt_input, [x])
    assert "\x1b" not in str(caught.value) and "'x\\x1b[2J\\n'" in str(caught.value)


# -- bad arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eps": 0.0}, "eps must be greater than 0, got 0.0"),
        ({"eps": -1e-6}, "eps must be greater than 0"),
        ({"eps": math.nan}, "eps must be a finite number, got nan"),
        ({"atol": -1.0}, "atol must be 0 or more, got -1.0"),
        ({"rtol": math.inf}, "rtol must be a finite number, got inf"),
        ({"rtol": "0.1"}, "rtol must be a finite number, got '0.1'"),
    ],
)
def test_bad_tolerances(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gradcheck(softplus, [0.0], **kwargs)  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="inputs is empty"):
        gradcheck(lambda: Value(1.0), [])
    with pytest.raises(TypeError, match="input 1 must be a Value or a real number, got str '2'"):
        gradcheck(lambda a, b: a * b, [1.0, "2"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="inputs must be a list of Values or numbers, got Value"):
        gradcheck(softplus, Value(1.0))  # type: ignore[arg-type]
    x = Value(1.0)
    with pytest.raises(ValueError, match="inputs 0 and 1 are the same Value"):
        gradcheck(lambda a, b: a * b, [x, x])


def test_f_must_return_a_value() -> None:
    with pytest.raises(TypeError, match="f must return a Value, it returned float 2.0"):
        gradcheck(lambda a: a.data * 2, [1.0])  # type: ignore[arg-type, return-value]


def test_f_failing_at_a_nudged_input_is_reported_and_leaves_the_input_as_it_was() -> None:
    x = Value(1e-7, "x")
    with pytest.raises(ValueError, match=r"input 0 = 1e-07 ± 1e-06 \(log: needs a positive"):
        gradcheck(lambda a: a.log(), [x])
    assert x.data == 1e-7 and x.grad == 0.0


def test_inside_no_grad_it_refuses_rather_than_report_zero_gradients() -> None:
    with no_grad(), pytest.raises(RuntimeError, match=r"called inside no_grad\(\)"):
        gradcheck(softplus, [0.5])
    assert gradcheck(softplus, [0.5])  # and recording is back afterwards
