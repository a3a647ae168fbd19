"""train digits and train --data FILE.csv: a classifier, its test accuracy, its refusals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nn import MLP, Adam, evaluate, fit_batches, load, load_digits, save, train_test_split
from tinygrad_bp import cli


def train(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    status = cli.main(["train", *argv])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


LAST = re.compile(
    r"test accuracy (\d+\.\d)% \((\d+)/(\d+)\), test loss (\d+\.\d+), after (\d+) epochs? "
    r"\((\d+) updates?\) in \d+\.\d s"
)


def test_digits_is_the_library_run(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, err = train(["digits", "--epochs", "2", "--layers", "8"], capsys)
    assert status == 0, err
    assert lines[0] == (
        "MLP(64, [8, 10], activation='relu', output_activation='linear') on digits (1,347 "
        "training and 450 test points, 10 classes, seed 0): 2 epochs of minibatches of 32, "
        "Adam, softmax cross-entropy + 1e-4·Σp², learning rate 0.01"
    )
    assert lines[1].startswith("epoch 1: training loss ") and lines[2].startswith("epoch 2: ")
    match = LAST.fullmatch(lines[-1])
    assert match, lines[-1]
    # The same run through the library: the same numbers
    X_train, y_train, X_test, y_test = train_test_split(*load_digits())
    model = MLP(64, [8, 10], seed=0)
    history = fit_batches(
        model,
        X_train,
        y_train,
        epochs=2,
        optimizer=Adam(model.parameters(), lr=0.01),
        test=(X_test, y_test),
    )
    assert match.group(4) == f"{history.test_losses[-1]:.6f}"
    assert int(match.group(2)) == round(history.test_accuracies[-1] * 450)
    assert (match.group(3), match.group(6)) == ("450", "86")


def test_digits_saves_and_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "digits.json"
    argv = ["digits", "--epochs", "1", "--layers", "4", "--save", str(path)]
    status, lines, _ = train(argv, capsys)
    assert status == 0 and f"saved the model to {str(path)!r}" in lines
    model = load(path)
    assert repr(model) == "MLP(64, [4, 10], activation='relu', output_activation='linear')"
    X_train, y_train, X_test, y_test = train_test_split(*load_digits())
    accuracy = float(LAST.fullmatch(lines[-1]).group(1)) / 100  # type: ignore[union-attr]
    assert evaluate(model, X_test, y_test)[1] == pytest.approx(accuracy, abs=0.0006)
    status, lines, _ = train(["digits", "--epochs", "1", "--load", str(path)], capsys)
    assert status == 0 and lines[0] == f"loaded the network and its parameters from {str(path)!r}"
    status, _, err = train(["moons", "--load", str(path)], capsys)
    assert status == 1 and "train needs 2 inputs and one linear output" in err


def test_no_trace_gives_the_same_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["digits", "--epochs", "1", "--layers", "4", "--batch-size", "200"]
    _, traced, _ = train(argv, capsys)
    _, interpreted, _ = train([*argv, "--no-trace"], capsys)
    assert interpreted[-2] == "not traced, run by the interpreted engine (--no-trace)"
    assert traced[1] == interpreted[1]  # the epoch's losses and accuracies, to the digit shown
    assert LAST.fullmatch(traced[-1]).group(4) == LAST.fullmatch(interpreted[-1]).group(4)  # type: ignore[union-attr]


def test_sgd_and_the_flags_the_classes_share(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["digits", "--epochs", "1", "--layers", "4", "--optimizer", "sgd", "--momentum", "0.9"]
    status, lines, _ = train(argv, capsys)
    assert status == 0
    assert "SGD with momentum 0.9, softmax cross-entropy + 1e-4·Σp², learning rate 0.1" in lines[0]


def test_the_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "digits.png"
    status, lines, err = train(
        ["digits", "--epochs", "1", "--layers", "4", "--plot", str(path)], capsys
    )
    assert status == 0, err
    assert f"wrote the plot to {str(path)!r}" in lines
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def blobs(path: Path, n: int = 90) -> Path:
    lines = ["width,height,kind"]
    for k in range(n):
        c = k % 3
        lines.append(f"{c * 10 + (k % 7) * 0.1},{-c * 500 + k % 5},{c * 2 + 1}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_csv_of_ones_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = blobs(tmp_path / "blobs.csv")
    status, lines, err = train(["--data", str(path), "--epochs", "30"], capsys)
    assert status == 0, err
    assert lines[0] == (
        f"MLP(2, [32, 3], activation='relu', output_activation='linear') on {path} (67 training "
        "and 23 test points, 3 classes, seed 0): 30 epochs of minibatches of 32, Adam, "
        "softmax cross-entropy + 1e-4·Σp², learning rate 0.01"
    )
    match = LAST.fullmatch(lines[-1])
    assert match and match.group(1) == "100.0"  # three far-apart clusters


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("a,b,label\n1,2,0\n3,4\n", "line 3 has 2 fields, expected 3"),
        ("1,2,0\n3,x,1\n", "line 2, column 2: 'x' is not a number"),
        ("1,2,0\n3,NaN,1\n", "line 2, column 2: 'NaN'; expected a finite number"),
    ],
)
def test_a_bad_csv_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    status, lines, err = train(["--data", str(path)], capsys)
    assert status == 1 and lines == []
    assert err.startswith(f"tinygrad-bp train: error: cannot use --data: {path}: {message}")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            [],
            "expected a dataset (moons, xor, spirals, circles, gauss or digits) or --data FILE.csv",
        ),
        (["digits", "--data", "x.csv"], "give a dataset or --data, not both"),
        (["digits", "--steps", "3"], "--steps is for the points of the plane"),
        (["digits", "--points", "30"], "--points is for the points of the plane"),
        (["digits", "--loss", "hinge"], "--loss hinge is for one score"),
        (["moons", "--epochs", "3"], "--epochs is for digits and --data"),
        (["moons", "--batch-size", "3"], "--batch-size is for digits and --data"),
        (["moons", "--loss", "ce"], "--loss ce is for digits and --data"),
        (["digits", "--momentum", "0.5"], "--momentum is for --optimizer sgd"),
        (["--data", "no-such-file.csv"], "cannot read --data 'no-such-file.csv'"),
    ],
)
def test_refusals(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    status, lines, err = train(argv, capsys)
    assert status == 1 and lines == [] and len(err.splitlines()) == 1
    assert err.startswith(f"tinygrad-bp train: error: {message}"), err


def test_a_model_of_the_wrong_shape_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.json"
    save(MLP(64, [4, 3]), path)
    status, _, err = train(["digits", "--load", str(path)], capsys)
    assert status == 1
    assert err.rstrip().endswith("this data needs 64 inputs and 10 linear outputs (one per class)")
