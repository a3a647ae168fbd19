"""Fixtures shared by the test files."""

from __future__ import annotations

import pytest

from nn import MLP, mazur
from tinygrad_bp import Value, topological_order


@pytest.fixture
def article() -> tuple[MLP, Value, dict[str, Value]]:
    """The article's network after one backward pass, and its nodes by label."""
    model, step = mazur.backpropagated()
    nodes = {n.label: n for n in topological_order(step.E_total) if n.label}
    return model, step.E_total, nodes
