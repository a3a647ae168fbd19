"""Small two-class datasets in the plane, in pure Python and seeded.

Each function returns ``(X, y)``: ``X`` a list of [x₁, x₂] points, ``y`` a
list of class labels, 0/1 by default or −1/+1 with ``signed=True`` (what the
hinge loss wants). The same arguments always give the same points; the
classes are balanced (sizes differ by at most one) and the points shuffled.

>>> from nn.data import make_moons
>>> X, y = make_moons(6, noise=0.0, seed=0, signed=True)
>>> len(X), sorted(y)
(6, [-1, -1, -1, 1, 1, 1])
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable

Dataset = tuple[list[list[float]], list[int]]


def _check(where: str, n: object, noise: object, seed: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"{where}: n must be a whole number of at least 2, got {n!r}")
    if (
        isinstance(noise, bool)
        or not isinstance(noise, numbers.Real)
        or not math.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(f"{where}: noise must be a finite number >= 0, got {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"{where}: seed must be a whole number, got {seed!r}")


def _finish(
    points: list[tuple[float, float, int]], noise: float, rng: random.Random, signed: bool
) -> Dataset:
    """Jitter every coordinate by N(0, noise²), shuffle, split into X and y."""
    rng.shuffle(points)
    X = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for a, b, _ in points]
    y = [(2 * c - 1) if signed else c for _, _, c in points]
    return X, y


def _spread(k: int, count: int) -> float:
    """The k-th of ``count`` evenly spaced points of [0, 1], ends included."""
    return k / (count - 1) if count > 1 else 0.0


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0, *, signed: bool = False) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons``, without it).

    Class 0 is the upper half of the unit circle; class 1 the lower half of a
    unit circle centred at (1, 0.5), so the moons interlock. The points are
    spread evenly along each arc, then jittered by Gaussian noise.

    >>> X, y = make_moons(4, noise=0.0)
    >>> sorted((round(a, 9), round(b, 9), c) for (a, b), c in zip(X, y))
    [(-1.0, 0.0, 0), (0.0, 0.5, 1), (1.0, 0.0, 0), (2.0, 0.5, 1)]
    """
    _check("make_moons", n, noise, seed)
    n_upper = n // 2
    n_lower = n - n_upper
    points = []
    for k in range(n_upper):
        angle = math.pi * _spread(k, n_upper)
        points.append((math.cos(angle), math.sin(angle), 0))
    for k in range(n_lower):
        angle = math.pi * _spread(k, n_lower)
        points.append((1.0 - math.cos(angle), 0.5 - math.sin(angle), 1))
    return _finish(points, noise, random.Random(seed), signed)


def make_xor(n: int = 100, noise: float = 0.2, seed: int = 0, *, signed: bool = False) -> Dataset:
    """Clusters around the four corners (±1, ±1); class 1 where the signs differ.

    The corners take turns, so each gets n/4 points (±1): the exclusive-or
    of "x₁ > 0" and "x₂ > 0", which no single linear boundary separates.

    >>> X, y = make_xor(4, noise=0.0)
    >>> sorted((a, b, c) for (a, b), c in zip(X, y))
    [(-1.0, -1.0, 0), (-1.0, 1.0, 1), (1.0, -1.0, 1), (1.0, 1.0, 0)]
    """
    _check("make_xor", n, noise, seed)
    corners = [(1.0, 1.0, 0), (-1.0, -1.0, 0), (1.0, -1.0, 1), (-1.0, 1.0, 1)]
    # Alternate classes (0, 1, 0, 1, ...) so they stay balanced for any n.
    order = [corners[0], corners[2], corners[1], corners[3]]
    points = [order[k % 4] for k in range(n)]
    return _finish(points, noise, random.Random(seed), signed)


def make_spirals(
    n: int = 100, noise: float = 0.02, seed: int = 0, *, turns: float = 1.0, signed: bool = False
) -> Dataset:
    """Two spiral arms winding around each other, one per class.

    Arm 0 runs from near the origin out to radius 1 through ``turns`` full
    turns; arm 1 is arm 0 rotated by half a turn. Points are spread evenly
    along each arm (starting a little way out, where the arms are apart).

    >>> X, y = make_spirals(2, noise=0.0)
    >>> [(round(a, 9), round(b, 9), c) for (a, b), c in sorted(zip(X, y), key=lambda p: p[1])]
    [(1.0, -0.0, 0), (-1.0, 0.0, 1)]
    """
    _check("make_spirals", n, noise, seed)
    if (
        isinstance(turns, bool)
        or not isinstance(turns, numbers.Real)
        or not (math.isfinite(turns) and turns > 0)
    ):
        raise ValueError(f"make_spirals: turns must be a positive number, got {turns!r}")
    points = []
    for c, count in ((0, n - n // 2), (1, n // 2)):
        for k in range(count):
            # t runs from 0 to 1 along the arm: the radius from 0.1 to 1 and the
            # angle through ``turns`` full turns.
            t = _spread(k, count) if count > 1 else 1.0
            r = 0.1 + 0.9 * t
            angle = 2.0 * math.pi * turns * t + math.pi * c
            points.append((r * math.cos(angle), r * math.sin(angle), c))
    return _finish(points, noise, random.Random(seed), signed)


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": make_moons,
    "xor": make_xor,
    "spirals": make_spirals,
}
