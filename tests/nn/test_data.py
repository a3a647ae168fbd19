"""The datasets: shapes, labels, seeds, geometry and noise."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable

import pytest

from nn.data import DATASETS, Dataset, make_moons, make_spirals, make_xor

MAKERS = [make_moons, make_xor, make_spirals]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("n", [2, 7, 100])
def test_sizes_balance_and_labels(make: Callable[..., Dataset], n: int) -> None:
    X, y = make(n, seed=3)
    assert len(X) == len(y) == n
    assert all(len(p) == 2 and all(isinstance(c, float) for c in p) for p in X)
    counts = Counter(y)
    assert set(counts) == {0, 1} and abs(counts[0] - counts[1]) <= 1
    Xs, ys = make(n, seed=3, signed=True)
    assert Xs == X and ys == [2 * c - 1 for c in y]


@pytest.mark.parametrize("make", MAKERS)
def test_seeded(make: Callable[..., Dataset]) -> None:
    a, b, c = make(50, 0.1, seed=7), make(50, 0.1, seed=7), make(50, 0.1, seed=8)
    assert a == b
    assert a != c


def test_noiseless_moons_lie_on_their_half_circles() -> None:
    X, y = make_moons(40, noise=0.0)
    for (a, b), c in zip(X, y):
        if c == 0:  # the upper half of the unit circle
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # the lower half of the unit circle about (1, 0.5)
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12
    assert min(a for a, _ in X) == pytest.approx(-1.0)
    assert max(a for a, _ in X) == pytest.approx(2.0)


@pytest.mark.parametrize("make", MAKERS)
def test_noise_is_gaussian_with_the_given_spread(make: Callable[..., Dataset]) -> None:
    # Same seed: same shuffle, same draws; the difference is the noise itself.
    clean, labels = make(2000, 0.0, seed=11)
    noisy, labels2 = make(2000, 0.1, seed=11)
    assert labels == labels2
    offsets = [n - c for p, q in zip(noisy, clean) for n, c in zip(p, q)]
    assert statistics.fmean(offsets) == pytest.approx(0.0, abs=4 * 0.1 / math.sqrt(4000))
    assert statistics.pstdev(offsets) == pytest.approx(0.1, rel=0.05)


def test_xor_corners_and_labels() -> None:
    X, y = make_xor(8, noise=0.0)
    assert Counter((a, b) for a, b in X) == {(1, 1): 2, (-1, -1): 2, (1, -1): 2, (-1, 1): 2}
    for (a, b), c in zip(X, y):
        assert c == int((a > 0) != (b > 0))
    # With noise, the labels still follow the corners the points came from.
    noisy, labels = make_xor(200, noise=0.2, seed=1)
    agree = sum(int((a > 0) != (b > 0)) == c for (a, b), c in zip(noisy, labels))
    assert agree >= 195


def test_spirals_are_two_arms_half_a_turn_apart() -> None:
    X, y = make_spirals(60, noise=0.0, turns=1.5)
    arm0 = sorted((round(a, 9), round(b, 9)) for (a, b), c in zip(X, y) if c == 0)
    arm1 = sorted((round(-a, 9), round(-b, 9)) for (a, b), c in zip(X, y) if c == 1)
    assert arm0 == arm1  # arm 1 is arm 0 turned by π
    radii = sorted(math.hypot(a, b) for a, b in X)
    assert radii[0] == pytest.approx(0.1) and radii[-1] == pytest.approx(1.0)
    for (a, b), c in zip(X, y):
        r = math.hypot(a, b)
        t = (r - 0.1) / 0.9  # how far along its arm
        expected = 2 * math.pi * 1.5 * t + math.pi * c
        turn = (math.atan2(b, a) - expected) / (2 * math.pi)
        assert turn == pytest.approx(round(turn), abs=1e-9)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_moons(1), "n must be a whole number of at least 2, got 1"),
        (lambda: make_moons(10.0), "n must be a whole number of at least 2, got 10.0"),
        (lambda: make_xor(True), "n must be a whole number"),
        (lambda: make_moons(10, noise=-0.1), "noise must be a finite number >= 0, got -0.1"),
        (lambda: make_xor(10, noise=math.nan), "noise must be a finite number >= 0, got nan"),
        (lambda: make_spirals(10, seed="1"), "seed must be a whole number, got '1'"),
        (lambda: make_spirals(10, turns=0), "turns must be a positive number, got 0"),
    ],
)
def test_bad_arguments_are_refused(call: Callable[[], Dataset], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_datasets_by_name() -> None:
    assert DATASETS == {"moons": make_moons, "xor": make_xor, "spirals": make_spirals}
