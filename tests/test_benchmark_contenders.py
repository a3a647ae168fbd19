"""The benchmark's contenders compute what tinygrad_bp computes, at tiny sizes.

No timing here: benchmarks/run.py times them. These tests make sure that what
it times is the same arithmetic, checked against tinygrad_bp, against central
differences and against the article's figures.
"""

from __future__ import annotations

import doctest
import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tinygrad_bp import Value
from tinygrad_bp.graph import topological_order


def _load_contenders() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "contenders.py"
    spec = importlib.util.spec_from_file_location("benchmark_contenders", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


c = _load_contenders()

TINY = {"n_points": 10, "sizes": (2, 5, 4, 1), "seed": 7}


def plain_loss(problem: Any, flat: list[float]) -> float:
    """The moons loss for parameters ``flat`` (neuron by neuron: weights, bias), by hand."""
    sizes = [len(problem.weights[0][0])] + [len(layer) for layer in problem.weights]
    layers, k = [], 0
    for nin, nout in zip(sizes, sizes[1:]):
        rows = []
        for _ in range(nout):
            rows.append((flat[k : k + nin], flat[k + nin]))
            k += nin + 1
        layers.append(rows)
    data = 0.0
    for point, y in zip(problem.points, problem.labels):
        a = list(point)
        for depth, rows in enumerate(layers):
            z = [sum(w * x for w, x in zip(ws, a)) + b for ws, b in rows]
            a = z if depth == len(layers) - 1 else [max(v, 0.0) for v in z]
        data += max(1.0 - y * a[0], 0.0)
    n = len(problem.points)
    return data / n + problem.alpha * sum(p * p for p in flat)


def test_two_moons_is_seeded_and_balanced() -> None:
    points, labels = c.two_moons(40, 0.1, seed=3)
    assert (points, labels) == c.two_moons(40, 0.1, seed=3)
    assert points != c.two_moons(40, 0.1, seed=4)[0]
    assert labels == [-1.0] * 20 + [1.0] * 20
    # without noise the moons are exact half circles of radius 1
    clean, _ = c.two_moons(40, 0.0, seed=3)
    assert all(math.isclose(math.hypot(x, y), 1.0) for x, y in clean[:20])
    assert all(math.isclose(math.hypot(x - 1.0, y - 0.5), 1.0) for x, y in clean[20:])


def test_hand_written_floats_follow_the_gradient_of_the_loss() -> None:
    problem = c.moons_problem(**TINY)
    floats = c.FloatMoons(problem)
    before = floats.parameters()
    loss = floats.step()
    assert loss == pytest.approx(plain_loss(problem, before), rel=1e-12)
    after = floats.parameters()
    h = 1e-6
    for i in range(len(before)):
        up, down = list(before), list(before)
        up[i] += h
        down[i] -= h
        numeric = (plain_loss(problem, up) - plain_loss(problem, down)) / (2 * h)
        used = (before[i] - after[i]) / problem.learning_rate
        assert used == pytest.approx(numeric, rel=1e-5, abs=1e-8), i


def run_in_lockstep(runners: list[Any], steps: int = 4) -> None:
    for step in range(steps):
        losses = {r.name: r.step() for r in runners}
        c.check_agree(f"loss at step {step + 1}", losses, tolerance=1e-12)
    params = [r.parameters() for r in runners]
    for theirs in params[1:]:
        assert theirs == pytest.approx(params[0], rel=1e-12, abs=1e-12)


def test_tinygrad_bp_and_hand_written_floats_train_alike() -> None:
    problem = c.moons_problem(**TINY)
    run_in_lockstep([c.TinygradMoons(problem), c.FloatMoons(problem)])


def test_the_traced_step_trains_as_tinygrad_bp_to_the_bit() -> None:
    problem = c.moons_problem(**TINY)
    ours, traced = c.TinygradMoons(problem), c.TracedMoons(problem)
    for _ in range(5):
        assert ours.step() == traced.step()
    assert ours.parameters() == traced.parameters()


def test_micrograd_trains_alike() -> None:
    pytest.importorskip("micrograd")
    problem = c.moons_problem(**TINY)
    run_in_lockstep([c.TinygradMoons(problem), c.MicrogradMoons(problem)])


def test_pytorch_scalars_train_alike() -> None:
    pytest.importorskip("torch")
    problem = c.moons_problem(**TINY)
    run_in_lockstep([c.TinygradMoons(problem), c.TorchMoons(problem)], steps=2)


def test_numpy_over_the_batch_trains_alike() -> None:
    pytest.importorskip("numpy")
    problem = c.moons_problem(**TINY)
    run_in_lockstep([c.TinygradMoons(problem), c.NumpyMoons(problem)])


def test_pytorch_tensors_over_the_batch_train_alike() -> None:
    pytest.importorskip("torch")
    problem = c.moons_problem(**TINY)
    run_in_lockstep([c.TinygradMoons(problem), c.TorchTensorMoons(problem)])


def test_the_batched_trace_trains_alike() -> None:
    problem = c.moons_problem(**TINY)
    run_in_lockstep([c.TinygradMoons(problem), c.BatchedMoons(problem)])


def digits_losses(contender: Any, batches: int = 2) -> list[float]:
    return list(contender.epoch(batches))


def test_every_digits_contender_gives_the_same_losses() -> None:
    problem = c.digits_problem(limit=64, batch_size=16)
    reference = digits_losses(c.TinygradDigits(problem, "interpreted"), 4)
    assert len(reference) == 4 and reference[-1] < reference[0]  # it learns
    others = [c.TinygradDigits(problem, "traced"), c.TinygradDigits(problem, "batched")]
    others.append(c.NumpyDigits(problem))
    if importlib.util.find_spec("torch") is not None:
        others.append(c.TorchDigits(problem))
    for contender in others:
        for ours, theirs in zip(reference, digits_losses(contender, 4)):
            assert theirs == pytest.approx(ours, rel=1e-12), contender.name
    if importlib.util.find_spec("micrograd") is not None:
        theirs = digits_losses(c.MicrogradDigits(problem), 1)
        assert theirs[0] == pytest.approx(reference[0], rel=1e-12)


def test_elementwise_graph_same_in_micrograd_and_tinygrad_bp() -> None:
    pytest.importorskip("micrograd")
    from micrograd.engine import Value as MValue

    width, depth = 6, 4
    ours, h0, w = c.elementwise_graph(Value, Value.tanh, width, depth, seed=1)
    theirs, mh0, mw = c.elementwise_graph(MValue, c.micrograd_tanh, width, depth, seed=1)
    # every op is one node here, none for the plain numbers
    assert len(topological_order(ours, leaves=False)) == c.elementwise_ops(width, depth)
    ours.backward()
    theirs.backward()
    assert ours.data == pytest.approx(theirs.data, rel=1e-13)
    for a, b in zip([*h0, *w], [*mh0, *mw]):
        assert a.grad == pytest.approx(b.grad, rel=1e-12, abs=1e-15)


def test_elementwise_gradient_against_central_differences() -> None:
    def graph(delta: float) -> tuple[Value, list[Value]]:
        # The builder makes its leaves through this, h0[0] first: nudge that one.
        made: list[Value] = []

        def value(x: float) -> Value:
            made.append(Value(x + delta if not made else x))
            return made[-1]

        root, _, _ = c.elementwise_graph(value, Value.tanh, 3, 2, seed=1)
        return root, made

    root, leaves = graph(0.0)
    root.backward()
    h = 1e-6
    numeric = (graph(h)[0].data - graph(-h)[0].data) / (2 * h)
    assert leaves[0].grad == pytest.approx(numeric, rel=1e-6)
    assert leaves[0].grad != 0.0


def test_the_chain_has_its_closed_form_gradient() -> None:
    y, x = c.chain(2001)
    y.backward()
    assert x.grad == pytest.approx(c.chain_gradient(2001), rel=1e-12)
    assert c.chain_gradient(2001) == pytest.approx(0.999999**1001, rel=1e-15)


def test_micrograd_cannot_go_deep() -> None:
    pytest.importorskip("micrograd")
    y, _ = c.micrograd_chain(5_000)
    with pytest.raises(RecursionError):
        y.backward()


def test_article_loop_on_floats_gives_the_articles_figures() -> None:
    assert round(c.article_floats(1), 9) == 0.291027774
    assert c.article_floats(10_000) == pytest.approx(3.5101878e-05, rel=1e-7)
    assert c.article_floats(50) == pytest.approx(c.article_tinygrad(50), rel=1e-12)
    assert c.article_traced(50) == c.article_tinygrad(50)


def test_check_agree_fails_loudly() -> None:
    c.check_agree("x", {"a": 3.0, "b": 3.0, "c": 3.0 + 1e-12})
    with pytest.raises(c.AgreementError, match="x: c gives 3.5, a gives 3.0"):
        c.check_agree("x", {"a": 3.0, "b": 3.0, "c": 3.5})
    with pytest.raises(c.AgreementError, match="nan"):
        c.check_agree("x", {"a": 1.0, "b": math.nan})
    # relative above 1: 1e6 and 1e6 + 1e-4 agree to 1e-9 of their size; + 1e-2 do not
    with pytest.raises(c.AgreementError):
        c.check_agree("x", {"a": 1e6, "b": 1e6 + 1e-2})
    c.check_agree("x", {"a": 1e6, "b": 1e6 + 1e-4})


def test_the_contenders_module_examples() -> None:
    failures, tried = doctest.testmod(c)
    assert tried > 0 and failures == 0


def test_an_earlier_checkout_is_timed_alongside_and_must_agree(tmp_path: Path) -> None:
    # --before runs another checkout's tinygrad_bp in a process of its own; here this
    # very checkout, which must reach the same losses (the run stops otherwise).
    import subprocess

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "run.py"), "--quick", "--only", "moons",
         "--before", str(root), "--json", str(tmp_path / "run.json")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "| tinygrad_bp before " in out.stdout and "FAILED" not in out.stdout
