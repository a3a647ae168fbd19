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
    from nn.data import make_circles, make_gauss

    assert DATASETS == {
        "moons": make_moons,
        "xor": make_xor,
        "spirals": make_spirals,
        "circles": make_circles,
        "gauss": make_gauss,
    }


# -- circles, the Gaussian pair, and the engineered features ------------------------------


def test_circles_are_a_disc_inside_a_ring() -> None:
    from nn.data import make_circles

    X, y = make_circles(400, noise=0.0, seed=3)
    radii = {c: [math.hypot(a, b) for (a, b), k in zip(X, y) if k == c] for c in (0, 1)}
    assert len(radii[0]) == len(radii[1]) == 200
    assert max(radii[1]) <= 0.5 and min(radii[0]) >= 0.7 and max(radii[0]) <= 1.0
    assert make_circles(400, noise=0.0, seed=3) == (X, y)  # seeded
    assert make_circles(400, noise=0.0, seed=4) != (X, y)
    noisy, _ = make_circles(400, noise=0.1, seed=3)
    assert max(math.hypot(a, b) for a, b in noisy) > 1.0


def test_the_gaussian_pair_has_its_centres_and_spread() -> None:
    from nn.data import make_gauss

    X, y = make_gauss(2000, noise=0.3, seed=1, signed=True)
    for label, centre in ((-1, -0.6), (1, 0.6)):
        xs = [a for (a, _), c in zip(X, y) if c == label]
        mean = sum(xs) / len(xs)
        sd = math.sqrt(sum((a - mean) ** 2 for a in xs) / len(xs))
        assert abs(mean - centre) < 0.03 and abs(sd - 0.3) < 0.03


@pytest.mark.parametrize("make", ["make_circles", "make_gauss"])
def test_the_new_datasets_check_their_arguments(make: str) -> None:
    import nn.data

    with pytest.raises(ValueError, match=f"{make}: noise must be a finite number >= 0"):
        getattr(nn.data, make)(10, noise=-1.0)
    with pytest.raises(ValueError, match=f"{make}: n must be a whole number of at least 2"):
        getattr(nn.data, make)(1)


def test_features_are_computed_from_each_point() -> None:
    from nn.data import FEATURES, parse_features, with_features

    inputs = with_features([[0.5, -2.0]], list(FEATURES))
    assert inputs == [[0.5, -2.0, 0.25, 4.0, -1.0, math.sin(0.5), math.sin(-2.0)]]
    assert parse_features(" x1x2 ,sin2") == ("x1x2", "sin2")
    with pytest.raises(ValueError, match="a feature is named twice"):
        parse_features("x1,x1")
    with pytest.raises(ValueError, match="no features given"):
        parse_features("")
    with pytest.raises(ValueError, match="unknown feature 1; expected some of x1"):
        parse_features([1])  # type: ignore[list-item]
