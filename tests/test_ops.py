"""The built-in math ops (functions.py) and methods on Value for ops, built-in or a user's.

The rules themselves are tested in test_rules.py (by hand, at their edges,
by gradcheck through these ops); this file tests the ops made from them:
one Op per rule, named as it is read, reachable as a function and as a
method, and the one way a method is added (``ops.add_method``, which
``op(method=...)`` goes through), with what it refuses.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

import tinygrad_bp
from tinygrad_bp import Value, gradcheck, math_rules, op, rules
from tinygrad_bp import extend as _extend
from tinygrad_bp import ops as functions
from tinygrad_bp.extend import Op, add_method, remove_method

# Each built-in op of one argument: its rule, and its name (which is also its method's).
UNARY = {
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
    "softplus": rules.softplus,
}
BINARY = {
    "atan2": math_rules.atan2,
    "hypot": math_rules.hypot,
    "minimum": rules.minimum,
    "maximum": rules.maximum,
}


@pytest.fixture
def methods() -> Iterator[None]:
    """Removes, after the test, every method the test added: tests stay independent."""
    before = set(_extend._methods)
    yield
    for name in set(_extend._methods) - before:
        remove_method(name)


# -- the built-in ops ----------------------------------------------------------------


@pytest.mark.parametrize("name", [*UNARY, *BINARY])
def test_each_is_one_trusted_op_made_from_its_rule_and_exported(name: str) -> None:
    o = getattr(functions, name)
    assert isinstance(o, Op) and o.name == name and o.checked is False
    assert o.rule is {**UNARY, **BINARY}[name]
    assert getattr(tinygrad_bp, name) is o and name in tinygrad_bp.__all__


def test_every_built_in_op_has_a_name_of_its_own() -> None:
    from tinygrad_bp.value import OPS

    built_in = [o for o in vars(functions).values() if isinstance(o, Op)]
    assert {o.name: o for o in built_in} == OPS  # each op of the module is in the table once
    assert len(OPS) == 13 + 1 + 1 + 20  # arithmetic and activations, Σ, Σwx+b, the rest


@pytest.mark.parametrize("name", list(UNARY))
def test_a_method_is_the_op_itself_and_makes_the_same_node(name: str) -> None:
    o = getattr(functions, name)
    assert getattr(Value, name) is o  # Value.sin is sin: the method is the op
    x = Value(0.3, "x")
    by_method, by_function = getattr(x, name)(), o(x)
    value, local = UNARY[name](0.3)
    for node in (by_method, by_function):
        assert node.creator is o and node.op == name and node.parents == (x,)
        assert (node.data, node.local_grads) == (value, local)


@pytest.mark.parametrize("name", list(BINARY))
def test_a_function_of_two_arguments_with_values_and_numbers(name: str) -> None:
    o = getattr(functions, name)
    a, b = Value(0.6, "a"), Value(-1.7, "b")
    value, local = BINARY[name](0.6, -1.7)
    both = o(a, b)
    assert both.creator is o and both.parents == (a, b) and both.local_grads == local
    assert both.data == value
    assert o(a, -1.7).parents == (a,) and o(a, -1.7).local_grads == local[:1]
    assert o(0.6, b).parents == (b,) and o(0.6, b).local_grads == local[1:]
    constant = o(0.6, -1.7)  # numbers only: a node without edges
    assert constant.data == value and constant.parents == () and constant.creator is o
    assert gradcheck(o, [0.6, -1.7]) and gradcheck(lambda p: o(p, p * 2.0 + 1.0), [0.6])


def test_the_issues_example_is_a_method_of_an_expression() -> None:
    b = Value(0.5, "b")
    y = (3 * b).sin()
    y.backward()
    assert y.op == "sin" and y.data == math.sin(1.5)
    assert b.grad == pytest.approx(3 * math.cos(1.5), rel=1e-15)
    assert gradcheck(lambda v: (3 * v).sin(), [0.5])


def test_methods_chain_and_mix_with_functions() -> None:
    x = Value(0.4, "x")
    y = functions.hypot(x.sin().exp2(), x.sqrt().log1p()) + x.abs().softplus()
    assert gradcheck(
        lambda v: functions.hypot(v.sin().exp2(), v.sqrt().log1p()) + v.abs().softplus(), [0.4]
    )
    y.backward()
    assert x.grad != 0.0


def test_abs_is_a_method_too_and_the_same_op_as_pythons_abs() -> None:
    x = Value(-2.5, "x")
    assert x.abs().creator is functions.abs and abs(x).creator is functions.abs
    assert x.abs().data == abs(x).data == 2.5 and x.abs().local_grads == (-1.0,)
    assert not hasattr(tinygrad_bp, "abs")  # Python's own abs() stays unshadowed


def test_a_wrong_argument_count_names_the_op() -> None:
    x = Value(0.5)
    with pytest.raises(TypeError, match=r"^op 'sin' takes 1 argument, got 2$"):
        x.sin(2.0)
    with pytest.raises(TypeError, match=r"^op 'atan2' takes 2 arguments, got 1$"):
        functions.atan2(x)


def test_outside_the_domain_the_error_names_the_op_and_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^asin: needs a number in \[-1, 1\], got 2\.0$"):
        Value(2.0).asin()
    with pytest.raises(ValueError, match=r"^sqrt: needs a number >= 0, got -1\.0$"):
        functions.sqrt(Value(-1.0))
    with pytest.raises(OverflowError, match=r"^cosh: cosh\(1000\.0\) overflows a float$"):
        Value(1000.0).cosh()


# -- leaky_relu: the slope is a second argument, 0.01 when left out -----------------------


def test_leaky_relu_takes_the_slope_as_a_constant_by_default() -> None:
    x = Value(-2.0, "x")
    for node in (functions.leaky_relu(x), x.leaky_relu()):
        assert node.creator is functions.leaky_relu and node.op == "leaky_relu"
        assert node.parents == (x,) and node.data == -0.02 and node.local_grads == (0.01,)
    for node in (functions.leaky_relu(x, 0.2), x.leaky_relu(0.2), x.leaky_relu(slope=0.2)):
        assert node.parents == (x,) and node.local_grads == (0.2,)
        assert node.data == pytest.approx(-0.4, rel=1e-15)
    assert Value(3.0).leaky_relu().local_grads == (1.0,)
    assert tinygrad_bp.leaky_relu is functions.leaky_relu


def test_leaky_relu_with_a_value_as_slope_learns_it() -> None:
    x, a = Value(-2.0, "x"), Value(0.25, "a")
    y = x.leaky_relu(a)
    assert y.parents == (x, a) and y.local_grads == (0.25, -2.0)
    assert gradcheck(lambda p, q: p.leaky_relu(q), [-2.0, 0.25])
    assert gradcheck(lambda p: functions.leaky_relu(p), [-0.7])
    assert gradcheck(lambda p: p.leaky_relu(), [0.7])


# -- a method for a user's op -----------------------------------------------------------


def softplus2_rule(x: float) -> tuple[float, tuple[float]]:
    return math.log1p(math.exp(x)), (1 / (1 + math.exp(-x)),)


def test_a_users_op_as_a_method(methods: None) -> None:
    softplus2 = op(softplus2_rule, name="softplus2", method=True)
    x = Value(0.5, "x")
    y = x.softplus2()
    assert y.creator is softplus2 and y.op == "softplus2" and y.parents == (x,)
    assert y.data == pytest.approx(math.log1p(math.exp(0.5)), rel=1e-15)
    assert gradcheck(lambda v: (v * 2).softplus2(), [0.5])
    assert softplus2(x).data == y.data  # still a function too


def test_a_users_op_as_a_method_under_another_name_by_decorator(methods: None) -> None:
    @op(method="smooth_relu")
    def softplus3(x: float) -> tuple[float, tuple[float]]:
        return softplus2_rule(x)

    assert softplus3.name == "softplus3" and Value.smooth_relu is softplus3  # type: ignore[attr-defined]
    assert Value(0.0).smooth_relu().op == "softplus3"  # type: ignore[attr-defined]
    assert not hasattr(Value, "softplus3")


def test_a_method_of_two_arguments_takes_the_rest_after_the_value(methods: None) -> None:
    @op(method=True)
    def scaled(x: float, k: float) -> tuple[float, tuple[float, float]]:
        return x * k, (k, x)

    x, k = Value(3.0), Value(2.0)
    assert x.scaled(k).parents == (x, k) and x.scaled(0.5).data == 1.5  # type: ignore[attr-defined]


def test_two_ops_with_the_same_method_name_is_an_error_naming_both(methods: None) -> None:
    first = op(softplus2_rule, name="softplus2", method=True)

    def other_rule(x: float) -> tuple[float, tuple[float]]:
        return x, (1.0,)

    message = (
        r"^Value\.softplus2 is already op 'softplus2' "
        r"\((tests\.)?test_ops\.softplus2_rule\); "
        r"op 'softplus2' \((tests\.)?test_ops\..*<locals>\.other_rule\) cannot replace it "
        r"\(remove_method\('softplus2'\) frees the name\)$"
    )
    with pytest.raises(ValueError, match=message):
        op(other_rule, name="softplus2", method=True)
    with pytest.raises(ValueError, match=r"^Value\.softplus2 is already op 'softplus2'"):
        op(other_rule, name="other", method="softplus2")
    assert Value.softplus2 is first  # type: ignore[attr-defined]  # no silent overwrite
    with pytest.raises(
        ValueError,
        match=r"^Value\.softplus2 is already op 'softplus2' \(.*softplus2_rule\); another op "
        r"made from a rule of the same name cannot replace it \(remove_method\('softplus2'\)",
    ):
        op(softplus2_rule, name="softplus2", method=True)  # as when a definition is run twice
    add_method(first)  # the same op again under the same name: nothing changes
    assert Value.softplus2 is first  # type: ignore[attr-defined]


def test_a_built_in_methods_name_is_taken_by_its_op(methods: None) -> None:
    with pytest.raises(
        ValueError, match=r"^Value\.sin is already op 'sin' \(tinygrad_bp\.math_rules\.sin\); "
    ):
        op(softplus2_rule, name="sin", method=True)
    assert Value.sin is functions.sin  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("data", "a property of Value"),
        ("grad", "a field of Value"),
        ("label", "a field of Value"),
        ("creator", "a field of Value"),
        ("op", "a property of Value"),
        ("parents", "a field of Value"),
        ("op", "a property of Value"),
        ("backward", "a method of Value"),
        ("exp", "a method of Value"),
        ("relu", "a method of Value"),
        ("__add__", "a method of Value"),
        ("__eq__", "a method of Value"),
        ("__init__", "a method of Value"),
        ("__slots__", "an attribute of Value"),
        ("__class__", "an attribute of Value"),
        ("args", "a property of Value"),
        ("local_grads", "a field of Value"),
        ("creator", "a field of Value"),
    ],
)
def test_a_name_value_already_has_is_refused(methods: None, name: str, what: str) -> None:
    before = functions.Value.__dict__.get(name)
    with pytest.raises(
        ValueError, match=rf"^op 'softplus2': '{name}' is already {what}; choose another name$"
    ):
        op(softplus2_rule, name="softplus2", method=name)
    assert functions.Value.__dict__.get(name) is before
    assert name not in _extend._methods


@pytest.mark.parametrize("name", ["__call__", "__bool__", "__float__", "__len__", "__iter__"])
def test_a_special_methods_name_is_refused(methods: None, name: str) -> None:
    # not on Value yet, but Python's protocols would call the op: bool(v), float(v), ...
    with pytest.raises(
        ValueError,
        match=rf"^op 'softplus2': '{name}' is already a special method's name \(Python's "
        r"protocols read them\); choose another name$",
    ):
        op(softplus2_rule, name="softplus2", method=name)
    assert name not in vars(Value)


@pytest.mark.parametrize("name", ["my op", "2x", "", "if", "x.y"])
def test_a_name_that_is_no_identifier_is_refused(methods: None, name: str) -> None:
    with pytest.raises(ValueError, match=r"^op 'softplus2': a method's name must be an identifier"):
        op(softplus2_rule, name="softplus2", method=name)
    with pytest.raises(ValueError, match=r"^op 'my op': a method's name must be an identifier"):
        op(softplus2_rule, name="my op", method=True)  # the op's own name is the method's


def test_method_must_be_a_bool_or_a_name() -> None:
    with pytest.raises(TypeError, match=r"^op: method must be True, False or a name, got int 5$"):
        op(softplus2_rule, method=5)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"^op: method must be True, False or a name, got int 1$"):
        op(method=1)  # type: ignore[call-overload]  # refused at op, before any rule comes


def test_an_op_of_no_argument_cannot_be_a_method(methods: None) -> None:
    with pytest.raises(TypeError, match=r"^op 'pi' takes no argument, so it cannot be a method$"):
        op(lambda: (math.pi, ()), name="pi", method=True)
    assert not hasattr(Value, "pi")


def test_remove_method_frees_the_name_and_the_op_still_works(methods: None) -> None:
    first = op(softplus2_rule, name="softplus2", method=True)
    assert remove_method("softplus2") is first
    assert not hasattr(Value, "softplus2") and first(Value(0.0)).op == "softplus2"
    second = op(softplus2_rule, name="softplus2", method=True)  # the name is free again
    assert Value.softplus2 is second  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"^remove_method: Value has no op method 'nothing'$"):
        remove_method("nothing")
    with pytest.raises(ValueError, match=r"^remove_method: Value has no op method 'exp'$"):
        remove_method("exp")  # Value's own method, not an op's
    assert callable(Value.exp)


def test_a_built_in_method_can_be_removed_and_added_back(methods: None) -> None:
    # e.g. to write one's own sin as an exercise
    assert remove_method("sin") is functions.sin
    try:
        assert not hasattr(Value(0.0), "sin")
        mine = op(lambda x: (math.sin(x), (math.cos(x),)), name="sin", method=True)
        assert Value(0.0).sin().creator is mine  # type: ignore[attr-defined]
        remove_method("sin")
    finally:
        add_method(functions.sin)
    assert Value.sin is functions.sin  # type: ignore[attr-defined]


def test_the_fixture_left_no_method_behind() -> None:
    assert not {"softplus2", "smooth_relu", "scaled", "pi"} & set(vars(Value))
    assert set(_extend._methods) == {*UNARY, "leaky_relu", "abs"}


# -- an op's name is checked where the op is made (issue 14, item 18) -----------------


@pytest.mark.parametrize("bad", [5, b"sin", ["sin"]])
def test_a_name_that_is_not_a_str_is_refused_at_op(bad: object) -> None:
    message = rf"^op: name must be a str, got {type(bad).__name__} "
    with pytest.raises(TypeError, match=message):
        op(name=bad)  # type: ignore[call-overload]  # the decorator form: refused at once
    with pytest.raises(TypeError, match=message):
        op(softplus2_rule, name=bad)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=message):
        Op(softplus2_rule, bad)  # type: ignore[arg-type]


def test_grad_names_wrt_when_it_is_not_a_list() -> None:
    from tinygrad_bp import grad

    x = Value(2.0)
    for wrong in (x, 3, None):
        with pytest.raises(TypeError, match=r"grad: wrt must be a list of Values, got "):
            grad(x * x, wrong)  # type: ignore[arg-type]
