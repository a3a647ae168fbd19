"""Loss functions, as plain functions of Values.

>>> from tinygrad_bp import Value
>>> from nn.losses import half_squared_error
>>> out = Value(0.75)
>>> E = half_squared_error([out], [0.25])
>>> E.data
0.125
>>> E.backward(); out.grad
0.5
"""

from __future__ import annotations

from collections.abc import Sequence

from tinygrad_bp import Value, op, total

Operand = Value | float | int


@op(name="½(t−o)²")
def _half_squared(out: float, target: float) -> tuple[float, tuple[float, float]]:
    # ∂E/∂out = −(target − out): the article's ∂E_total/∂out_o1.
    diff = out - target
    return 0.5 * diff * diff, (diff, -diff)


def half_squared_errors(outputs: Sequence[Operand], targets: Sequence[Operand]) -> list[Value]:
    """½(target − out)² for each output, one node each (the article's E_o1, E_o2)."""
    if len(outputs) != len(targets):
        raise ValueError(
            f"half_squared_errors: expected one target per output, got {len(outputs)} "
            f"outputs and {len(targets)} targets"
        )
    return [_half_squared(o, t) for o, t in zip(outputs, targets)]


def half_squared_error(outputs: Sequence[Operand], targets: Sequence[Operand]) -> Value:
    """The article's error, E_total = Σ ½(target − out)²."""
    return total(half_squared_errors(outputs, targets))
