"""The batched trace: one example's graph run over a whole batch with NumPy, against the engine.

Every number is held to the per-example trace (itself the engine's to the
bit) and to ``backward()`` on the batch's graph, to 1e-12 relative
(``closeness.py`` says relative to what): over generated graphs of every
op, the moons MLP and the digits MLP.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from closeness import assert_close
from graphgen import VALUE_FUNCTIONS, evaluate, random_graph
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from nn import MLP, SoftmaxLoss, fit, load_digits, make_moons, svm_loss, train_test_split
from nn import train as nn_train
from tinygrad_bp import Value, total, trace, weighted_sum
from tinygrad_bp.expressions import FUNCTIONS, Template
from tinygrad_bp.extend import op
from tinygrad_bp.tracing.arrays import ARRAY_FUNCTIONS, array_code
from tinygrad_bp.tracing.tracer import Traced, TraceError


def run(
    call: Callable[..., float], leaves: Sequence[Value], *args: Any, **kw: Any
) -> tuple[float, list[float]]:
    """A call's result and the leaves' gradients from it, the gradients put back at 0."""
    for leaf in leaves:
        leaf.grad = 0.0
    value = call(*args, **kw)
    grads = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = 0.0
    return value, grads


def engine(
    fn: Callable[..., Value], leaves: Sequence[Value], batch: Sequence[Any]
) -> tuple[float, list[float]]:
    """backward() on the batch's own graph: the sum of fn over the examples."""
    root = total([fn(*example) for example in batch])
    return run(lambda: (root.backward(), root.data)[1], leaves)


# -- generated graphs of every op ------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_generated_graphs_of_every_op_over_a_batch(rng: random.Random) -> None:
    graph = random_graph(rng)
    note(str(graph))
    # The first inputs are parameters (leaves), the rest the example's numbers.
    k = max(1, len(graph.inputs) // 2)
    leaves = [Value(x, f"p{i}") for i, x in enumerate(graph.inputs[:k])]
    example = list(graph.inputs[k:])

    def fn(x: list[Value]) -> Value:
        return evaluate(graph, [*leaves, *x], VALUE_FUNCTIONS)[-1]  # type: ignore[no-any-return]

    traced = trace(fn, example)
    # Examples near the traced one (graphgen keeps each op in its domain with a margin).
    batch = [example] + [
        [x * (1.0 + rng.uniform(-0.02, 0.02)) + rng.uniform(-0.01, 0.01) for x in example]
        for _ in range(6)
    ]
    per_example = run(traced, leaves, batch)
    batched = run(traced.batched, leaves, batch)
    assert traced.batched.fell_back == 0
    assert_close(batched, per_example)
    assert_close(traced.batched.outputs, traced.outputs)
    assert_close(batched, engine(lambda x: fn([Value(v) for v in x]), leaves, [[b] for b in batch]))


def test_every_function_of_the_templates_has_an_array_twin() -> None:
    assert set(ARRAY_FUNCTIONS) == set(FUNCTIONS)


@pytest.mark.parametrize(
    ("expression", "rewritten"),
    [
        ("a if c > 0.0 else b", "where(c > 0.0, a, b)"),
        ("0.0 <= y <= 1.0", "logical_and(0.0 <= y, y <= 1.0)"),
        ("not x > 0.0 and y < 1.0", "logical_and(logical_not(x > 0.0), y < 1.0)"),
        ("exp(x) * (x - 1.0)", "exp(x) * (x - 1.0)"),
    ],
)
def test_a_template_rewritten_for_arrays(expression: str, rewritten: str) -> None:
    assert array_code(expression) == rewritten


# -- networks: the matrix products ----------------------------------------------------------


def mlp_case(model: MLP, loss: Any, X: Sequence[Sequence[float]], y: Sequence[int]) -> None:
    traced = nn_train._PerExample(loss, model, X, y).traced
    params = model.parameters()
    batch = list(zip(X, y))
    per_example = run(traced, params, batch, mean=True)
    batched = run(traced.batched, params, batch, mean=True)
    assert traced.batched.fell_back == 0
    assert_close(batched, per_example)
    assert_close(traced.batched.outputs, traced.outputs)
    full_batch, _ = loss(model, X, y)
    assert_close(batched, run(lambda: (full_batch.backward(), full_batch.data)[1], params))
    source = traced.batched.source
    assert "@" in source and "reversed(examples)" not in source  # no loop over the examples
    assert "each_rule" not in source


def test_the_moons_mlp() -> None:
    X, y = make_moons(100, seed=1, signed=True)
    mlp_case(MLP(2, [16, 16, 1], seed=1), svm_loss, X, y)


def test_the_digits_mlp() -> None:
    X, y, _, _ = train_test_split(*load_digits())
    mlp_case(MLP(64, [32, 10], seed=0), SoftmaxLoss(), X[:64], y[:64])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.sampled_from(["relu", "tanh", "sigmoid", "linear"]),
    st.sampled_from(["svm", "softmax"]),
    st.integers(0, 2**16),
)
def test_networks_of_any_shape_activation_and_loss(
    hidden: list[int], activation: str, loss_name: str, seed: int
) -> None:
    X, y = make_moons(12, seed=seed, signed=loss_name == "svm")
    outputs = 1 if loss_name == "svm" else 2
    model = MLP(2, [*hidden, outputs], activation=activation, seed=seed)
    mlp_case(model, svm_loss if loss_name == "svm" else SoftmaxLoss(), X, y)


def test_a_shared_bias_and_tanh_layers() -> None:
    from nn.module import Layer

    X, y = make_moons(30, seed=4, signed=True)
    model = MLP(2, [5, 1], activation="tanh", seed=4)
    model.layers[0] = Layer(2, 5, "tanh", rng=random.Random(4), shared_bias=True)
    mlp_case(model, svm_loss, X, y)
    traced = nn_train._PerExample(svm_loss, model, X, y).traced
    assert "add_at(grad" in traced.batched.source  # one bias at five places of b


def test_the_source_reads_as_layers() -> None:
    X, y = make_moons(10, seed=0, signed=True)
    traced = nn_train._PerExample(svm_loss, MLP(2, [3, 1], seed=0), X, y).traced
    source = traced.batched.source
    # The nets net_h1, net_h2, net_h3 as the matrix net_h; the output's net its own
    assert "net_h = x @ W_net_h.T + data[b_net_h_index]" in source
    assert "out_h = where(net_h < 0.0, 0.0, net_h)" in source
    assert "grad[W_net_h_index] += g_net_h.T @ x" in source
    assert "net_o1 = out_h @ W_net_o1.T + data[b_net_o1_index]" in source
    assert "hinge_term1 = where((_z := (1.0 - y * net_o1[:, 0])) > 0.0, _z, 0.0)" in source
    compile(source, "<batched>", "exec")


# -- what has no array form, and what fails -------------------------------------------------


def test_an_op_without_a_template_runs_its_rule_per_example() -> None:
    @op
    def cube(x: float) -> tuple[float, tuple[float]]:
        return x**3, (3 * x * x,)

    w = Value(0.7, "w")
    traced = trace(lambda x: cube(w * x) + x, 1.0)
    assert "cube has no array form: its rule runs per example" in traced.batched.source
    batch = [0.5, -1.5, 2.0]
    assert_close(run(traced.batched, [w], batch), run(traced, [w], batch))
    assert run(traced.batched, [w], batch)[1][0] == pytest.approx(
        sum(3 * (0.7 * x) ** 2 * x for x in batch)
    )


def test_a_users_template_runs_over_arrays() -> None:
    @op(template=Template("{0} if {0} > 0.0 else 0.5 * {0}", ("1.0 if {0} > 0.0 else 0.5",)))
    def half_leaky(x: float) -> tuple[float, tuple[float]]:
        return (x, (1.0,)) if x > 0.0 else (0.5 * x, (0.5,))

    w = Value(-2.0, "w")
    traced = trace(lambda x: half_leaky(w * x), 1.0)
    assert "where(" in traced.batched.source and "each_rule" not in traced.batched.source
    batch = [1.0, -1.0, 3.0]  # w·x = -2, 2, -6
    assert run(traced.batched, [w], batch) == (-1.0 + 2.0 - 3.0, [0.5 + -1.0 + 1.5])


def test_an_error_is_the_engines_and_nothing_is_half_added() -> None:
    w = Value(1.0, "w")
    traced = trace(lambda x: (w * x).log(), 1.0)
    w.grad = 0.25
    with pytest.raises(ValueError, match="log") as batched_error:
        traced.batched([1.0, 2.0, -1.0])
    with pytest.raises(ValueError, match="log") as per_example_error:
        traced([1.0, 2.0, -1.0])
    assert str(batched_error.value) == str(per_example_error.value)
    assert traced.batched.fell_back == 1
    assert w.grad == 0.25  # neither added any gradient


def test_an_overflow_is_the_engines_error() -> None:
    w = Value(1.0, "w")
    traced = trace(lambda x: (w * x).exp(), 1.0)
    with pytest.raises(OverflowError) as error:
        traced.batched([1.0, 1000.0])
    assert "exp" in str(error.value)


def test_bad_examples_get_the_per_example_codes_message() -> None:
    w = Value(1.0, "w")
    traced = trace(lambda x, y: w * x[0] * x[1] - y, [1.0, 2.0], 0.0)
    with pytest.raises((ValueError, TypeError)) as batched_error:
        traced.batched([([1.0, 2.0], 0.0), ([1.0], 0.0)])
    with pytest.raises((ValueError, TypeError)) as per_example_error:
        traced([([1.0, 2.0], 0.0), ([1.0], 0.0)])
    assert str(batched_error.value) == str(per_example_error.value)
    with pytest.raises(ValueError, match="no examples"):
        traced.batched([])


def test_a_trace_of_one_graph_is_not_batched() -> None:
    x = Value(2.0)
    with pytest.raises(TraceError, match="over examples"):
        trace(x * x).batched  # noqa: B018


def test_a_weight_read_by_each_example_sums_its_gradient_over_the_batch() -> None:
    w, b = Value(0.5, "w"), Value(0.1, "b")
    scale = Value(3.0, "scale")  # a node of the parameters alone: a number, computed once
    traced = trace(lambda x: weighted_sum([w * scale, w], [x, x * x], b).tanh(), 0.2)
    batch = [0.2, -0.4, 1.3]
    expect = engine(
        lambda x: weighted_sum([w * scale, w], [x, x * x], b).tanh(),
        [w, b, scale],
        [[v] for v in batch],
    )
    assert_close(run(traced.batched, [w, b, scale], batch), expect)
    assert isinstance(traced, Traced)


def test_a_leaf_as_the_penalty_an_input_as_the_root_and_an_output_of_the_parameters() -> None:
    w, c = Value(2.0, "w"), Value(0.5, "c")
    traced = trace(lambda x: (x, w * 3.0), 1.0, penalty=c)
    batch = [1.0, 4.0]
    assert run(traced.batched, [w, c], batch) == (5.0 + 0.5, [0.0, 1.0])
    assert traced.batched.outputs == [6.0, 6.0]
    assert_close(run(traced, [w, c], batch), run(traced.batched, [w, c], batch))


def test_without_numpy_the_batched_trace_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(
        sys.modules, "tinygrad_bp.tracing.batched", None
    )  # as if NumPy were missing
    w = Value(1.0, "w")
    traced = trace(lambda x: w * x, 1.0)
    with pytest.raises(TraceError, match="the batched trace needs NumPy .*: pip install numpy"):
        traced.batched  # noqa: B018
    assert traced([2.0, 3.0]) == 5.0 and w.grad == 5.0  # the trace itself runs per example


def test_fit_without_numpy_runs_point_by_point(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = make_moons(40, seed=2, signed=True)
    monkeypatch.setattr(nn_train, "numpy_available", lambda: False)
    a, b = MLP(2, [8, 1], seed=2), MLP(2, [8, 1], seed=2)
    traced = fit(a, X, y, steps=5, trace=True)
    interpreted = fit(b, X, y, steps=5, trace=False)
    assert traced.traced and traced.losses == interpreted.losses  # to the bit: per example
    assert math.isfinite(traced.losses[-1])
