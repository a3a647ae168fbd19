"""Formulas as text: the same graph as the expression written in Python, and every refusal."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pytest

from tinygrad_bp import Value, cli
from tinygrad_bp import ops as engine
from tinygrad_bp.cli.formula import MAX_NESTING, FormulaError, build, functions, parse_values
from tinygrad_bp.extend import Op
from tinygrad_bp.graph import topological_order

Expression = Callable[..., Value]

# Each formula beside the same expression written in Python with Values.
SAME_AS_PYTHON: list[tuple[str, dict[str, float], Expression]] = [
    (
        "tanh(x1*w1 + x2*w2 + b)",
        {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432},
        lambda x1, x2, w1, w2, b: (x1 * w1 + x2 * w2 + b).tanh(),
    ),
    ("(x + y) * z", {"x": -2.0, "y": 5.0, "z": -4.0}, lambda x, y, z: (x + y) * z),
    ("a*a + a", {"a": 3.0}, lambda a: a * a + a),
    ("x**2 - 2*x*y + y**2", {"x": 1.5, "y": -0.25}, lambda x, y: x**2 - 2 * x * y + y**2),
    ("-x / (1 + exp(-x))", {"x": 0.7}, lambda x: -x / (1 + (-x).exp())),
    ("2**x * log(y)", {"x": 0.5, "y": 3.0}, lambda x, y: 2**x * y.log()),
    (
        "sigmoid(relu(x) - abs(y))",
        {"x": 0.3, "y": -1.2},
        lambda x, y: (x.relu() - abs(y)).sigmoid(),
    ),
    ("x / 3 / y ** -0.5", {"x": 4.0, "y": 2.0}, lambda x, y: x / 3 / y**-0.5),
    ("1/3 * x", {"x": 2.0}, lambda x: 1 / 3 * x),
    ("--x", {"x": 2.0}, lambda x: engine.neg(engine.neg(x))),
    ("neg(x) ** 3", {"x": 1.1}, lambda x: engine.neg(x) ** 3),
    ("exp(2) * x", {"x": 2.0}, lambda x: engine.exp(2) * x),
]


@pytest.mark.parametrize(("text", "values", "python"), SAME_AS_PYTHON, ids=lambda x: str(x)[:30])
def test_a_formula_is_the_expression_written_in_python(
    text: str, values: dict[str, float], python: Expression
) -> None:
    formula = build(text, values)
    formula.root.backward()
    leaves = {name: Value(v, name) for name, v in values.items()}
    expected = python(*leaves.values())
    expected.backward()
    assert formula.root.data == expected.data
    for name in values:
        assert formula.leaves[name].grad == leaves[name].grad, name
    # The same graph: the same ops in the same order, the same local derivatives.
    mine, theirs = topological_order(formula.root), topological_order(expected)
    assert [v.op for v in mine] == [v.op for v in theirs]
    assert [v.local_grads for v in mine] == [v.local_grads for v in theirs]


def test_the_micrograd_neuron() -> None:
    values = parse_values("x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432".split())
    formula = build("tanh(x1*w1 + x2*w2 + b)", values)
    formula.root.backward()
    assert formula.root.label == "out" and formula.root.data == pytest.approx(math.sqrt(0.5))
    grads = {name: leaf.grad for name, leaf in formula.leaves.items()}
    assert grads == pytest.approx({"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5})
    assert list(formula.leaves) == ["x1", "w1", "x2", "w2", "b"]  # order of first use


def test_a_name_used_twice_is_one_leaf_with_two_edges() -> None:
    formula = build("a * a", {"a": 3.0})
    assert formula.root.parents == (formula.leaves["a"], formula.leaves["a"])


def test_naming_the_result() -> None:
    formula = build("f = (x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert (formula.root.label, formula.root.data, formula.expression) == (
        "f",
        -12.0,
        "(x + y) * z",
    )
    # "out" is the default, and a leaf of that name keeps it
    assert build("out * 2", {"out": 1.0}).root.label == "out2"
    assert build("x", {"x": 1.0}).root.label == "x"
    assert build("2 * 3", {}).root.data == 6.0


def test_functions_are_the_librarys_ops() -> None:
    found = functions()
    for name in ("exp", "log", "tanh", "sigmoid", "relu", "abs"):
        assert found[name] is getattr(engine, name)
    assert all(isinstance(op, Op) and op.name == name for name, op in found.items())
    # every op any of the library's modules exports under a Python name
    import tinygrad_bp

    exported = {v.name for v in vars(tinygrad_bp).values() if isinstance(v, Op)}
    assert {n for n in exported if n.isidentifier()} <= set(found)


def test_every_function_can_be_called() -> None:
    for name, op in functions().items():
        args = ", ".join(["x"] * op.least) or "x"
        if op.least == 0:
            continue
        formula = build(f"{name}({args})", {"x": 0.5})
        formula.root.backward()
        assert formula.root.op == op.name


def test_values_from_the_command_line() -> None:
    assert parse_values(["x=2", " w = -0.5 ", "b=1e-3"]) == {"x": 2.0, "w": -0.5, "b": 0.001}
    for bad, message in [
        ("x", "is not NAME=VALUE"),
        ("x=two", "'two' is not a number"),
        ("x=nan", "expected a finite number"),
        ("x=inf", "expected a finite number"),
        ("2x=1", "is not a name"),
        ("__x=1", "names starting with __ are not allowed"),
        ("tanh=1", "tanh is a function"),
        ("lambda=1", "is not a name"),
    ]:
        with pytest.raises(FormulaError, match=message):
            parse_values([bad])
    with pytest.raises(FormulaError, match=r"x is given twice \('x=1' and 'x=2'\)"):
        parse_values(["x=1", "x=2"])


def test_names_given_are_normalised_as_python_normalises_the_formulas() -> None:
    # Python reads the identifiers ﬁ (a ligature) and ℌ (a letterlike symbol) as fi and H
    assert parse_values(["ﬁ=2", "ℌ=3"]) == {"fi": 2.0, "H": 3.0}
    f = build("ﬁ*x + ℌ", parse_values(["ﬁ=2", "x=3", "ℌ=1"]))
    assert list(f.leaves) == ["fi", "x", "H"] and f.root.data == 7.0
    with pytest.raises(FormulaError, match=r"H is given twice \('ℌ=1' and 'H=2'\)"):
        parse_values(["ℌ=1", "H=2"])


def test_the_command_takes_a_name_as_the_formula_writes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["explain", "ﬁ*x", "ﬁ=2", "x=3", "--wrt", "x"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("out = ﬁ*x = 6\n\n∂out/∂x = 2\n")
    assert cli.main(["explain", "ℌ*x", "ℌ=2", "x=3", "--parameters", "ℌ"]) == 0
    assert "∂out/∂H = 3" in capsys.readouterr().out


# -- refusals: each one line, each fast ----------------------------------------------------
REFUSED = [
    ("x.__class__", {"x": 1}, "not allowed: attribute access, in x.__class__"),
    ("x.real", {"x": 1}, "not allowed: attribute access"),
    ("x.exp()", {"x": 1}, "not allowed: attribute access"),
    ("x[0]", {"x": 1}, r"not allowed: subscripts, in x\[0\]"),
    ("lambda: 0", {}, "not allowed: lambdas"),
    ("(lambda y: y)(x)", {"x": 1}, "only a function is called, by its name"),
    ("[x for x in y]", {"y": 1}, "not allowed: comprehensions"),
    ("sum(x for x in y)", {"y": 1}, "unknown function sum()"),
    ("{x: 1 for x in y}", {"y": 1}, "not allowed: comprehensions"),
    ("__import__('os')", {}, r"unknown function __import__\(\)"),
    ("__builtins__", {}, "names starting with __ are not allowed"),
    ("x + __x__", {"x": 1}, "names starting with __ are not allowed"),
    ("9**9**9", {}, r"9\*\*9\*\*9 is too large for a float"),
    ("2**10000 * x", {"x": 1}, "is too large for a float"),
    ("1" * 5000, {}, "thousands of digits"),
    ("1e999 * x", {"x": 1}, "the number 1e999 is too large"),
    ("(" * 150 + "x" + ")" * 150, {"x": 1}, f"nests brackets 150 deep; at most {MAX_NESTING}"),
    ("tanh(" * 150 + "x" + ")" * 150, {"x": 1}, "nests brackets 150 deep"),
    ("-" * 5000 + "x", {"x": 1}, "nested too deeply for Python's parser"),
    ("x" + "**x" * 3000, {"x": 1}, "nested too deeply for Python's parser"),
    ("x * y", {"x": 1}, "the formula uses y but gives it no value; add y=NUMBER"),
    ("x * y * z", {"x": 1}, "uses y and z but gives them no value; add y=NUMBER z=NUMBER"),
    ("x", {"x": 1, "y": 2}, "y=2 is given, but the formula does not use y"),
    (
        "foo(x)",
        {"x": 1},
        r"unknown function foo\(\) in foo\(x\); the functions are abs, .*exp, .*tanh",
    ),
    ("tanh", {}, r"tanh is a function: call it, as tanh\(x\)"),
    ("x(2)", {"x": 1}, r"unknown function x\(\)"),
    ("tanh(x, x)", {"x": 1}, r"tanh takes 1 argument, got 2 in tanh\(x, x\)"),
    ("tanh(x=1)", {}, "keyword arguments"),
    ("tanh(*x)", {"x": 1}, "not allowed: starred"),
    ("x % 2", {"x": 1}, "not allowed: the operator %"),
    ("x // 2", {"x": 1}, "not allowed: the operator //"),
    ("x ^ 2", {"x": 1}, r"not allowed: the operator \^ \(for a power, write \*\*\)"),
    ("+x", {"x": 1}, "not allowed: unary plus"),
    ("x < 1", {"x": 1}, "not allowed: comparisons"),
    ("x and x", {"x": 1}, "not allowed: and/or"),
    ("x if x else x", {"x": 1}, "not allowed: conditional expressions"),
    ("(x := 2)", {}, "not allowed: assignment expressions"),
    ("x, x", {"x": 1}, "not allowed: tuples"),
    ("'a'", {}, "'a' is a str, not a real number"),
    ("True * x", {"x": 1}, "True is a bool, not a real number"),
    ("2j * x", {"x": 1}, "2j is a complex number"),
    ("x; x", {"x": 1}, "expected one formula, got 2 statements"),
    ("import os", {}, r"an import statement \(import os\) is not a formula"),
    ("x +", {"x": 1}, "not a formula: invalid syntax"),
    ("", {}, "the formula is empty"),
    ("x\0", {"x": 1}, "not a formula"),
    ("x" * 10_001, {}, "10,001 characters long; at most 10,000"),
    ("1/0", {}, "1/0 divides by zero"),
    ("(-8) ** (1/3)", {}, "has no real value"),
    ("log(x)", {"x": -1}, r"cannot compute log\(x\): log"),
    ("x / y", {"x": 1, "y": 0}, r"cannot compute x / y"),
    ("exp(x)", {"x": 1000}, "cannot compute exp"),
    # an overflow is refused whether the numbers alone make it or a name's value does
    ("1e308*10*x", {"x": 1}, r"^1e308\*10 is too large for a float"),
    (
        "x*1e308*10",
        {"x": 1},
        r"^x\*1e308\*10 is too large for a float \(1e\+308 \* 10.0 is inf\); every value in a "
        r"formula must be finite",
    ),
    ("x*y", {"x": -1e308, "y": -1e308}, r"^x\*y is too large for a float \(-1e\+308 \* -1e\+308"),
    ("x - y", {"x": 1e308, "y": -1e308}, r"^x - y is too large .*\(1e\+308 - -1e\+308 is inf\)"),
    ("leaky_relu(x, x)", {"x": -1e308}, r"^leaky_relu\(x, x\) is too large .*\(it is inf\)"),
    ("f = f + 1", {"f": 1}, "f names the result and is also given a value"),
    ("exp = x", {"x": 1}, "exp is a function"),
    ("x.y = 2", {}, "an assign statement"),
]


@pytest.mark.parametrize(("text", "values", "message"), REFUSED, ids=lambda x: str(x)[:24])
def test_refused_in_one_line_and_fast(text: str, values: dict[str, float], message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(FormulaError, match=message) as info:
        build(text, values)
    assert time.perf_counter() - start < 0.5
    assert "\n" not in str(info.value)


def test_a_refusal_says_what_is_allowed() -> None:
    with pytest.raises(FormulaError) as info:
        build("x.__class__", {"x": 1.0})
    text = str(info.value)
    assert (
        "numbers, names given a value as NAME=VALUE, + - * / **, unary minus, parentheses" in text
    )
    assert all(name in text for name in ("exp", "log", "tanh", "sigmoid", "relu"))


def test_nothing_is_built_before_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    original = Value.__init__

    def counting(self: Value, *args: object, **kwargs: object) -> None:
        made.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Value, "__init__", counting)
    for text in ("x * y + x.real", "x * y + z", "x * 9**9**9"):
        with pytest.raises(FormulaError):
            build(text, {"x": 1.0, "y": 2.0})
    assert made == []


def test_a_long_sum_is_not_too_deep() -> None:
    text = " + ".join(f"x{i}" for i in range(500))
    formula = build(text, {f"x{i}": float(i) for i in range(500)})
    formula.root.backward()
    assert formula.root.data == sum(range(500)) and formula.leaves["x7"].grad == 1.0


def test_only_the_ast_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    import ast
    import builtins

    real_compile = builtins.compile

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the formula was evaluated")

    def ast_only(source: str, filename: str, mode: str, flags: int = 0, *a: object, **k: object):  # type: ignore[no-untyped-def]
        assert flags & ast.PyCF_ONLY_AST, "compiled to code"
        return real_compile(source, filename, mode, flags, *a, **k)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", ast_only)
    assert build("x * 2", {"x": 1.5}).root.data == 3.0
