"""The extension API: ``op``, ``grad`` and ``no_grad``, as a user meets them."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nn import MLP
from tinygrad_bp import Value, extend, grad, gradcheck, no_grad, op, rules, total, weighted_sum
from tinygrad_bp.extend import OPS, Op
from tinygrad_bp.ops import relu
from tinygrad_bp.sums import weighted_sums


@op
def softplus(x):  # type: ignore[no-untyped-def]  # exactly as the documentation writes it
    return math.log1p(math.exp(x)), (1 / (1 + math.exp(-x)),)


@op
def logaddexp(a: float, b: float) -> tuple[float, tuple[float, float]]:
    """log(e^a + e^b): a smooth maximum; its derivatives are the softmax weights."""
    m = max(a, b)  # shifted so that e^ never overflows
    ea, eb = math.exp(a - m), math.exp(b - m)
    return m + math.log(ea + eb), (ea / (ea + eb), eb / (ea + eb))


@op(name="mean")
def mean_of(*xs: float) -> tuple[float, tuple[float, ...]]:
    return sum(xs) / len(xs), (1.0 / len(xs),) * len(xs)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# -- a one-input op ---------------------------------------------------------------


@pytest.mark.parametrize("x", [-4.0, -0.7, 0.0, 0.3, 2.5])
def test_softplus_as_written_records_its_value_and_local_derivative(x: float) -> None:
    v = Value(x, "x")
    y = softplus(v)
    assert isinstance(softplus, Op) and softplus.name == "softplus"
    assert y.op == "softplus" and y.parents == (v,)
    assert y.data == pytest.approx(math.log(1.0 + math.exp(x)), rel=1e-15)
    assert y.local_grads == (pytest.approx(sigmoid(x), rel=1e-15),)
    y.backward()
    assert v.grad == pytest.approx(sigmoid(x), rel=1e-15)
    assert gradcheck(softplus, [x])


def test_softplus_composes_with_the_built_in_ops() -> None:
    # f = softplus(a·b) + a: ∂f/∂a = σ(ab)·b + 1, ∂f/∂b = σ(ab)·a
    a, b = Value(0.5, "a"), Value(-1.5, "b")
    f = softplus(a * b) + a
    f.backward()
    s = sigmoid(0.5 * -1.5)
    assert a.grad == pytest.approx(s * -1.5 + 1.0, rel=1e-15)
    assert b.grad == pytest.approx(s * 0.5, rel=1e-15)
    assert gradcheck(lambda p, q: softplus(p * q) + p, [0.5, -1.5])


def test_a_plain_number_gives_a_value_with_no_edge() -> None:
    y = softplus(0.0)
    assert isinstance(y, Value) and y.parents == () and y.local_grads == ()
    assert y.data == pytest.approx(math.log(2.0), rel=1e-15)


# -- a two-input op -----------------------------------------------------------------


def test_a_two_input_op_has_an_edge_per_input_in_argument_order() -> None:
    a, b = Value(1.0, "a"), Value(2.0, "b")
    y = logaddexp(a, b)
    assert y.op == "logaddexp" and y.parents == (a, b)
    wa, wb = 1 / (1 + math.e), math.e / (1 + math.e)  # e^1/(e^1+e^2), e^2/(e^1+e^2)
    assert y.local_grads == (pytest.approx(wa, rel=1e-15), pytest.approx(wb, rel=1e-15))
    assert y.data == pytest.approx(math.log(math.e + math.e**2), rel=1e-15)
    y.backward()
    assert (a.grad, b.grad) == (pytest.approx(wa, rel=1e-15), pytest.approx(wb, rel=1e-15))
    assert gradcheck(logaddexp, [a, b])
    assert gradcheck(logaddexp, [-3.0, 40.0])


def test_a_two_input_op_with_a_constant_and_with_one_value_twice() -> None:
    x = Value(0.25, "x")
    left = logaddexp(3.0, x)  # the constant gets no edge; x keeps its own derivative
    assert left.parents == (x,)
    assert left.local_grads == (pytest.approx(math.exp(0.25) / (math.exp(3) + math.exp(0.25))),)
    twice = logaddexp(x, x)  # = x + ln 2: two edges of ½, summing to 1
    assert twice.parents == (x, x) and twice.local_grads == (0.5, 0.5)
    twice.backward()
    assert twice.data == pytest.approx(0.25 + math.log(2.0), rel=1e-15)
    assert x.grad == 1.0


def test_a_named_op_with_any_number_of_inputs() -> None:
    a, b, c = Value(1.0), Value(2.0), Value(6.0)
    m = mean_of(a, b, c)
    assert m.op == "mean" and repr(mean_of) == "<op mean>" and m.data == 3.0
    assert grad(m * m, [a, b, c]) == pytest.approx([2.0, 2.0, 2.0])  # 2m/3 each


# -- built-ins go through the same mechanism ---------------------------------------


@pytest.mark.parametrize(
    ("build", "rule", "name", "args"),
    [
        (lambda a, b: a + b, rules.add, "+", (1.5, -2.0)),
        (lambda a, b: a - b, rules.sub, "-", (1.5, -2.0)),
        (lambda a, b: a * b, rules.mul, "*", (1.5, -2.0)),
        (lambda a, b: a / b, rules.div, "/", (1.5, -2.0)),
        (lambda a, b: a**b, rules.pow, "**", (1.5, -2.0)),
        (lambda a: -a, rules.neg, "neg", (0.7,)),
        (lambda a: a.exp(), rules.exp, "exp", (0.7,)),
        (lambda a: a.log(), rules.log, "log", (0.7,)),
        (lambda a: a.tanh(), rules.tanh, "tanh", (0.7,)),
        (lambda a: a.sigmoid(), rules.sigmoid, "sigmoid", (0.7,)),
        (lambda a: a.relu(), rules.relu, "relu", (0.7,)),
        (lambda a, b, c: weighted_sum([a], [b], c), rules.weighted_sum, "Σwx+b", (0.2, 3.0, 1.0)),
        (lambda a, b, c: total([a, b, c]), rules.total, "Σ", (0.2, 3.0, 1.0)),
    ],
)
def test_every_built_in_is_an_op_made_from_its_rule(
    build: object, rule: object, name: str, args: tuple[float, ...]
) -> None:
    values = [Value(x) for x in args]
    node = build(*values)  # type: ignore[operator]
    value, local = rule(*args)  # type: ignore[operator]
    assert (node.op, node.data, node.local_grads) == (name, value, tuple(local))
    assert node.creator is OPS[name] and OPS[name].rule is rule  # the table's row, by name


# -- a wrong rule is caught where it is made ---------------------------------------


@op
def too_many(x: float) -> tuple[float, tuple[float, ...]]:
    return x, (1.0, 1.0)


@op
def too_few(x: float, y: float) -> tuple[float, tuple[float, ...]]:
    return x * y, (y,)


@op
def text_value(x: float) -> tuple[object, tuple[float]]:
    return "1.0", (1.0,)


@op
def complex_value(x: float) -> tuple[object, tuple[float]]:
    return complex(x, 1.0), (1.0,)


@op
def no_derivatives(x: float) -> float:
    return x


@op
def none_derivative(x: float) -> tuple[float, tuple[object]]:
    return x, (None,)


@op
def bare_derivative(x: float) -> tuple[float, float]:
    return x, 1.0


@pytest.mark.parametrize(
    ("bad", "args", "message"),
    [
        (too_many, (2.0,), r"op 'too_many' must return .* one local derivative per input \(1\); "
         r"it returned local derivatives \(1\.0, 1\.0\) for 1 input"),
        (too_few, (2.0, 3.0), r"op 'too_few' must return .*\(2\); it returned local derivatives "
         r"\(3\.0,\) for 2 input"),
        (text_value, (2.0,), r"op 'text_value' returned a non-numeric value '1\.0' \(str\)"),
        (complex_value, (2.0,), r"op 'complex_value' returned a non-numeric value \(2\+1j\)"),
        (no_derivatives, (2.0,), r"op 'no_derivatives' must return \(value, local_derivatives\)"
         r".*; it returned 2\.0"),
        (none_derivative, (2.0,), r"op 'none_derivative' returned a non-numeric local "
         r"derivative None for input 0"),
        (bare_derivative, (2.0,), r"op 'bare_derivative' must return .*; it returned local "
         r"derivatives 1\.0"),
    ],
)  # fmt: skip
def test_a_wrong_rule_raises_naming_the_op_and_what_it_returned(
    bad: Op, args: tuple[float, ...], message: str
) -> None:
    values = [Value(x) for x in args]
    with pytest.raises(TypeError, match=message):
        bad(*values)  # at the forward call: no broken node reaches backward()
    assert all(v.grad == 0.0 for v in values)
    with no_grad(), pytest.raises(TypeError, match=message):
        bad(*values)  # checked even when no graph is recorded


def test_an_op_called_with_the_wrong_number_of_arguments_names_the_op() -> None:
    @op
    def times(x: float, y: float) -> tuple[float, tuple[float, float]]:
        return x * y, (y, x)

    a = Value(1.5)
    assert times(a, 2.0).data == 3.0
    for args in ((a,), (a, a, a)):
        with pytest.raises(TypeError, match=rf"^op 'times' takes 2 arguments, got {len(args)}$"):
            times(*args)
    with pytest.raises(TypeError, match=r"^op 'softplus' takes 1 argument, got 2$"):
        softplus(a, a)
    with pytest.raises(TypeError, match=r"^op 'relu' takes 1 argument, got 0$"):
        relu()
    optional = Op(lambda x, c=0.0: (x + c, (1.0, 1.0)), "optional")  # never reached here
    with pytest.raises(TypeError, match=r"^op 'optional' takes 1 to 2 arguments, got 3$"):
        optional(a, a, a)
    # a rule of any number of arguments is never refused for its count
    sum_of = Op(lambda *xs: (sum(xs), (1.0,) * len(xs)), "sum_of")
    assert sum_of(a, a, a).data == 4.5 and sum_of(a).data == 1.5


def test_an_arithmetic_error_in_a_users_rule_names_the_op_and_its_inputs() -> None:
    # softplus exactly as written overflows past x = 709: the error says where.
    with pytest.raises(OverflowError, match=r"^op 'softplus' at 710\.0: math range error$"):
        softplus(Value(710.0))

    @op
    def ratio(x: float, y: float) -> tuple[float, tuple[float, float]]:
        return x / y, (1 / y, -x / y**2)

    with pytest.raises(ZeroDivisionError, match=r"^op 'ratio' at \(1\.0, 0\.0\): float division"):
        ratio(Value(1.0), 0.0)
    # also on the paths of several inputs and of a layer's activation
    with pytest.raises(ValueError, match=r"^op 'root' at -4\.0: math domain error$"):
        root = Op(lambda x: (math.sqrt(x), (0.5 / math.sqrt(x),)), "root")
        weighted_sums([[Value(1.0)]], [-5.0], [Value(1.0)], root)

    class RefusedError(ArithmeticError):  # a user's own error type passes through as it is
        pass

    @op
    def picky(x: float, y: float, z: float) -> tuple[float, tuple[float, float, float]]:
        raise RefusedError("no")

    with pytest.raises(RefusedError, match="^no$"):
        picky(Value(1.0), Value(2.0), Value(3.0))


# -- grad ---------------------------------------------------------------------------


def test_grad_returns_what_backward_would_and_touches_no_grad() -> None:
    x, y, unused = Value(0.5, "x"), Value(-2.0, "y"), Value(9.0)
    mid = x * y
    f = softplus(mid) + mid.tanh() * x
    for node in (x, y, mid, f):
        node.grad = 7.0  # whatever was there stays there
    got = grad(f, [x, y, unused, mid, f])
    assert [n.grad for n in (x, y, mid, f, unused)] == [7.0, 7.0, 7.0, 7.0, 0.0]
    # by hand: ∂f/∂mid = σ(mid) + (1 − tanh²mid)·x; ∂f/∂x = ∂f/∂mid·y + tanh(mid)
    s, t = sigmoid(-1.0), math.tanh(-1.0)
    dmid = s + (1 - t * t) * 0.5
    assert got == pytest.approx([dmid * -2.0 + t, dmid * 0.5, 0.0, dmid, 1.0], rel=1e-15)
    for node in (x, y, mid, f):
        node.grad = 0.0
    f.backward()
    assert [x.grad, y.grad] == got[:2]


def test_grad_of_a_leaf_and_of_a_value_used_twice() -> None:
    x = Value(3.0)
    assert grad(x, [x]) == [1.0]
    assert grad(x * x * x, [x, x]) == [27.0, 27.0]  # 3x², asked twice


def test_grad_of_something_that_is_not_a_value_is_a_type_error_naming_the_argument() -> None:
    a = Value(2.0, "a")
    y = a * a
    with pytest.raises(TypeError, match=r"^grad: root must be a Value, got float$"):
        grad(1.0, [a])  # type: ignore[arg-type]  # the issue's reproduction
    with pytest.raises(TypeError, match=r"^grad: root must be a Value, got NoneType$"):
        grad(None, [a])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^grad: wrt\[0\] must be a Value, got float$"):
        grad(y, [1.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^grad: wrt\[1\] must be a Value, got int$"):
        grad(y, [a, 1])  # type: ignore[list-item]
    assert a.grad == 0.0 and y.grad == 0.0


# -- no_grad ------------------------------------------------------------------------


def test_no_grad_computes_values_but_records_no_graph() -> None:
    x = Value(0.3, "x")
    with no_grad():
        y = softplus(x * 2) + x.exp()
    assert y.data == pytest.approx(math.log1p(math.exp(0.6)) + math.exp(0.3), rel=1e-15)
    assert y.parents == () and y.local_grads == () and y.op == ""
    y.backward()
    assert x.grad == 0.0  # y does not depend on x as far as the graph knows


def test_no_grad_nests_and_is_restored_after_an_error() -> None:
    x = Value(2.0)
    with no_grad():
        with no_grad():
            pass
        assert (x * x).parents == ()  # still off after the inner block
    assert (x * x).parents == (x, x)
    with pytest.raises(ValueError, match="log"), no_grad():
        Value(-1.0).log()
    assert (x * x).parents == (x, x)  # back on after the exception


def test_a_training_step_with_updates_under_no_grad() -> None:
    model = MLP(2, [3, 1], activation="tanh", seed=1)

    def loss() -> Value:
        out = model([0.5, -1.0])
        assert isinstance(out, Value)
        return (out - 0.25) ** 2

    before = loss()
    model.zero_grad()
    before.backward()
    with no_grad():  # evaluating and updating: no graph grows from the parameters
        for p in model.parameters():
            p.data -= 0.1 * p.grad
        after = loss()
    assert after.parents == ()
    assert after.data < before.data
    # and graph recording is back for the next step
    assert loss().parents != ()


# -- the example --------------------------------------------------------------------


def test_the_custom_op_example_runs_and_prints_checked_numbers(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "custom_op.py"
    svg = tmp_path / "custom_op.svg"
    done = subprocess.run([sys.executable, str(example), str(svg)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # the drawing: the ops' names are on the rendered graph
    drawing = svg.read_text(encoding="utf-8")
    assert drawing.lstrip().startswith("<?xml") or "<svg" in drawing[:500]
    assert ">softplus<" in drawing and ">hypot<" in drawing
    assert "gradcheck softplus: True" in out and "gradcheck hypot: True" in out
    assert "gradcheck in an expression: True" in out
    # out = softplus(hypot(3, -4) − 4.5) = log(1 + e^0.5); d/dx = σ(0.5)·3/5, d/dy = σ(0.5)·(−4/5)
    s = sigmoid(0.5)
    assert f"= {math.log1p(math.exp(0.5)):.6f}" in out
    assert f"d out/dx = {s * 0.6:.6f}, d out/dy = {s * -0.8:.6f}" in out
    # the wrong rule: analytic e^0.5, numeric σ(0.5)
    assert f"input 0 ('x'): analytic {math.exp(0.5)!r}" in out
    assert f"numeric {s:.6f}" in out
    assert "hypot: ∂r/∂x = 0.600000, ∂r/∂y = -0.800000" in out
    assert f"softplus: ∂out/∂z = {s:.6f}" in out


def test_the_page_on_new_ops_runs_as_written() -> None:
    page = Path(__file__).resolve().parent.parent / "docs" / "extending.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 3  # an op, a method, a template
    namespace: dict[str, object] = {}
    try:
        for block in blocks:
            exec(compile(block, "docs/extending.md", "exec"), namespace)  # the project's own text
    finally:
        if "softsign" in extend._methods:  # the third block adds a method to Value
            extend.remove_method("softsign")
    out, x, y = namespace["out"], namespace["x"], namespace["y"]
    assert isinstance(out, Value) and isinstance(x, Value) and isinstance(y, Value)
    s = sigmoid(0.5)
    assert out.op == "softplus" and out.data == pytest.approx(math.log1p(math.exp(0.5)))
    assert (x.grad, y.grad) == (pytest.approx(s * 0.6), pytest.approx(s * -0.8))
    soft = namespace["s"]
    assert isinstance(soft, Value) and soft.op == "softsign" and soft.data == -6.0 / 7.0
    assert not hasattr(Value, "softsign")


def test_a_name_given_where_the_rule_goes_says_how_to_give_it() -> None:
    # @op("myop") made an op whose rule was the string, failing later and confusingly.
    with pytest.raises(
        TypeError, match=r"^op: the rule must be callable, got the str 'myop'; give the name as "
    ):
        op("myop")  # type: ignore[call-overload]
