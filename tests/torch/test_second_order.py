"""Second derivatives and forward mode against PyTorch float64: every op, on generated graphs.

For each generated graph (tests/support/graphgen.py, seeds 0..GRAPHS-1, the
graphs the first-order cross-check uses) the gradient built as a graph,
``grad(out, leaves, create_graph=True)``, is differentiated again for every
leaf: the whole Hessian, row by row, against ``torch.autograd.grad(...,
create_graph=True)`` and a second ``torch.autograd.grad`` of each entry. A
graph reaches every op with Values on both sides (``pow vv``) and with a
number on one side (``pow cv``), and chains ops, so each op's second
derivative is met both as op'' (through the square of the inner slope) and
as op' (times the inner curvature). ``jvp`` along a random direction is
checked on the same graphs against ``torch.func.jvp``.

Each op alone is then checked at a few points away from its kinks and the
edges of its domain: all its second partial derivatives (d²/dx², and the
mixed ones for an op of two or more arguments) and a jvp. The edges follow:
where the two agree (relu'' = abs'' = 0) and, each in a test named after it,
where PyTorch's second derivative differs from ours (docs/ops.md, "Second
derivatives: where PyTorch differs").

The summary at the end of the session (tests/torch/conftest.py) gives, per
op, the number of graphs and of points at which it was checked at second
order and by jvp.

Skipped without PyTorch, unless TINYGRAD_BP_REQUIRE_TORCH=1 (as in CI).
"""

from __future__ import annotations

import math
import operator
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from graphgen import VALUE_FUNCTIONS, Graph, OpTally, evaluate, random_graph
from torch_or_skip import require_torch  # tests/support

torch = require_torch("the cross-check")  # or this file is skipped
from torch_graphs import TORCH_FUNCTIONS  # noqa: E402  (tests/support; imports torch)

from tinygrad_bp import Value, grad, hessian, jvp  # noqa: E402

inf = math.inf
# torch.func's first use compiles helpers with torch.jit.script, which warns that it
# is deprecated: PyTorch's own business, nothing these tests call.
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)

GRAPHS = 4000  # each op appears in several hundred of them (the summary counts them)

# Relative agreement demanded of every first and second derivative and jvp.
RTOL = 1e-9
# The absolute floor, for second derivatives near 0. A Hessian entry is a sum
# of products of local derivatives and curvatures, terms far larger than the
# nodes themselves (1/x² at x = 0.25 is 16, tan'' near |cos x| = 0.2 is 240;
# entries reach 3e6 over the generated graphs), and where those terms cancel
# each engine's rounding, in its own order, is what is left: relative
# agreement means nothing there. Measured over 20,000 graphs: above 1 in size
# the largest relative gap is 1.4e-13; below 1 the largest absolute gap is
# 3.7e-13 (an entry of -0.0013 whose relative gap is 3e-10). The floor of 1e-10
# is 300 times that, and still far below any derivative a mistake would give.
ATOL = 1e-10


def close(a: float, b: float) -> bool:
    """Equal to RTOL, or within ATOL of each other; NaN nowhere (both finite or equal infs)."""
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= ATOL + RTOL * max(abs(a), abs(b))


def _leaves(xs: Sequence[float]) -> list[Any]:
    return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]


def torch_first_and_hessian(
    f: Callable[..., Any], xs: Sequence[float]
) -> tuple[list[float], list[list[float]]]:
    """PyTorch's gradient of ``f`` at ``xs`` and its Hessian, by grad of grad (no vmap)."""
    leaves = _leaves(xs)
    out = f(*leaves)
    first = torch.autograd.grad(out, leaves, create_graph=True, allow_unused=True)
    rows = []
    for g in first:
        if g is None or not g.requires_grad:  # f is linear in that leaf, or does not read it
            rows.append([0.0] * len(leaves))
            continue
        second = torch.autograd.grad(g, leaves, retain_graph=True, allow_unused=True)
        rows.append([0.0 if s is None else s.item() for s in second])
    return [0.0 if g is None else g.item() for g in first], rows


def our_first_and_hessian(
    f: Callable[..., Value], xs: Sequence[float]
) -> tuple[list[float], list[list[float]]]:
    """Our gradient of ``f`` built as a graph, and each of its entries differentiated again."""
    leaves = [Value(x) for x in xs]
    first = grad(f(*leaves), leaves, create_graph=True)
    return [g.data for g in first], [grad(g, leaves) for g in first]


def torch_jvp(
    f: Callable[..., Any], xs: Sequence[float], v: Sequence[float]
) -> tuple[float, float]:
    def t(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64)

    out, slope = torch.func.jvp(f, tuple(map(t, xs)), tuple(map(t, v)))
    return out.item(), slope.item()


def assert_hessians_agree(
    ours: tuple[list[float], list[list[float]]],
    theirs: tuple[list[float], list[list[float]]],
    where: object,
) -> None:
    (g1, h1), (g2, h2) = ours, theirs
    for i, (a, b) in enumerate(zip(g1, g2, strict=True)):
        assert close(a, b), f"d/dx{i}: {a!r} vs torch {b!r}\n{where}"
    for i, (r1, r2) in enumerate(zip(h1, h2, strict=True)):
        for j, (a, b) in enumerate(zip(r1, r2, strict=True)):
            assert close(a, b), f"d²/dx{i}dx{j}: {a!r} vs torch {b!r}\n{where}"


# -- generated graphs ------------------------------------------------------------------


def graph_function(graph: Graph, functions: dict[str, Callable[..., Any]]) -> Callable[..., Any]:
    """The graph's output as a function of its inputs, in the engine ``functions`` is for."""
    return lambda *xs: evaluate(graph, list(xs), functions)[-1]


@pytest.mark.parametrize("seed", range(GRAPHS))
def test_every_second_derivative_of_a_generated_graph_agrees_with_torch(
    seed: int, second_order_tally: OpTally
) -> None:
    graph = random_graph(random.Random(seed))
    second_order_tally.add(graph)
    ours = our_first_and_hessian(graph_function(graph, VALUE_FUNCTIONS), graph.inputs)
    theirs = torch_first_and_hessian(graph_function(graph, TORCH_FUNCTIONS), graph.inputs)
    assert_hessians_agree(ours, theirs, graph)


@pytest.mark.parametrize("seed", range(GRAPHS))
def test_jvp_of_a_generated_graph_agrees_with_torch(seed: int, jvp_tally: OpTally) -> None:
    rng = random.Random(seed)
    graph = random_graph(rng)
    jvp_tally.add(graph)
    # A direction with every input in it, drawn after the graph (the graph is seed's own).
    v = [rng.uniform(-1.0, 1.0) for _ in graph.inputs]
    value, slope = jvp(graph_function(graph, VALUE_FUNCTIONS), list(graph.inputs), v)
    t_value, t_slope = torch_jvp(graph_function(graph, TORCH_FUNCTIONS), graph.inputs, v)
    assert close(value, t_value), f"value {value!r} vs torch {t_value!r}\n{graph}"
    assert close(slope, t_slope), f"jvp {slope!r} vs torch {t_slope!r} along {v}\n{graph}"


# -- each op alone, at safe points -----------------------------------------------------


@dataclass(frozen=True)
class OpCase:
    """One op (in one kind: ``pow vc`` is Value ** number) as a function of its Value
    arguments in both engines, and points away from its kinks and domain edges."""

    name: str
    ours: Callable[..., Any]
    theirs: Callable[..., Any]
    points: tuple[tuple[float, ...], ...]

    @property
    def op(self) -> str:
        return self.name.split()[0]


def _same(f: Callable[..., Any]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """A function written once with Python's operators, for both engines."""
    return f, f


def _unary(name: str, *points: float) -> OpCase:
    return OpCase(name, VALUE_FUNCTIONS[name], TORCH_FUNCTIONS[name], tuple((p,) for p in points))


def _binary(name: str, *points: tuple[float, float]) -> OpCase:
    return OpCase(f"{name} vv", VALUE_FUNCTIONS[name], TORCH_FUNCTIONS[name], points)


ARITHMETIC = [(1.3, -0.7), (-2.1, 0.4), (0.5, 2.5)]
CASES: list[OpCase] = [
    OpCase("add vv", *_same(operator.add), tuple(ARITHMETIC)),
    OpCase("sub vv", *_same(operator.sub), tuple(ARITHMETIC)),
    OpCase("mul vv", *_same(operator.mul), tuple(ARITHMETIC)),
    OpCase("div vv", *_same(operator.truediv), tuple(ARITHMETIC)),
    OpCase("neg", *_same(operator.neg), ((1.5,), (-0.3,))),
    OpCase("pow vv", *_same(operator.pow), ((1.7, 2.3), (0.6, -1.5), (2.5, 0.5))),
    OpCase("pow vc", *_same(lambda x: x**3.0), ((-1.2,), (0.8,))),
    OpCase("pow vc", *_same(lambda x: x**-2.0), ((0.7,), (-1.6,))),
    OpCase("pow vc", *_same(lambda x: x**0.5), ((2.0,), (0.3,))),
    OpCase("pow vc", *_same(lambda x: x**2.5), ((1.1,),)),
    OpCase("pow cv", *_same(lambda y: 2.0**y), ((1.5,), (-0.8,))),
    OpCase("pow cv", *_same(lambda y: 0.5**y), ((2.2,),)),
    # x % c: away from the jumps, where x/c is a whole number.
    OpCase("mod vv", *_same(operator.mod), ((3.2, 1.5), (-2.3, 0.7), (4.1, -1.3))),
    OpCase("mod vc", *_same(lambda x: x % 1.5), ((3.2,), (-0.4,))),
    _unary("exp", 1.2, -0.7, 3.0),
    _unary("log", 0.3, 2.0, 7.5),
    _unary("tanh", 0.4, -1.7, 2.5),
    _unary("sigmoid", 0.4, -1.7, 3.5),
    _unary("relu", 0.8, -1.2),  # away from the kink at 0 (tested on its own below)
    OpCase(
        "leaky_relu vv",
        VALUE_FUNCTIONS["leaky_relu"],
        TORCH_FUNCTIONS["leaky_relu"],
        ((1.4, 0.2), (-0.9, 0.2), (-2.0, -0.5)),
    ),  # fmt: skip
    OpCase(
        "leaky_relu vc",
        lambda x: x.leaky_relu(0.1),
        lambda x: torch.nn.functional.leaky_relu(x, 0.1),
        ((1.4,), (-0.9,)),
    ),  # fmt: skip
    _unary("softplus", 0.4, -3.0, 12.0),
    _unary("sqrt", 0.3, 2.0, 9.0),
    _unary("abs", 0.8, -1.2),
    _unary("sin", 0.4, 2.0, -3.5),
    _unary("cos", 0.4, 2.0, -3.5),
    _unary("tan", 0.4, -1.1, 2.5),
    _unary("asin", 0.3, -0.8),
    _unary("acos", 0.3, -0.8),
    _unary("atan", 0.4, -2.5),
    _unary("sinh", 0.4, -2.5),
    _unary("cosh", 0.4, -2.5),
    _unary("log1p", -0.6, 0.4, 5.0),
    _unary("expm1", -0.6, 0.4, 3.0),
    _unary("log2", 0.3, 5.0),
    _unary("log10", 0.3, 5.0),
    _unary("exp2", -1.5, 2.5),
    _binary("atan2", (1.0, 2.0), (-0.5, 0.3), (0.7, -1.5)),  # off the cut along x < 0
    _binary("hypot", (3.0, 4.0), (-0.5, 1.2), (0.0, 2.0)),  # (0, 2): an axis, not the origin
    _binary("minimum", (1.0, 2.0), (0.5, -0.3)),
    _binary("maximum", (1.0, 2.0), (0.5, -0.3)),
    OpCase(
        "weighted_sum",
        VALUE_FUNCTIONS["weighted_sum"],
        TORCH_FUNCTIONS["weighted_sum"],
        ((0.5, -1.2, 2.0, 0.3, 0.1),),
    ),  # fmt: skip
    OpCase("total", VALUE_FUNCTIONS["total"], TORCH_FUNCTIONS["total"], ((0.5, -1.2, 2.0),)),
]


def _case_points() -> list[Any]:
    return [
        pytest.param(case, point, id=f"{case.name}-{point}")
        for case in CASES
        for point in case.points
    ]


def test_the_cases_cover_every_op_of_the_generated_graphs() -> None:
    from graphgen import OPS

    assert {case.op for case in CASES} == set(OPS)


@pytest.mark.parametrize(("case", "point"), _case_points())
def test_an_ops_second_derivatives_at_a_safe_point_agree_with_torch(
    case: OpCase, point: tuple[float, ...], point_tally: Counter[tuple[str, str]]
) -> None:
    point_tally["hessian", case.name] += 1
    ours = our_first_and_hessian(case.ours, point)
    theirs = torch_first_and_hessian(case.theirs, point)
    assert_hessians_agree(ours, theirs, f"{case.name} at {point}")
    # and hessian() itself, which builds the same thing from its primals
    assert hessian(case.ours, list(point)) == ours[1]


@pytest.mark.parametrize(("case", "point"), _case_points())
def test_an_ops_jvp_at_a_safe_point_agrees_with_torch(
    case: OpCase, point: tuple[float, ...], point_tally: Counter[tuple[str, str]]
) -> None:
    point_tally["jvp", case.name] += 1
    for v in ([1.0] * len(point), [0.7 - 0.9 * k for k in range(len(point))]):
        value, slope = jvp(case.ours, list(point), v)
        t_value, t_slope = torch_jvp(case.theirs, point, v)
        assert close(value, t_value) and close(slope, t_slope), (case.name, point, v)


# -- the edges: where the two agree, and where PyTorch differs -------------------------

EDGES_AGREED: list[tuple[str, Callable[..., Any], Callable[..., Any], tuple[float, ...]]] = [
    # A piecewise-linear op's local derivative is a constant of each piece: its own
    # derivative is 0, at the kink too (relu'' = abs'' = 0).
    ("relu at its kink", lambda x: x.relu(), torch.relu, (0.0,)),
    ("relu(x)·x at the kink", lambda x: x.relu() * x, lambda x: torch.relu(x) * x, (0.0,)),
    ("abs at its kink", abs, torch.abs, (0.0,)),
    ("abs(x)·x at the kink", lambda x: abs(x) * x, lambda x: torch.abs(x) * x, (0.0,)),
    (
        "leaky_relu(x, 0.2)·x at the kink",
        lambda x: x.leaky_relu(0.2) * x,
        lambda x: torch.nn.functional.leaky_relu(x, 0.2) * x,
        (0.0,),
    ),  # fmt: skip
    # A tie splits the gradient 0.5/0.5 in both; through squares, the curvature too.
    ("maximum at a tie", VALUE_FUNCTIONS["maximum"], TORCH_FUNCTIONS["maximum"], (1.0, 1.0)),
    (
        "maximum(x², y²) at a tie",
        lambda x, y: VALUE_FUNCTIONS["maximum"](x * x, y * y),
        lambda x, y: torch.maximum(x * x, y * y),
        (1.0, -1.0),
    ),  # fmt: skip
    (
        "minimum(x², y²) at a tie",
        lambda x, y: VALUE_FUNCTIONS["minimum"](x * x, y * y),
        lambda x, y: torch.minimum(x * x, y * y),
        (1.0, -1.0),
    ),  # fmt: skip
    ("x % c at a jump", operator.mod, torch.remainder, (3.0, 1.5)),
    ("x ** 0 at 0", lambda x: x**0.0, lambda x: x**0.0, (0.0,)),  # HIPS's test_power_arg0
    ("x ** 2 at 0", lambda x: x**2.0, lambda x: x**2.0, (0.0,)),
    ("x ** 1.5 at 0", lambda x: x**1.5, lambda x: x**1.5, (0.0,)),  # x'' = inf in both
    ("hypot on an axis", VALUE_FUNCTIONS["hypot"], TORCH_FUNCTIONS["hypot"], (0.0, 1.0)),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "point"), [pytest.param(*e[1:], id=e[0]) for e in EDGES_AGREED]
)
def test_at_kinks_and_ties_the_second_derivatives_are_torchs(
    ours: Callable[..., Any], theirs: Callable[..., Any], point: tuple[float, ...]
) -> None:
    found = our_first_and_hessian(ours, point)
    assert_hessians_agree(found, torch_first_and_hessian(theirs, point), point)


def test_relu_and_abs_have_second_derivative_zero_on_both_sides() -> None:
    for x in (-1.5, -1e-300, 0.0, 1e-300, 2.0):
        for ours, theirs in ((lambda v: v.relu(), torch.relu), (abs, torch.abs)):
            assert our_first_and_hessian(ours, (x,))[1] == [[0.0]]
            assert torch_first_and_hessian(theirs, (x,))[1] == [[0.0]]


# Where PyTorch differs, each in a test of its own (docs/ops.md lists them). The
# common cause: at an edge our first derivative is a constant of the op table's
# convention (inf, 0, NaN), so its own derivative is 0; PyTorch differentiates
# its formula there, which gives ±inf or NaN.


def test_an_infinite_first_derivative_has_second_derivative_zero_where_torch_has_inf() -> None:
    cases = [
        ("sqrt at 0", lambda x: x.sqrt(), torch.sqrt, 0.0, inf, -inf),
        ("x ** 0.5 at 0", lambda x: x**0.5, lambda x: x**0.5, 0.0, inf, -inf),
        ("asin at 1", lambda x: x.asin(), torch.asin, 1.0, inf, inf),
        ("acos at -1", lambda x: x.acos(), torch.acos, -1.0, -inf, inf),
    ]
    for name, ours, theirs, x, first, torch_second in cases:
        assert our_first_and_hessian(ours, (x,)) == ([first], [[0.0]]), name
        assert torch_first_and_hessian(theirs, (x,)) == ([first], [[torch_second]]), name


def test_hypot_at_the_origin_is_zero_where_torch_is_nan() -> None:
    ours = our_first_and_hessian(VALUE_FUNCTIONS["hypot"], (0.0, 0.0))
    assert ours == ([0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]])
    g, h = torch_first_and_hessian(TORCH_FUNCTIONS["hypot"], (0.0, 0.0))
    assert all(math.isnan(x) for x in [*g, *h[0], *h[1]])


def test_atan2_at_the_origin_has_second_derivatives_zero_where_torch_has_nan() -> None:
    ours = our_first_and_hessian(VALUE_FUNCTIONS["atan2"], (0.0, 0.0))
    assert ours == ([0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]])
    g, h = torch_first_and_hessian(TORCH_FUNCTIONS["atan2"], (0.0, 0.0))
    assert g == [0.0, 0.0]  # the first derivatives agree (test_rule_conventions.py)
    assert all(math.isnan(x) for x in [*h[0], *h[1]])


def test_pow_at_base_zero_or_below_with_a_value_exponent() -> None:
    # x ** y at x = 0, y = 2: d/dy is the convention's 0 (x = 0, y >= 0), so the row of
    # d/dy is 0 where PyTorch's y·x^(y-1)·ln x gives 0·(-inf) = NaN.
    assert our_first_and_hessian(operator.pow, (0.0, 2.0)) == ([0.0, 0.0], [[2.0, 0.0], [0.0, 0.0]])
    g, h = torch_first_and_hessian(operator.pow, (0.0, 2.0))
    assert g == [0.0, 0.0] and h[0] == [2.0, 0.0] and all(map(math.isnan, h[1]))
    # 0 ** y: d/dy = 0 for y >= 0, a constant; PyTorch's second derivative is NaN.
    assert our_first_and_hessian(lambda y: 0.0**y, (1.0,)) == ([0.0], [[0.0]])
    assert math.isnan(
        torch_first_and_hessian(lambda y: torch.zeros((), dtype=torch.float64) ** y, (1.0,))[1][0][
            0
        ]
    )
    # A negative base: d/dy is NaN in both (ln x); ours a constant, so its derivative is 0.
    (gx, gy), ((hxx, hxy), (hyx, hyy)) = our_first_and_hessian(operator.pow, (-2.0, 3.0))
    assert (gx, hxx, hyx, hyy) == (12.0, -12.0, 0.0, 0.0) and math.isnan(gy) and math.isnan(hxy)
    g, h = torch_first_and_hessian(operator.pow, (-2.0, 3.0))
    assert g[0] == 12.0 and h[0][0] == -12.0 and all(map(math.isnan, h[1]))


def test_prelu_at_zero_takes_the_slope_side_where_torch_mixes_sides() -> None:
    # At x = 0 both take the slope's side for d/dx (= slope); ours differentiates that:
    # ∂²/∂x∂slope = 1. PyTorch's second derivative there is 0, the other side's.
    prelu = (VALUE_FUNCTIONS["leaky_relu"], TORCH_FUNCTIONS["leaky_relu"])
    ours = our_first_and_hessian(prelu[0], (0.0, 0.2))
    theirs = torch_first_and_hessian(prelu[1], (0.0, 0.2))
    assert ours == ([0.2, 0.0], [[0.0, 1.0], [1.0, 0.0]])
    assert theirs == ([0.2, 0.0], [[0.0, 0.0], [0.0, 0.0]])


def test_softplus_past_torchs_threshold_keeps_its_curvature() -> None:
    # PyTorch's softplus is x itself past its threshold (20): second derivative 0.
    # Ours stays ln(1 + eˣ): σ'(30) = σ(30)·(1 − σ(30)) ≈ e⁻³⁰.
    (_, [[ours]]) = our_first_and_hessian(lambda x: x.softplus(), (30.0,))
    (_, [[theirs]]) = torch_first_and_hessian(torch.nn.functional.softplus, (30.0,))
    assert ours == pytest.approx(math.exp(-30.0), rel=1e-12) and theirs == 0.0


def test_expm1_far_below_zero_keeps_its_curvature() -> None:
    # PyTorch's expm1'' is (expm1(x) + 1)', 0 once expm1(x) rounds to -1 (x < -37); ours eˣ.
    (_, [[ours]]) = our_first_and_hessian(lambda x: x.expm1(), (-40.0,))
    (_, [[theirs]]) = torch_first_and_hessian(torch.expm1, (-40.0,))
    assert ours == math.exp(-40.0) and theirs == 0.0
