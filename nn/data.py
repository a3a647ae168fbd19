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

import csv
import gzip
import hashlib
import io
import math
import numbers
import os
import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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


def make_circles(
    n: int = 100, noise: float = 0.05, seed: int = 0, *, signed: bool = False
) -> Dataset:
    """A disc of one class inside a ring of the other (TensorFlow Playground's "circle").

    Class 1 lies within radius 0.5 of the origin, class 0 on the ring from
    radius 0.7 to 1; radius and angle are drawn uniformly (seeded), then
    every coordinate jittered by Gaussian noise.

    >>> X, y = make_circles(200, noise=0.0)
    >>> inside = [math.hypot(a, b) for (a, b), c in zip(X, y) if c == 1]
    >>> ring = [math.hypot(a, b) for (a, b), c in zip(X, y) if c == 0]
    >>> max(inside) <= 0.5 and 0.7 <= min(ring) and max(ring) <= 1.0
    True
    """
    _check("make_circles", n, noise, seed)
    rng = random.Random(seed)
    points = []
    for c, count, low, high in ((1, n // 2, 0.0, 0.5), (0, n - n // 2, 0.7, 1.0)):
        for _ in range(count):
            r, angle = rng.uniform(low, high), rng.uniform(0.0, 2.0 * math.pi)
            points.append((r * math.cos(angle), r * math.sin(angle), c))
    return _finish(points, noise, rng, signed)


def make_gauss(n: int = 100, noise: float = 0.3, seed: int = 0, *, signed: bool = False) -> Dataset:
    """Two Gaussian clouds, class 0 around (−0.6, −0.6) and class 1 around (0.6, 0.6).

    ``noise`` is each cloud's standard deviation (TensorFlow Playground's
    "Gaussian" data): at 0 every point sits on its centre.

    >>> X, y = make_gauss(4, noise=0.0)
    >>> sorted((a, b, c) for (a, b), c in zip(X, y))
    [(-0.6, -0.6, 0), (-0.6, -0.6, 0), (0.6, 0.6, 1), (0.6, 0.6, 1)]
    """
    _check("make_gauss", n, noise, seed)
    points = [(-0.6, -0.6, 0)] * (n - n // 2) + [(0.6, 0.6, 1)] * (n // 2)
    return _finish(points, noise, random.Random(seed), signed)


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": make_moons,
    "xor": make_xor,
    "spirals": make_spirals,
    "circles": make_circles,
    "gauss": make_gauss,
}


# -- engineered inputs: what TensorFlow Playground offers besides x₁ and x₂ ----------------
# name -> (what a page shows, the function of the point). Each is computed from
# the two coordinates before the network sees them: the network's inputs.
FEATURES: dict[str, tuple[str, Callable[[float, float], float]]] = {
    "x1": ("x₁", lambda a, b: a),
    "x2": ("x₂", lambda a, b: b),
    "x1sq": ("x₁²", lambda a, b: a * a),
    "x2sq": ("x₂²", lambda a, b: b * b),
    "x1x2": ("x₁x₂", lambda a, b: a * b),
    "sin1": ("sin x₁", lambda a, b: math.sin(a)),
    "sin2": ("sin x₂", lambda a, b: math.sin(b)),
}
DEFAULT_FEATURES = ("x1", "x2")


def parse_features(text: str | Sequence[str]) -> tuple[str, ...]:
    """Feature names from ``"x1,x2,x1x2"`` (or a list of them): checked, in order, once each.

    >>> parse_features("x1, x2,sin1")
    ('x1', 'x2', 'sin1')
    >>> parse_features("x3")
    Traceback (most recent call last):
    ...
    ValueError: unknown feature 'x3'; expected some of x1, x2, x1sq, x2sq, x1x2, sin1, sin2
    """
    parts = text.split(",") if isinstance(text, str) else text
    names = [t.strip() if isinstance(t, str) else t for t in parts]
    known = ", ".join(FEATURES)
    if not names or names == [""]:
        raise ValueError(f"no features given; expected some of {known}")
    for name in names:
        if not isinstance(name, str) or name not in FEATURES:  # a page may send any JSON
            raise ValueError(f"unknown feature {repr(name)[:40]}; expected some of {known}")
    if len(set(names)) != len(names):
        raise ValueError(f"a feature is named twice in {','.join(names)}")
    return tuple(names)


def with_features(X: Sequence[Sequence[float]], features: Sequence[str]) -> list[list[float]]:
    """Each point (x₁, x₂) as the network's inputs: the named features, in order.

    >>> with_features([[2.0, 3.0]], ["x1", "x1x2", "x2sq"])
    [[2.0, 6.0, 9.0]]
    """
    functions = [FEATURES[name][1] for name in parse_features(features)]
    return [[f(a, b) for f in functions] for a, b in X]


# -- the digits: real handwriting, stored in the package ---------------------------------------
DIGITS_FILE = "digits/digits.u8.gz"  # beside this module; its README.txt gives credit and licence
DIGITS_ROWS, DIGITS_PIXELS, DIGITS_CLASSES = 1797, 64, 10
DIGITS_MAX = 16  # a pixel counts the ink in a 4×4 block of the original 32×32 bitmap
# The file's bytes once unzipped: any change, however small, is refused rather than learnt from.
DIGITS_SHA256 = "68aea062d35a127749050fa0e52dca09d6569ac08092c925610e0954e172dde2"
# scikit-learn's train_test_split(test_size=0.25) puts 450 of 1,797 in the test set, as here.
TEST_FRACTION = 0.25


class DataFileError(ValueError):
    """A data file that cannot be used as it is (damaged, ragged, not numbers); one line."""


def _digits_bytes(raw: bytes | None = None) -> bytes:
    """The digits file's bytes, unzipped and checked (``raw``: the zipped bytes, for tests)."""
    from importlib.resources import files

    where = f"the digits file nn/{DIGITS_FILE}"
    if raw is None:
        raw = files(__package__ or "nn").joinpath(DIGITS_FILE).read_bytes()
    expected = DIGITS_ROWS * (DIGITS_PIXELS + 1)
    try:
        # At most one byte more than expected is unzipped: a damaged file cannot fill the memory.
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            data = f.read(expected + 1)
            f.read()  # to the end, so that gzip checks the stream's CRC and length
    except (OSError, EOFError, zlib.error) as e:
        raise DataFileError(
            f"{where} is damaged (not a whole gzip stream: {e}); reinstall"
        ) from None
    if len(data) != expected:
        raise DataFileError(
            f"{where} is damaged: expected {DIGITS_ROWS:,} rows of {DIGITS_PIXELS + 1} bytes "
            f"({expected:,} bytes), got {len(data):,}{'+' if len(data) > expected else ''} bytes; "
            "reinstall"
        )
    width = DIGITS_PIXELS + 1
    for i in range(DIGITS_ROWS):
        row = data[i * width : (i + 1) * width]
        if max(row[:-1]) > DIGITS_MAX or row[-1] >= DIGITS_CLASSES:
            raise DataFileError(
                f"{where} is damaged: row {i} holds a pixel above {DIGITS_MAX} or a label "
                f"above {DIGITS_CLASSES - 1}; reinstall"
            )
    if hashlib.sha256(data).hexdigest() != DIGITS_SHA256:
        raise DataFileError(f"{where} is damaged: its checksum is not the dataset's; reinstall")
    return data


def load_digits(*, scaled: bool = True) -> Dataset:
    """The 1,797 handwritten digits as scikit-learn ships them, read from this package.

    The UCI "Optical Recognition of Handwritten Digits" test set (E. Alpaydin
    and C. Kaynak, 1998; CC BY 4.0, see nn/digits/README.txt): 8×8 images
    of the digits 0..9 written by 43 people. ``X[n]`` is image n's 64 pixels
    row by row, divided by 16 so that they lie in [0, 1] (``scaled=False``:
    the counts 0..16 as they are stored); ``y[n]`` its digit. No download
    and no scikit-learn: the file (46 KB) is in the package, and it is
    checked on every load (size, values, SHA-256), so a damaged copy is a
    DataFileError, never a quietly different dataset.

    >>> X, y = load_digits()
    >>> len(X), len(X[0]), y[:10]
    (1797, 64, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> load_digits(scaled=False)[0][0][:8], max(X[0])
    ([0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0], 0.9375)
    """
    data = _digits_bytes()
    width = DIGITS_PIXELS + 1
    scale = 1.0 / DIGITS_MAX if scaled else 1.0  # 1/16 is exact: the pixels are k/16 exactly
    X = [
        [p * scale for p in data[i * width : i * width + DIGITS_PIXELS]] for i in range(DIGITS_ROWS)
    ]
    y = [data[i * width + DIGITS_PIXELS] for i in range(DIGITS_ROWS)]
    return X, y


Split = tuple[list[list[float]], list[int], list[list[float]], list[int]]


def train_test_split(
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    *,
    test_fraction: float = TEST_FRACTION,
    seed: int = 0,
) -> Split:
    """A seeded shuffle cut into ``(X_train, y_train, X_test, y_test)``.

    The test set gets ⌈test_fraction·n⌉ points (as scikit-learn's
    ``train_test_split``), at least one, and the training set at least one;
    the same data and seed always give the same split.

    >>> X_train, y_train, X_test, y_test = train_test_split(*load_digits())
    >>> len(X_train), len(X_test)
    (1347, 450)
    """
    if len(X) != len(y):
        raise ValueError(
            f"train_test_split: expected one label per point, got {len(X)} points, {len(y)}"
        )
    if len(X) < 2:
        raise ValueError(
            f"train_test_split: expected at least 2 points (to train, to test), got {len(X)}"
        )
    if not (isinstance(test_fraction, float) and 0.0 < test_fraction < 1.0):
        raise ValueError(
            f"train_test_split: test_fraction must lie in (0, 1), got {test_fraction!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"train_test_split: seed must be a whole number, got {seed!r}")
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    n_test = min(max(math.ceil(test_fraction * len(X)), 1), len(X) - 1)
    train, test = order[n_test:], order[:n_test]
    return (
        [list(X[i]) for i in train],
        [y[i] for i in train],
        [list(X[i]) for i in test],
        [y[i] for i in test],
    )


# -- a user's own table --------------------------------------------------------------------------
# Bounds, so that a wrong file (a log, a database dump) is refused before it fills the memory:
# the points as train's --points, and what an MLP of this package can learn from in minutes.
MAX_ROWS = 100_000
MAX_FEATURES = 1_000
MAX_CLASSES = 100
MAX_CSV_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Table:
    """A labelled table read by ``read_csv``: points, class indices and what they stand for.

    ``y[n]`` is an index into ``classes``, the labels of the file in
    increasing order (a file labelled 3 and 7 has classes [3, 7] and y in
    0..1); ``header`` is the first row's names, or () if it held numbers.
    """

    X: list[list[float]]
    y: list[int]
    classes: list[int]
    header: tuple[str, ...] = ()


def read_csv(path: str | os.PathLike[str]) -> Table:
    """A comma-separated table of numbers, the last column a whole-number class label.

    A first row that is not all numbers is taken as the header. Every
    other row must have as many fields as the first and hold finite
    numbers only; blank lines are skipped. Each refusal is a one-line
    DataFileError naming the file, the line and what is wrong. At most
    MAX_ROWS rows, MAX_FEATURES columns before the label and MAX_CLASSES
    classes, and at least two classes.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "t.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("x1,x2,label\\n0.5,1,3\\n-2,0,7\\n")
    ...     table = read_csv(path)
    >>> table.X, table.y, table.classes, table.header
    ([[0.5, 1.0], [-2.0, 0.0]], [0, 1], [3, 7], ('x1', 'x2', 'label'))
    """
    name = os.fspath(path)
    with open(name, "rb") as f:
        raw = f.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise DataFileError(f"{name}: larger than {MAX_CSV_BYTES // 2**20} MB; give a smaller file")
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark, as spreadsheets write, is no field
    except UnicodeDecodeError as e:
        raise DataFileError(
            f"{name}: not UTF-8 text (byte {e.start}); save it as UTF-8 CSV"
        ) from None
    try:
        # A row of empty fields is a blank line too (a spreadsheet's trailing ",,,").
        rows = [
            (k, row)
            for k, row in enumerate(csv.reader(io.StringIO(text)), start=1)
            if any(field.strip() for field in row)
        ]
    except csv.Error as e:  # a NUL byte, a field past the csv module's limit
        raise DataFileError(f"{name}: not a CSV table ({e})") from None
    if not rows:
        raise DataFileError(f"{name}: the file is empty; expected rows of numbers, the label last")
    header: tuple[str, ...] = ()
    if any(_number(field) is None for field in rows[0][1]):
        header = tuple(field.strip() for field in rows[0][1])
        rows = rows[1:]
    width = len(header) if header else len(rows[0][1])
    if not rows:
        raise DataFileError(f"{name}: only a header row; expected rows of numbers below it")
    if width < 2:
        raise DataFileError(
            f"{name}: line {rows[0][0]} has {width} field; expected at least one feature "
            "and the label"
        )
    if width - 1 > MAX_FEATURES:
        raise DataFileError(f"{name}: {width - 1:,} features; at most {MAX_FEATURES:,}")
    if len(rows) > MAX_ROWS:
        raise DataFileError(f"{name}: {len(rows):,} rows; at most {MAX_ROWS:,}")
    X: list[list[float]] = []
    labels: list[int] = []
    for line, row in rows:
        if len(row) != width:
            raise DataFileError(
                f"{name}: line {line} has {len(row)} fields, expected {width} "
                f"(as {'the header' if header else 'line ' + str(rows[0][0])})"
            )
        values = []
        for column, field in enumerate(row, start=1):
            x = _number(field)
            if x is None:
                raise DataFileError(
                    f"{name}: line {line}, column {column}: {field.strip()[:40]!r} is not a number"
                )
            if not math.isfinite(x):
                raise DataFileError(
                    f"{name}: line {line}, column {column}: {field.strip()[:40]!r}; "
                    "expected a finite number (no NaN or infinity)"
                )
            values.append(x)
        label = values.pop()
        if label != int(label) or abs(label) > 2**53:
            raise DataFileError(
                f"{name}: line {line}: the label (last column) {row[-1].strip()[:40]!r} is not "
                "a whole number; expected a class such as 0, 1, 2"
            )
        X.append(values)
        labels.append(int(label))
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise DataFileError(
            f"{name}: every row has the label {classes[0]}; expected 2 classes or more"
        )
    if len(classes) > MAX_CLASSES:
        raise DataFileError(f"{name}: {len(classes):,} classes; at most {MAX_CLASSES}")
    index = {c: k for k, c in enumerate(classes)}
    return Table(X, [index[c] for c in labels], classes, header)


def _number(field: str) -> float | None:
    """The field's number, or None if it is not one (NaN and inf ARE numbers here)."""
    try:
        return float(field)
    except ValueError:
        return None


def standardize(
    train: Sequence[Sequence[float]], *others: Sequence[Sequence[float]]
) -> list[list[list[float]]]:
    """Each column shifted and scaled to mean 0, deviation 1 over ``train``; ``others`` alike.

    Only the training points set the shift and scale, so that nothing of the
    test set leaks into training. A constant column is only shifted.

    >>> standardize([[1.0, 5.0], [3.0, 5.0]], [[2.0, 6.0]])
    [[[-1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0]]]
    """
    n = len(train)
    columns = list(zip(*train))
    means = [math.fsum(c) / n for c in columns]
    scales = []
    for c, m in zip(columns, means):
        sd = math.sqrt(math.fsum((v - m) ** 2 for v in c) / n)
        scales.append(1.0 / sd if sd > 0.0 else 1.0)
    return [
        [[(v - m) * s for v, m, s in zip(row, means, scales)] for row in points]
        for points in (train, *others)
    ]
