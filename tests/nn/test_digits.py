"""The digits in the package: the dataset scikit-learn ships, checked on load, and its split."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

import nn
from nn import data
from nn.data import DataFileError, load_digits, train_test_split

FILE = Path(data.__file__).parent / data.DIGITS_FILE


def test_the_shape_the_class_counts_and_the_pixels() -> None:
    X, y = load_digits(scaled=False)
    assert len(X) == len(y) == 1797 and {len(x) for x in X} == {64}
    # scikit-learn's load_digits: the same counts per digit, 0..9
    assert [y.count(k) for k in range(10)] == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert {p for x in X for p in x} == set(map(float, range(17)))
    assert sum(map(sum, X)) == 561_718
    pixels = bytes(int(p) for x in X for p in x)
    assert hashlib.sha256(pixels).hexdigest() == (
        "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"
    )
    # The first image, a 0, as scikit-learn's digits.images[0]
    assert X[0][:16] == [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]
    assert y[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_scaled_is_divided_by_16_exactly() -> None:
    raw, y_raw = load_digits(scaled=False)
    X, y = load_digits()
    assert y == y_raw
    assert all(a == b / 16 for x, r in zip(X, raw) for a, b in zip(x, r))
    assert min(map(min, X)) == 0.0 and max(map(max, X)) == 1.0


def test_the_split_is_1347_and_450_and_always_the_same() -> None:
    X, y = load_digits()
    first = train_test_split(X, y)
    X_train, y_train, X_test, y_test = first
    assert (len(X_train), len(y_train), len(X_test), len(y_test)) == (1347, 1347, 450, 450)
    assert train_test_split(X, y) == first  # the same seed, the same split
    assert train_test_split(X, y, seed=1) != first
    # Every image in exactly one part
    key = [tuple(x) + (t,) for x, t in zip(X, y)]
    parts = [tuple(x) + (t,) for x, t in zip(X_train + X_test, y_train + y_test)]
    assert sorted(parts) == sorted(key)
    assert sorted(set(y_test)) == list(range(10))  # every digit is tested
    assert [y_test.count(k) for k in range(10)] == [39, 37, 42, 49, 55, 40, 38, 51, 54, 45]


def test_the_split_refuses_what_it_cannot_cut() -> None:
    with pytest.raises(ValueError, match="at least 2 points"):
        train_test_split([[1.0]], [0])
    with pytest.raises(ValueError, match=r"test_fraction must lie in \(0, 1\)"):
        train_test_split([[1.0], [2.0]], [0, 1], test_fraction=1.0)
    assert [len(p) for p in train_test_split([[1.0], [2.0]], [0, 1])] == [1, 1, 1, 1]


def damaged(change: bytes) -> bytes:
    return gzip.compress(change, mtime=0)


def test_a_damaged_file_is_refused_with_a_clear_message() -> None:
    good = gzip.decompress(FILE.read_bytes())
    assert data._digits_bytes(FILE.read_bytes()) == good
    with pytest.raises(DataFileError, match="not a whole gzip stream"):
        data._digits_bytes(FILE.read_bytes()[:-100])  # cut short
    with pytest.raises(DataFileError, match="not a whole gzip stream"):
        data._digits_bytes(b"<html>404</html>")
    with pytest.raises(DataFileError, match="expected 1,797 rows of 65 bytes"):
        data._digits_bytes(damaged(good[:-65]))
    with pytest.raises(DataFileError, match=r"got 116,806\+ bytes"):
        data._digits_bytes(damaged(good + b"\0" * 1000))
    with pytest.raises(DataFileError, match="row 0 holds a pixel above 16"):
        data._digits_bytes(damaged(bytes([17]) + good[1:]))
    with pytest.raises(DataFileError, match="row 1 holds .* a label above 9"):
        data._digits_bytes(damaged(good[:129] + bytes([10]) + good[130:]))
    with pytest.raises(DataFileError, match="checksum"):
        data._digits_bytes(damaged(bytes([1]) + good[1:]))  # a valid pixel, but changed


def test_the_credit_and_licence_are_beside_the_file() -> None:
    text = (FILE.parent / "README.txt").read_text(encoding="utf-8")
    assert "Alpaydin" in text and "Kaynak" in text and "CC BY 4.0" in text
    doc = load_digits.__doc__ or ""
    assert "Alpaydin" in doc and "CC BY 4.0" in doc
    assert nn.load_digits is load_digits
