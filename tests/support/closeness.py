"""Numbers that agree to a relative tolerance: the batched trace against the engine.

The batched trace adds in another order (a matrix product, the batch's
sum), so its numbers are the engine's to about 1e-15 relative, not to the
bit. A gradient summed over a batch may come out near 0 from terms near 1,
so each number is held to the tolerance relative to itself or to the
largest number of its list, whichever is larger.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

RELATIVE = 1e-12


def flat(x: Any) -> list[float]:
    if isinstance(x, (int, float)):
        return [float(x)]
    out: list[float] = []
    for item in x if isinstance(x, Iterable) else [x]:
        out += flat(item)
    return out


def assert_close(a: Any, b: Any, rel: float = RELATIVE) -> None:
    """``a`` and ``b`` (numbers, or nested lists of them) agree to ``rel`` (see above)."""
    xs, ys = flat(a), flat(b)
    assert len(xs) == len(ys), f"{len(xs)} numbers against {len(ys)}"
    scale = max([abs(v) for v in xs + ys], default=0.0)
    for k, (x, y) in enumerate(zip(xs, ys)):
        allowed = rel * max(abs(x), abs(y), scale)
        assert abs(x - y) <= allowed, f"at {k}: {x!r} and {y!r} differ by {abs(x - y):.3g}"
