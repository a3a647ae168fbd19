"""Traced graphs: the generated code gives the numbers backward() gives, and nothing else runs.

Every comparison is with the interpreted engine on the same graph: the
value and every leaf's gradient to 1e-12 relative (in practice to the last
bit), over many steps and random parameter values, with ReLUs switching and
hinge terms coming and going, so that data-dependent local derivatives are
recomputed on every call.
"""

from __future__ import annotations

import ast
import inspect
import math
import os
import random
import re
from collections.abc import Callable, Sequence

import pytest
from closeness import assert_close
from graphgen import VALUE_FUNCTIONS, evaluate, random_graph
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from template_check import run_rule, run_template, same_result

from nn import MLP, SGD, fit, hinge, l2, make_moons, mazur
from nn.losses import hinge_term
from tinygrad_bp import (
    Value,
    cli,
    expressions,
    hypot,
    math_rules,
    no_grad,
    op,
    ops,
    rules,
    total,
    weighted_sum,
)
from tinygrad_bp.graph import topological_order
from tinygrad_bp.tracing.codegen import identifier
from tinygrad_bp.tracing.tracer import Traced, TraceError, trace
from tinygrad_bp.value import OPS

# Every built-in op's template, by its rule: what the op table gives the trace.
TEMPLATES = {o.rule: o.template for o in OPS.values() if o.template is not None}


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    """Equal to ``rel`` relative; NaN equals NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def interpreted(root: Value, leaves: Sequence[Value]) -> tuple[float, list[float]]:
    """backward()'s value and leaf gradients, the gradients then put back at zero."""
    for leaf in leaves:
        leaf.grad = 0.0
    root.backward()
    grads = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = 0.0
    return root.data, grads


def replayed(traced: Traced, leaves: Sequence[Value]) -> tuple[float, list[float]]:
    for leaf in leaves:
        leaf.grad = 0.0
    value = traced()
    grads = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = 0.0
    return value, grads


def assert_same(a: tuple[float, list[float]], b: tuple[float, list[float]]) -> None:
    assert close(a[0], b[0]), (a[0], b[0])
    for k, (x, y) in enumerate(zip(a[1], b[1])):
        assert close(x, y), (k, x, y)


# -- the templates are their rules ---------------------------------------------------------

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-300, 5e-324, 700.0, 710.0, -745.0, 1e300]
EDGES += [math.inf, -math.inf, math.nan, math.pi / 2, 3.0, -0.75]
# Where a rule of the math module changes its ways: the last float before an
# overflow (exp, sinh, cosh, exp2, hypot), squares past the floats' range
# (atan2), a derivative that overflows (1e-200 ** -1), next to ±1 (asin),
# whole and fractional powers of negative bases.
EDGES += [709.782712893384, 710.4758600739439, -710.4758600739439, 1023.9999, 1024.0]
EDGES += [-1075.0, 1.5e308, 1e155, 1e-160, 1e-200, -1e-200, 1e-10, 0.9999999999999999]
EDGES += [-1.0000000000000002, 2.0, -3.0, 10.0]


ARITY = {rules.total: 3, rules.weighted_sum: 5}


def points(n: int) -> list[list[float]]:
    """Points for a rule of n arguments: every pair of edges (of one or two), edges
    drawn at random (of more); then ordinary numbers, and numbers of any size."""
    rng = random.Random(5)
    if n <= 2:
        edges = [[x] for x in EDGES]
        for _ in range(n - 1):
            edges = [[*xs, x] for xs in edges for x in EDGES]
    else:
        edges = [[rng.choice(EDGES) for _ in range(n)] for _ in range(400)]
        edges += [[x] * n for x in EDGES]
    ordinary = [[rng.uniform(-5, 5) for _ in range(n)] for _ in range(400)]
    ordinary += [
        [rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 300) for _ in range(n)] for _ in range(200)
    ]
    return edges + ordinary


@pytest.mark.parametrize("rule", list(TEMPLATES), ids=lambda r: r.__name__)
def test_every_template_is_its_rule_to_the_bit(
    rule: Callable[..., tuple[float, Sequence[float]]],
) -> None:
    template = TEMPLATES[rule]
    n = ARITY.get(rule, len(inspect.signature(rule).parameters))
    # Each argument a variable, and (as a trace writes a number) each in turn a literal.
    ways: list[Sequence[int]] = [(), *[(k,) for k in range(n)]]
    for xs in points(n):
        expected = run_rule(rule, xs)
        for constants in ways:
            got = run_template(template, xs, constants)
            where = (rule.__name__, xs, constants, expected, got)
            assert got != "raises" or template.raises, where  # it says whether it can
            if rule in ARITY and not isinstance(expected, str) and not isinstance(got, str):
                # A sum's zero may differ in sign (0 + -0.0); nothing else may.
                assert close(expected[0], got[0]) or expected[0] == got[0], where  # type: ignore[index]
                continue
            assert same_result(expected, got), where


def public_functions(module: object) -> list[Callable[..., object]]:
    return [
        f
        for name, f in vars(module).items()
        if inspect.isfunction(f) and f.__module__ == module.__name__ and not name.startswith("_")  # type: ignore[attr-defined]
    ]


def test_every_built_in_rule_has_a_template() -> None:
    # rules.dot is weighted_sum's helper, a float of two lists, not a rule.
    helpers = set(expressions.FUNCTIONS.values())  # what a template calls at the edges
    built_in = [f for f in public_functions(rules) if f is not rules.dot and f not in helpers]
    built_in += [f for f in public_functions(math_rules) if f not in helpers]
    assert {rules.pow, rules.total, math_rules.hypot} <= set(built_in)  # found, with the rest
    missing = [f.__name__ for f in built_in if f not in TEMPLATES]
    assert not missing, missing


def test_the_helpers_are_documented_plain_functions() -> None:
    helpers = [f for f in expressions.FUNCTIONS.values() if inspect.isfunction(f)]
    assert len(helpers) == 6
    for f in helpers:
        assert f.__module__ in (rules.__name__, math_rules.__name__) and f.__doc__, f
    # Past the largest float, where the math module raises. (With glibc, cosh
    # and exp do not overflow where sinh and expm1 have a value, so the
    # templates reach these branches only on a libm that rounds otherwise.)
    assert math_rules.cosh_or_inf(-711.0) == math.inf
    assert math_rules.sinh_or_inf(-711.0) == -math.inf
    assert math_rules.exp_or_inf(710.0) == math.inf
    assert math_rules.checked_hypot(math.inf, math.nan) == math.inf
    with pytest.raises(OverflowError):
        math_rules.checked_hypot(1.5e308, 1.5e308)


def test_a_constant_exponent_is_settled_when_the_code_is_written() -> None:
    pow_ = TEMPLATES[rules.pow]
    assert pow_.value_code(["x", "2.0"], "y") == "x ** 2.0"
    assert pow_.local_code(["x", "2.0"], "y")[0] == "2.0 * x ** 1.0"
    assert pow_.value_code(["2.0", "x"], "y") == "2.0 ** x"
    assert pow_.local_code(["2.0", "x"], "y")[1] == "y * log(2.0)"
    assert "real_pow" in pow_.value_code(["x", "0.5"], "y")
    assert pow_.local_code(["x", "0.0"], "y")[0] == "0.0"


# -- trace(root) against backward() --------------------------------------------------------


def test_the_article_to_the_last_bit_over_many_updates() -> None:
    model = mazur.network()
    step = mazur.forward(model)
    traced = trace(step.E_total)
    rng = random.Random(1)
    for k in range(50):
        # A fresh graph on the same parameters: the engine's numbers.
        fresh = mazur.forward(model).E_total
        params = model.parameters()
        value, grads = replayed(traced, params)
        expected = interpreted(fresh, params)
        assert value == expected[0] and grads == expected[1], k
        for p in params:
            p.data = rng.uniform(-3.0, 3.0) if k % 10 == 9 else p.data - 0.5 * p.grad
    assert traced.source.startswith("def E_total_pass(leaves):")


def test_the_article_printed_figures() -> None:
    model = mazur.network()
    traced = trace(mazur.forward(model).E_total)
    assert round(traced(), 9) == 0.298371109
    assert round(mazur.weight(model, "w5").grad, 9) == 0.082167041
    assert round(mazur.weight(model, "w1").grad, 9) == 0.000438568


def moons_points(n: int, seed: int) -> list[tuple[list[float], float]]:
    rng = random.Random(seed)
    return [
        ([rng.uniform(-1.5, 2.5), rng.uniform(-1, 1.5)], rng.choice([-1.0, 1.0])) for _ in range(n)
    ]


def full_batch(model: MLP, points: Sequence[tuple[list[float], float]], alpha: float) -> Value:
    scores = [model(x) for x, _ in points]
    return hinge(scores, [y for _, y in points]) + alpha * l2(model.parameters())  # type: ignore[arg-type]


def test_an_mlp_with_switching_relus_and_hinges_over_many_steps() -> None:
    model = MLP(2, [8, 8, 1], seed=3)
    points = moons_points(12, 3)
    traced = trace(full_batch(model, points, 1e-3))
    params = model.parameters()
    assert set(params) <= set(traced.leaves)
    rng = random.Random(3)
    switched = 0
    last_pattern = None
    for k in range(40):
        root = full_batch(model, points, 1e-3)
        pattern = tuple(n.data > 0 for n in topological_order(root) if n.op == "relu")
        switched += last_pattern is not None and pattern != last_pattern
        last_pattern = pattern
        assert_same(replayed(traced, params), interpreted(root, params))
        for p in params:
            p.data = (
                rng.gauss(0, 1.0) if k % 7 == 6 else p.data - 0.3 * p.grad - 0.3 * rng.gauss(0, 0.1)
            )
    assert switched > 5  # the ReLUs did switch between calls


def build(graph: object) -> tuple[list[Value], Value]:
    leaves = [Value(x, f"n{i}") for i, x in enumerate(graph.inputs)]  # type: ignore[attr-defined]
    return leaves, evaluate(graph, leaves, VALUE_FUNCTIONS)[-1]  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_generated_graphs_with_every_op_replay_as_backward(rng: random.Random) -> None:
    graph = random_graph(rng)
    note(str(graph))
    leaves, root = build(graph)
    traced = trace(root)
    compile(traced.source, "<test>", "exec")
    assert_same(replayed(traced, leaves), interpreted(root, leaves))
    # New leaf values, near the old (graphgen keeps each op inside its domain
    # with a margin): the replay against a graph built afresh at them.
    for _ in range(3):
        for leaf, x in zip(leaves, graph.inputs):
            leaf.data = x * (1.0 + rng.uniform(-0.02, 0.02)) + rng.uniform(-0.01, 0.01)
        try:
            fresh = evaluate(graph, leaves, VALUE_FUNCTIONS)[-1]
        except (ArithmeticError, ValueError):
            continue
        assert_same(replayed(traced, leaves), interpreted(fresh, leaves))


def test_leaves_accumulate_as_backward_does() -> None:
    w = Value(0.5, "w")
    y = (w * 4.0).tanh()
    traced = trace(y)
    once = interpreted(y, [w])[1][0]
    traced()
    traced()
    assert w.grad == 2 * once


def test_a_root_that_is_a_leaf_and_an_op_of_constants() -> None:
    x = Value(3.0, "x")
    traced = trace(x)
    assert traced() == 3.0 and x.grad == 1.0
    c = total([1.0, 2.0])  # an op of constants: no edges
    y = x * c
    traced = trace(y)
    x.grad = 0.0
    assert traced() == 9.0 and x.grad == 3.0


def test_constants_are_exact_literals() -> None:
    x = Value(1.0, "x")
    y = x * 0.1 + (-2.5) + x**3 - 1e-300
    traced = trace(y)
    assert "0.1" in traced.source and "(-2.5)" in traced.source and "1e-300" in traced.source
    x.data = 1.7
    assert_same(replayed(traced, [x]), interpreted(x * 0.1 + (-2.5) + x**3 - 1e-300, [x]))


# -- what is compiled ----------------------------------------------------------------------

HOSTILE = "x); __import__('os').system('id'); ("


def test_a_hostile_label_is_a_harmless_identifier(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("os.system was called")

    monkeypatch.setattr(os, "system", refuse)
    x = Value(2.0, HOSTILE)
    y = x * x
    y.label = "\nimport os\nos.system('id')\n#"
    z = y.sigmoid()
    z.label = "for"
    traced = trace(z)
    assert "__import__" not in traced.source and "system(" not in traced.source
    assert "'" not in traced.source and '"' not in traced.source
    assert identifier(HOSTILE) in traced.source
    tree = ast.parse(traced.source)
    assert [type(n).__name__ for n in tree.body] == ["FunctionDef"]
    # Only names, constants and the templates' own calls: nothing imported, no attribute
    # but a leaf's .data and .grad.
    for n in ast.walk(tree):
        assert not isinstance(n, (ast.Import, ast.ImportFrom, ast.Global, ast.Lambda))
        if isinstance(n, ast.Attribute):
            assert n.attr in ("data", "grad")
    assert_same(replayed(traced, [x]), interpreted(z, [x]))


def test_identifiers() -> None:
    assert identifier("net_h1") == "net_h1"
    assert identifier("__class__") == "class_"
    assert identifier("") == "v" and identifier("∂E") == "E"
    assert identifier("None") == "None_" and identifier("match") == "match_"
    assert identifier("9lives") == "v9lives"


def test_names_are_unique_and_gradients_named_after_their_nodes() -> None:
    a, b = Value(1.0, "w"), Value(2.0, "w")
    c = a * b
    c.label = "g_w"  # the name of a's gradient, taken by a node
    d = c + a
    traced = trace(d)
    tree = ast.parse(traced.source)
    stores = [
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]
    assert "w" in stores and "w_2" in stores and "g_w" in stores
    assert_same(replayed(traced, [a, b]), interpreted(d, [a, b]))


def test_the_source_is_what_runs() -> None:
    x = Value(0.3, "x")
    y = (x * 2.0).exp().log().relu()
    traced = trace(y)
    ast.parse(traced.source)
    compile(traced.source, "<trace>", "exec")
    namespace: dict[str, object] = {"__builtins__": {}, **expressions.FUNCTIONS}
    exec(traced.source, namespace)  # noqa: S102
    (name,) = [k for k in namespace if k.endswith("_pass")]
    assert namespace[name]([x]) == traced()  # type: ignore[operator]


# -- ops -----------------------------------------------------------------------------------


def test_a_users_op_is_called_through_its_rule() -> None:
    calls = []

    @op
    def clipped_square(x: float) -> tuple[float, tuple[float]]:
        calls.append(x)
        if x > 2.0:  # control flow inside a rule is not frozen
            return 4.0, (0.0,)
        return x * x, (2 * x,)

    w = Value(1.5, "w")
    y = clipped_square(w) * w
    traced = trace(y)
    assert "clipped_square(w)" in traced.source
    for x in (1.5, 3.0, -1.0, 2.5):
        w.data = x
        assert_same(replayed(traced, [w]), interpreted(clipped_square(w) * w, [w]))


def test_an_op_without_a_template_is_called_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every built-in rule has a template: take pow's away, as for an op added later.
    monkeypatch.setattr(ops.pow, "template", None)
    w = Value(2.0, "w")
    y = w**3 + 2.0**w
    traced = trace(y)
    assert "pow(w, 3.0)" in traced.source and "pow(2.0, w)" in traced.source
    w.data = 1.25
    assert_same(replayed(traced, [w]), interpreted(w**3 + 2.0**w, [w]))


def test_powers_are_written_inline() -> None:
    w = Value(2.0, "w")
    y = w**3 + 2.0**w + w**w
    traced = trace(y)
    assert "Called through" not in traced.source
    assert "3.0 * w ** 2.0" in traced.source and "2.0 ** w" in traced.source
    for x in (1.25, -1.5, 0.0, 1e-200):
        w.data = x
        try:
            fresh = w**3 + 2.0**w + w**w
        except (ArithmeticError, ValueError) as error:
            with pytest.raises(type(error), match=r"\*\*: "):
                traced()
            continue
        assert_same(replayed(traced, [w]), interpreted(fresh, [w]))


def test_a_rule_error_names_the_op_as_the_engine_does() -> None:
    x = Value(2.0, "x")
    traced = trace((x - 1.0).log())
    x.data = 0.5
    with pytest.raises(ValueError, match=r"log: needs a positive number, got -0.5"):
        traced()
    traced2 = trace((x * 1.0).exp())
    x.data = 1e3
    with pytest.raises(OverflowError, match=r"exp: exp\(1000.0\) overflows a float"):
        traced2()


@pytest.mark.parametrize(
    ("build", "bad", "message"),
    [
        (lambda x: x**0.5, -4.0, r"\*\*: a negative base -4.0 to the fractional power 0.5"),
        (lambda x: x**-1.0, 0.0, r"\*\*: zero to the negative power"),
        (lambda x: x.asin(), 2.0, r"asin: needs a number in \[-1, 1\], got 2.0"),
        (lambda x: x.acos(), -1.5, r"acos: needs a number in \[-1, 1\], got -1.5"),
        (lambda x: x.sinh(), 711.0, r"sinh: sinh\(711.0\) overflows a float"),
        (lambda x: x.cosh(), -711.0, r"cosh: cosh\(-711.0\) overflows a float"),
        (lambda x: x.log1p(), -1.0, r"log1p: needs a number > -1, got -1.0"),
        (lambda x: x.expm1(), 710.0, r"expm1: expm1\(710.0\) overflows a float"),
        (lambda x: x.log2(), 0.0, r"log2: needs a positive number, got 0.0"),
        (lambda x: x.log10(), -0.0, r"log10: needs a positive number, got -0.0"),
        (lambda x: x.exp2(), 1024.0, r"exp2: exp2\(1024.0\) overflows a float"),
        (lambda x: hypot(x, 1.5e308), 1.5e308, r"hypot: hypot\(1.5e\+308, 1.5e\+308\) overflows"),
    ],
)
def test_a_template_that_raises_is_named_through_its_rule(
    build: Callable[[Value], Value], bad: float, message: str
) -> None:
    x = Value(0.5, "x")
    traced = trace(build(x) * x)
    assert "Called through" not in traced.source  # written inline
    x.data = bad
    with pytest.raises((ArithmeticError, ValueError), match=message):
        traced()


def test_a_net_with_constants_and_values_mixed() -> None:
    w, x, b = Value(0.5, "w"), Value(-1.5, "x"), Value(0.25, "b")
    y = weighted_sum([w, 2.0], [x, 3.0], b).relu() + weighted_sum([w], [0.75], 1.0)
    traced = trace(y)
    for v in (0.5, -2.0, 3.0):
        w.data = v
        fresh = weighted_sum([w, 2.0], [x, 3.0], b).relu() + weighted_sum([w], [0.75], 1.0)
        assert_same(replayed(traced, [w, x, b]), interpreted(fresh, [w, x, b]))


# -- no_grad, and what a trace notices -----------------------------------------------------


def test_a_value_made_inside_no_grad_is_a_leaf_of_the_trace() -> None:
    w = Value(0.5, "w")
    with no_grad():
        frozen = w * 3.0  # a plain leaf: no edge back to w
    y = frozen * w
    traced = trace(y)
    assert frozen in traced.leaves
    assert_same(replayed(traced, [w, frozen]), interpreted(y, [w, frozen]))
    with no_grad():
        again = trace(y)  # tracing a graph already built needs no recording
        with pytest.raises(TraceError, match="no_grad"):
            trace(lambda x: x * w, 1.0)
    assert again() == traced()


def test_check_sees_a_mutated_graph() -> None:
    a, b = Value(1.0, "a"), Value(2.0, "b")
    y = a * b
    z = y + a
    traced = trace(z)
    traced.check()
    z.parents = (b, a)  # an edge re-pointed by hand
    with pytest.raises(TraceError, match="changed since it was traced"):
        traced.check()


def test_sgd_refuses_a_parameter_that_is_not_a_leaf_of_the_trace() -> None:
    model = mazur.network()
    traced = trace(mazur.forward(model).E_total)
    with pytest.raises(TraceError, match="not a leaf of the traced graph"):
        traced.sgd([Value(0.1, "w9")], 0.5, 1)


def test_sgd_is_the_interpreted_training_loop_to_the_bit() -> None:
    a, b = mazur.network(), mazur.network()
    optimizer = SGD(mazur.trained_parameters(a), lr=mazur.LEARNING_RATE)
    for _ in range(300):
        mazur.train_step(a, optimizer)  # a graph built and walked for every update
    traced = trace(mazur.forward(b).E_total)
    params = mazur.trained_parameters(b)
    assert traced.sgd(params, mazur.LEARNING_RATE, 300) == 300
    assert a.get_weights() == b.get_weights()
    assert [p.grad for p in mazur.trained_parameters(a)] == [p.grad for p in params]


def test_sgd_stops_before_an_update_with_an_inf_gradient() -> None:
    w = Value(0.0, "w")
    y = op(math_rules.sqrt)(w) + w  # √'(0) = inf
    traced = trace(y)
    assert traced.sgd([w], 0.1, 5) == 0
    assert w.data == 0.0 and w.grad == math.inf


@pytest.mark.parametrize("lr", [math.nan, math.inf, -0.1, 0.0, "0.1", True])
def test_sgd_refuses_the_learning_rates_sgd_refuses(lr: object) -> None:
    w = Value(0.5, "w")
    traced = trace(w * w)
    with pytest.raises((ValueError, TypeError)) as refused:
        SGD([Value(0.5)], lr=lr)  # type: ignore[arg-type]
    expected = str(refused.value).replace("SGD: ", "sgd: ", 1)
    with pytest.raises(refused.type, match=f"^{re.escape(expected)}$"):
        traced.sgd([w], lr, 3)  # type: ignore[arg-type]
    assert (w.data, w.grad) == (0.5, 0.0)  # refused before any update


# -- a function of one example, looped over many ------------------------------------------


def test_per_example_against_the_full_batch_graph_to_the_bit() -> None:
    model = MLP(2, [8, 8, 1], seed=4)
    points = moons_points(30, 4)
    params = model.parameters()

    def term(x: list[Value], y: Value) -> tuple[Value, Value]:
        score = model(x)
        assert isinstance(score, Value)
        return hinge_term(score, y), score

    traced = trace(term, *points[0], penalty=1e-3 * l2(params))
    assert len(traced.inputs) == 3 and set(traced.leaves) == set(params)
    assert "for (x1, x2), y in reversed(examples):" in traced.source
    rng = random.Random(4)
    for k in range(25):
        root = full_batch(model, points, 1e-3)
        expected = interpreted(root, params)
        for p in params:
            p.grad = 0.0
        value = traced(points, mean=True)
        grads = [p.grad for p in params]
        assert value == expected[0] and grads == expected[1], k
        scores = [model(x).data for x, _ in points]  # type: ignore[union-attr]
        assert traced.outputs == scores
        for p, g in zip(params, grads):
            p.data -= 0.5 * g + (rng.gauss(0, 0.3) if k % 8 == 7 else 0.0)


def test_per_example_sums_without_mean_and_takes_one_argument() -> None:
    w = Value(0.5, "w")
    traced = trace(lambda x: (w * x[0] + x[1]) ** 2, [1.0, 2.0])
    assert "for x1, x2 in reversed(examples):" in traced.source
    value = traced([[1.0, 2.0], [3.0, -1.0]])
    assert value == 2.5**2 + 0.5**2
    assert w.grad == 2 * 2.5 * 1.0 + 2 * 0.5 * 3.0


def test_per_example_errors_name_the_example() -> None:
    w = Value(0.5, "w")
    traced = trace(lambda x, y: (w * x).log() * y, 1.0, 1.0)
    with pytest.raises(ValueError, match="log: needs a positive number"):
        traced([(1.0, 1.0), (-1.0, 1.0)])
    with pytest.raises(ValueError, match="expected 2 arguments"):
        traced([(1.0, 1.0, 3.0)])
    with pytest.raises(TypeError, match="call it with the examples"):
        traced()


# -- training: traced by default, the same numbers as interpreted ------------------------


def test_fit_traced_and_interpreted_give_the_same_history_and_weights() -> None:
    X, y = make_moons(40, seed=2, signed=True)
    a, b = MLP(2, [8, 8, 1], seed=2), MLP(2, [8, 8, 1], seed=2)
    # 600 points × steps: traced only when asked; point by point, the engine's numbers to the bit
    traced = fit(a, X, y, steps=15, trace=True, batched=False)
    interpreted_run = fit(b, X, y, steps=15, trace=False)
    assert traced.traced and not interpreted_run.traced
    assert traced.losses == interpreted_run.losses
    assert traced.accuracies == interpreted_run.accuracies
    assert a.get_weights() == b.get_weights()
    assert [p.grad for p in a.parameters()] == [p.grad for p in b.parameters()]
    # Over the whole batch at once (NumPy): the same numbers to 1e-12
    c = MLP(2, [8, 8, 1], seed=2)
    batched = fit(c, X, y, steps=15, trace=True)
    assert batched.traced
    assert_close(batched.losses, interpreted_run.losses)
    assert batched.accuracies == interpreted_run.accuracies
    assert_close(c.get_weights(), b.get_weights())
    assert_close([p.grad for p in c.parameters()], [p.grad for p in b.parameters()])


def replacing_at_step_2(model: MLP) -> Callable[[int], float]:
    """A schedule that, before update 2, makes one neuron's weights new Values."""

    def schedule(k: int) -> float:
        if k == 2:
            neuron = model.layers[0].neurons[0]
            neuron.w = tuple(Value(w.data, w.label) for w in neuron.w)
        return 0.1

    return schedule


def test_fit_traces_again_when_a_parameter_is_replaced() -> None:
    X, y = make_moons(20, seed=3, signed=True)
    runs = []
    for trace_it, batched in ((True, False), (False, False), (True, True)):
        model = MLP(2, [4, 1], seed=3)
        # The optimizer keeps the old Values: they get gradients only if the trace reads them.
        optimizer = SGD(model.parameters(), lr=0.1)
        schedule = replacing_at_step_2(model)
        history = fit(
            model, X, y, 5, optimizer=optimizer, schedule=schedule, trace=trace_it, batched=batched
        )
        runs.append((history.losses, model.get_weights()))
    assert runs[0] == runs[1]
    assert_close(runs[2], runs[1])


def test_fit_checks_labels_as_the_full_batch_loss_does() -> None:
    with pytest.raises(ValueError, match=r"hinge: labels must be -1 or \+1, got 0.0 at index 1"):
        fit(MLP(2, [4, 1]), [[0.0, 1.0], [1.0, 0.0]], [1, 0], steps=1)


def test_mazur_train_traced_and_interpreted_agree_to_the_bit() -> None:
    a, b = mazur.network(), mazur.network()
    fa = mazur.train(a, 2500)  # more than one chunk of traced updates
    fb = mazur.train(b, 2500, trace=False)
    assert fa.E_total.data == fb.E_total.data
    assert a.get_weights() == b.get_weights()
    assert round(mazur.train(mazur.network(), 10_000).E_total.data, 9) == 0.000035102


def test_the_article_as_code() -> None:
    code = mazur.code()
    assert "net_h1 = w1 * i1 + w2 * i2 + b1" in code
    assert "g_w5 = out_h1 * g_net_o1" in code
    assert "E_total = E_o1 + E_o2" in code


# -- the command line ------------------------------------------------------------------


def test_mazur_code_prints_the_article_as_python(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mazur", "--code"]) == 0
    out = capsys.readouterr().out
    assert out == mazur.code()
    compile(out, "<mazur --code>", "exec")
    assert "    net_h1 = w1 * i1 + w2 * i2 + b1\n" in out


def test_mazur_with_and_without_trace_prints_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    outs = []
    for extra in ([], ["--no-trace"]):
        assert cli.main(["mazur", "--steps", "1500", *extra]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]
    assert "After 1500 updates: E_total = " in outs[0]


def test_train_with_and_without_trace_ends_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    finals = []
    for extra in ([], ["--no-trace"]):
        assert cli.main(["train", "moons", "--steps", "8", *extra]) == 0
        last = capsys.readouterr().out.strip().splitlines()[-1]
        finals.append(last.split(" in ")[0])  # the time differs
    assert finals[0] == finals[1] and finals[0].startswith("final loss ")


# -- nothing to trace, nothing to train ---------------------------------------------------


def test_a_function_that_returns_nothing_is_refused_in_one_line() -> None:
    with pytest.raises(TypeError, match="returned an empty tuple; expected a Value") as info:
        trace(lambda t: (), 1.0)
    assert "\n" not in str(info.value)


def test_sgd_refuses_an_empty_parameter_list() -> None:
    a = Value(2.0, "a")
    traced = trace(a * a)
    for attempt in (lambda: traced.sgd([], 0.1, 3), lambda: traced.sgd_source([])):
        with pytest.raises(ValueError, match="empty parameter list; expected the leaves") as info:
            attempt()
        assert "\n" not in str(info.value)
    assert a.data == 2.0 and a.grad == 0.0


# -- tracing only where it pays, within bounded memory ------------------------------------


def chain(ops: int) -> Value:
    y = x = Value(0.5, "x")
    for _ in range(ops // 2):
        y = y * 0.999 + 0.001
    assert x is not y
    return y


def test_a_graph_past_the_size_bound_is_refused_before_any_code_is_written() -> None:
    y = chain(20_000)  # 20,000 nodes and 40,000 operands
    with pytest.raises(TraceError) as info:
        trace(y)
    assert str(info.value) == (
        "the graph has 60,000 nodes and edges, more than the 50,000 a trace compiles (each "
        "takes a few kB to compile); call backward() instead, or raise max_size"
    )
    with pytest.raises(TraceError, match="more than the 100 a trace compiles"):
        trace(lambda x: x * x + chain(100) * x, 1.0, max_size=100)
    small = trace(chain(100), max_size=300)
    assert small.size == 300 and small() == chain(100).data


def test_fit_traces_where_it_pays_and_says_why_not() -> None:
    X, y = make_moons(100, seed=0, signed=True)
    few = fit(MLP(2, [8, 8, 1], seed=0), X, y, steps=2)
    assert not few.traced
    assert few.note == (
        "a trace pays from about 679 points × steps (its compile against each step's saving); "
        "this run has 200"
    )
    many = fit(MLP(2, [8, 8, 1], seed=0), X, y, steps=7)
    assert many.traced and many.note == ""
    forced = fit(MLP(2, [8, 8, 1], seed=0), X, y, steps=2, trace=True)
    assert forced.traced
    assert_close(forced.losses, few.losses)


def test_fit_does_not_trace_a_graph_past_the_size_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = make_moons(100, seed=0, signed=True)
    model = MLP(2, [8, 8, 1], seed=0)  # 105 parameters; one point's graph: 354 nodes and edges
    monkeypatch.setattr("nn.train.MAX_SIZE", 200)
    with pytest.raises(TraceError, match="has 354 nodes and edges, more than the 200 a trace"):
        fit(model, X, y, steps=7, trace=True)
    history = fit(model, X, y, steps=7)  # 700 points × steps would pay, but not the memory
    assert not history.traced
    assert history.note == (
        "one point's graph has 354 or more nodes and edges, more than the 200 a trace compiles"
    )

    def refuse(*args: object, **kwargs: object) -> Traced:
        raise AssertionError("traced")

    # Past the bound by its parameters alone, the graph is not even walked.
    monkeypatch.setattr("nn.train.MAX_SIZE", 100)
    monkeypatch.setattr("nn.train.trace_function", refuse)
    history = fit(model, X, y, steps=7)
    assert not history.traced and history.note.startswith("one point's graph has 105 or more")
