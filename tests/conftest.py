"""Fixtures shared by the test files."""

from __future__ import annotations

import pytest

from nn import MLP, mazur
from tinygrad_bp import Value
from tinygrad_bp.graph import topological_order


@pytest.fixture
def article() -> tuple[MLP, Value, dict[str, Value]]:
    """The article's network after one backward pass, and its nodes by label."""
    model, step = mazur.backpropagated()
    nodes = {n.label: n for n in topological_order(step.E_total) if n.label}
    return model, step.E_total, nodes


@pytest.fixture
def mlp_loss() -> tuple[MLP, Value]:
    """micrograd's 2-16-16-1 MLP, a squared loss over four points, after backward().

    610 nodes: past the drawing limit, 145 with neurons collapsed.
    """
    model = MLP(2, [16, 16, 1], seed=0)
    points = [([0.5, -1.0], 1.0), ([1.0, 0.5], -1.0), ([-0.3, 0.8], 0.5), ([0.9, 0.1], 0.0)]
    loss = sum(((model(x) - y) ** 2 for x, y in points), Value(0.0))
    assert isinstance(loss, Value)
    loss.label = "loss"
    loss.backward()
    return model, loss
