"""Whether ops record the graph: always, except inside ``no_grad()``.

>>> from tinygrad_bp import Value
>>> w = Value(1.0)
>>> with no_grad():
...     y = w * 2
...     recording = is_grad_enabled()
>>> y.data, y.parents, recording, is_grad_enabled()
(2.0, (), False, True)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# Read by every op as it runs (engine.Op); False inside no_grad().
enabled = True


def is_grad_enabled() -> bool:
    """Whether ops record the graph now: False inside ``no_grad()``."""
    return enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """A context in which ops compute values but record no graph.

    Use it for evaluation and for parameter updates. Not thread-safe: it
    switches graph recording off for the whole interpreter.
    """
    global enabled
    previous, enabled = enabled, False
    try:
        yield
    finally:
        enabled = previous
