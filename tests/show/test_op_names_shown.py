"""Every op is shown by its name, with its local derivative, wherever the graph is read.

The math module's ops (``sin``, ``sqrt``, ``atan2``, ...) were added after
drawing, explaining and the stepper were written; nothing in those lists
ops by name, so each new op must come out as any other does.
"""

from __future__ import annotations

import math

import pytest

from tinygrad_bp import Value, atan2, draw, explain
from tinygrad_bp import ops as functions
from tinygrad_bp.show import Stepper


def neuron_of(op_name: str) -> tuple[Value, Value, float]:
    """out = op(3·x) at x = 0.5, backpropagated; and ∂out/∂(3x) by the op's rule."""
    x = Value(0.5, "x")
    inner = 3 * x
    out = getattr(inner, op_name)()
    out.label = "out"
    out.backward()
    return out, x, out.local_grads[0]


@pytest.mark.parametrize("name", ["sin", "sqrt", "log1p", "softplus", "atan"])
def test_drawing_names_the_op_and_labels_its_edge(name: str) -> None:
    out, _, local = neuron_of(name)
    source = draw(out, edge_labels=True).source
    assert f"label=<{name}>" in source
    assert f"label={local:.4f}" in source


@pytest.mark.parametrize("name", ["sin", "sqrt", "cosh"])
def test_the_stepper_writes_a_function_op_as_a_call(name: str) -> None:
    out, _, local = neuron_of(name)
    texts = [step.text for step in Stepper(out).steps]
    forward = next(t for t in texts if t.startswith("out = "))
    assert forward.splitlines()[0] == f"out = {name}([*])"
    assert forward.splitlines()[1].strip().startswith(f"= {name}(1.5) = ")
    assert any(f"the local derivative of {name}" in t for t in texts)


def test_explain_writes_the_chain_through_a_math_op() -> None:
    out, x, local = neuron_of("sin")
    text = explain(out, x)
    assert f"{local:.9f} × 3 = {3 * math.cos(1.5):.9f}" in text


def test_an_op_of_two_values_is_a_call_too() -> None:
    y, x = Value(1.0, "y"), Value(2.0, "x")
    out = atan2(y, x)
    out.label = "out"
    out.backward()
    forward = next(s.text for s in Stepper(out).steps if s.text.startswith("out = "))
    assert forward.splitlines()[0] == "out = atan2(y, x)"
    assert functions.atan2 is atan2
