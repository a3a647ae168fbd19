"""A cross-check against PyTorch in float64: the same graphs, node by node.

The graphs are the ones tests/test_generated_graphs.py checks against finite
differences (tests/support/graphgen.py), drawn here from seeds 0..GRAPHS-1.
Each description is built once as tinygrad_bp Values and once as PyTorch
float64 tensors (``retain_grad`` on every intermediate); every node's value
and gradient must agree. The article's network is compared too.

The summary at the end of the session (tests/torch/conftest.py) says in how
many of the graphs checked each op appeared.

PyTorch is optional (``pip install ".[torch]"``); without it this module is
skipped, unless TINYGRAD_BP_REQUIRE_TORCH=1 (as CI sets it), which turns the
skip into a failure so that a missing install cannot pass silently.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from graphgen import VALUE_FUNCTIONS, Graph, OpTally, evaluate, random_graph
from torch_or_skip import require_torch  # tests/support

torch = require_torch("the cross-check")  # or this file is skipped
from torch_graphs import TORCH_FUNCTIONS  # noqa: E402  (tests/support; imports torch)

from nn import mazur  # noqa: E402  (after the skip: nothing to import if skipped)
from tinygrad_bp import Value, op  # noqa: E402
from tinygrad_bp.graph import topological_order  # noqa: E402

GRAPHS = 6000  # with 35 ops, each appears in about a thousand (the summary counts them)

# Relative agreement demanded of every value and gradient.
RTOL = 1e-9
# The absolute floor, for results near zero. Such a result is a difference of
# terms of ordinary size (every node stays below graphgen.BOUND = 50), e.g.
# n5 - n3 with n5 ≈ n3, or a gradient whose contributions cancel. Each engine
# rounds those terms to within an ulp (about 7e-15 at 50) in its own order, so
# the difference can disagree by that much however exact both are: relative
# agreement means nothing there. Measured over 20,000 graphs: the largest
# relative gap above 1e-3 is 8e-13, the largest absolute gap below 1e-3 is
# 2e-15; the floor of 1e-12 sits well above the second.
ATOL = 1e-12


def close(a: float, b: float) -> bool:
    return abs(a - b) <= ATOL + RTOL * max(abs(a), abs(b))


def in_torch(graph: Graph) -> list[Any]:
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in graph.inputs]
    nodes = evaluate(graph, leaves, TORCH_FUNCTIONS)
    for node in nodes[len(leaves) :]:
        node.retain_grad()
    nodes[-1].backward()
    return nodes


def in_tinygrad(graph: Graph, functions: dict[str, Any] = VALUE_FUNCTIONS) -> list[Value]:
    leaves = [Value(x) for x in graph.inputs]
    nodes = evaluate(graph, leaves, functions)
    nodes[-1].backward()
    return nodes


@pytest.mark.parametrize("seed", range(GRAPHS))
def test_a_generated_graph_agrees_with_torch_float64(seed: int, op_tally: OpTally) -> None:
    graph = random_graph(random.Random(seed))
    op_tally.add(graph)
    ours, theirs = in_tinygrad(graph), in_torch(graph)
    assert len(ours) == len(theirs)
    for k, (v, t) in enumerate(zip(ours, theirs)):
        assert t.dtype == torch.float64
        t_grad = 0.0 if t.grad is None else t.grad.item()
        assert close(v.data, t.item()), f"n{k}: data {v.data!r} vs torch {t.item()!r}\n{graph}"
        assert close(v.grad, t_grad), f"n{k}: grad {v.grad!r} vs torch {t_grad!r}\n{graph}"


def disagree(graph: Graph, functions: dict[str, Any]) -> bool:
    ours, theirs = in_tinygrad(graph, functions), in_torch(graph)
    return not all(
        close(v.grad, 0.0 if t.grad is None else t.grad.item()) for v, t in zip(ours, theirs)
    )


@op(name="tanh")
def _tanh_with_a_wrong_derivative(x: float) -> tuple[float, tuple[float]]:
    t = math.tanh(x)
    return t, (1.0 - t * t + 1.0,)  # off by one


def test_the_cross_check_catches_a_wrong_local_derivative() -> None:
    bad = {**VALUE_FUNCTIONS, "tanh": _tanh_with_a_wrong_derivative}
    live = []  # graphs where a tanh's gradient reaches the output
    for seed in range(100):
        graph = random_graph(random.Random(seed))
        nodes = in_tinygrad(graph)
        if any(n.op == "tanh" and abs(n.grad) > 1e-3 for n in nodes):
            live.append(graph)
    assert len(live) >= 10
    assert all(disagree(g, bad) for g in live)
    assert not any(disagree(g, VALUE_FUNCTIONS) for g in live)


def test_the_article_network_agrees_with_torch() -> None:
    model = mazur.network()
    step = mazur.forward(model)
    step.E_total.backward()
    ours = {n.label: n for n in topological_order(step.E_total) if n.label}

    def leaf(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    (w1, w2), (w3, w4) = [[leaf(w) for w in row] for row in mazur.WEIGHTS[0]]
    (w5, w6), (w7, w8) = [[leaf(w) for w in row] for row in mazur.WEIGHTS[1]]
    b1, b2 = leaf(mazur.BIASES[0]), leaf(mazur.BIASES[1])  # each shared by its layer
    i1, i2 = mazur.INPUTS
    t1, t2 = mazur.TARGETS
    net_h1 = w1 * i1 + w2 * i2 + b1
    net_h2 = w3 * i1 + w4 * i2 + b1
    out_h1, out_h2 = torch.sigmoid(net_h1), torch.sigmoid(net_h2)
    net_o1 = w5 * out_h1 + w6 * out_h2 + b2
    net_o2 = w7 * out_h1 + w8 * out_h2 + b2
    out_o1, out_o2 = torch.sigmoid(net_o1), torch.sigmoid(net_o2)
    E_o1, E_o2 = 0.5 * (t1 - out_o1) ** 2, 0.5 * (t2 - out_o2) ** 2
    E_total = E_o1 + E_o2
    named = dict(
        net_h1=net_h1, net_h2=net_h2, out_h1=out_h1, out_h2=out_h2,
        net_o1=net_o1, net_o2=net_o2, out_o1=out_o1, out_o2=out_o2,
        E_o1=E_o1, E_o2=E_o2,
    )  # fmt: skip
    for t in named.values():
        t.retain_grad()
    E_total.backward()
    named.update(w1=w1, w2=w2, w3=w3, w4=w4, w5=w5, w6=w6, w7=w7, w8=w8, b1=b1, b2=b2)

    assert close(step.E_total.data, E_total.item())
    for name, t in named.items():
        assert close(ours[name].data, t.item()), name
        assert t.grad is not None
        assert close(ours[name].grad, t.grad.item()), name
    # and both give the article's figures
    assert round(ours["w5"].grad, 9) == round(w5.grad.item(), 9) == 0.082167041
    assert round(ours["w1"].grad, 9) == round(w1.grad.item(), 9) == 0.000438568
