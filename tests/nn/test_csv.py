"""A user's own table: read_csv reads numbers and refuses anything else in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from nn.data import MAX_FEATURES, DataFileError, read_csv, standardize


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "table.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_numbers_with_and_without_a_header(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, "x,y,class\n1,2.5,1\n-3e2, 4 ,0\n\n5,6,1\n"))
    assert table.header == ("x", "y", "class")
    assert table.X == [[1.0, 2.5], [-300.0, 4.0], [5.0, 6.0]]
    assert table.y == [1, 0, 1] and table.classes == [0, 1]
    table = read_csv(write(tmp_path, "1,2,7\n3,4,-2\n5,6,7.0\n"))
    assert table.header == () and table.classes == [-2, 7] and table.y == [1, 0, 1]
    # A spreadsheet's byte order mark and Windows line ends
    table = read_csv(write(tmp_path, b"\xef\xbb\xbfa,b\r\n1,0\r\n2,1\r\n"))
    assert table.header == ("a", "b") and table.X == [[1.0], [2.0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("\n\n  \n,,\n", "the file is empty"),
        ("a,b,label\n", "only a header row"),
        ("a,b,label\n1,2,0\n3,4\n", r"line 3 has 2 fields, expected 3 \(as the header\)"),
        ("1,2,0\n3,4,1,5\n", r"line 2 has 4 fields, expected 3 \(as line 1\)"),
        ("1,2,0\n3,four,1\n", "line 2, column 2: 'four' is not a number"),
        ("1,2,0\n3,nan,1\n", r"line 2, column 2: 'nan'; expected a finite number \(no NaN"),
        ("1,2,0\n3,-inf,1\n", "line 2, column 2: '-inf'; expected a finite number"),
        ("1,2,0\n3,4,1.5\n", r"line 2: the label \(last column\) '1.5' is not a whole number"),
        ("1,0\n2,0\n", "every row has the label 0; expected 2 classes or more"),
        ("label\n1\n2\n", "line 2 has 1 field; expected at least one feature and the label"),
        (b"1,2,0\n\xff,3,1\n", r"not UTF-8 text \(byte 6\)"),
        (b"1,2,0\n1,\x00,1\n", r"line 2, column 2: '\\x00' is not a number"),
    ],
)
def test_refusals_are_one_line(tmp_path: Path, text: str | bytes, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataFileError, match=message) as info:
        read_csv(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_sizes_are_bounded(tmp_path: Path) -> None:
    wide = ",".join(["1"] * (MAX_FEATURES + 2))
    with pytest.raises(DataFileError, match=f"{MAX_FEATURES + 1:,} features; at most"):
        read_csv(write(tmp_path, wide + "\n"))
    with pytest.raises(DataFileError, match="101 classes; at most 100"):
        read_csv(write(tmp_path, "".join(f"1,{k}\n" for k in range(101))))


def test_standardize_uses_the_training_points_alone() -> None:
    train, test = standardize([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]], [[8.0, 3.0]])
    s = (8 / 3) ** -0.5
    assert train[0] == pytest.approx([-2.0 * s, 0.0], rel=1e-15)
    assert train[1:] == [[0.0, 0.0], pytest.approx([2.0 * s, 0.0], rel=1e-15)]
    assert test == [pytest.approx([6.0 * s, 2.0], rel=1e-15)]  # a constant column is only shifted
