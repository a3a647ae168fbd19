"""train for more than micrograd's demo: its network, loss, optimizer and data as flags."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nn import MLP, SGD, Adam, fit, load, make_moons, make_xor, save
from nn.train import classifier_loss, linear_decay, svm_loss
from tinygrad_bp import cli
from tinygrad_bp.cli.command import build_parser


def train(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    status = cli.main(["train", *argv])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def final_loss(lines: list[str]) -> float:
    match = re.match(r"final loss (\d+\.\d+) accuracy", lines[-1])
    assert match, lines[-1]
    return float(match.group(1))


def test_the_defaults_are_micrograds_demo(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, _ = train(["moons", "--steps", "2"], capsys)
    assert status == 0
    assert lines[0] == (
        "MLP(2, [16, 16, 1], activation='relu', output_activation='linear') on moons "
        "(100 points, seed 0): 2 steps of full-batch SGD, hinge loss + 1e-4·Σp², "
        "learning rate 1.0 down to 0.1"
    )
    X, y = make_moons(100, seed=0, signed=True)
    model = MLP(2, [16, 16, 1], seed=0)
    history = fit(model, X, y, steps=2)
    assert final_loss(lines) == round(history.losses[-1], 6)


def test_layers_and_activation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.json"
    argv = ["xor", "--steps", "1", "--layers", "3,5,2", "--activation", "tanh", "--save", str(path)]
    status, lines, _ = train(argv, capsys)
    assert status == 0
    assert lines[0].startswith(
        "MLP(2, [3, 5, 2, 1], activation='tanh', output_activation='linear')"
    )
    model = load(path)  # the file records the architecture
    assert repr(model) == "MLP(2, [3, 5, 2, 1], activation='tanh', output_activation='linear')"


def test_no_hidden_layer(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, _ = train(["moons", "--steps", "1", "--layers", "none"], capsys)
    assert status == 0 and lines[0].startswith("MLP(2, [1], ")


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_each_activation(activation: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, _ = train(["xor", "--steps", "1", "--activation", activation], capsys)
    assert status == 0 and f"activation={activation!r}" in lines[0]


@pytest.mark.parametrize(
    ("loss", "name"),
    [("hinge", "hinge loss"), ("bce", "binary cross-entropy"), ("mse", "mean squared error")],
)
def test_each_loss(loss: str, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["xor", "--steps", "3", "--points", "20", "--loss", loss, "--lr", "0.05"]
    status, lines, _ = train(argv, capsys)
    assert status == 0 and f"SGD, {name} + 1e-4·Σp², learning rate 0.05" in lines[0]
    X, y = make_xor(20, seed=0, signed=True)
    model = MLP(2, [16, 16, 1], seed=0)
    loss_fn = svm_loss if loss == "hinge" else classifier_loss(loss)
    history = fit(model, X, y, 3, loss_fn=loss_fn, optimizer=SGD(model.parameters(), lr=0.05))
    assert final_loss(lines) == round(history.losses[-1], 6)


def test_the_losses_by_hand() -> None:
    model = MLP(2, [2, 1], seed=4)
    X, y = [[0.5, -1.0], [1.0, 2.0]], [1, -1]
    s = [model(x).data for x in X]  # type: ignore[union-attr]
    import math

    reg = 1e-4 * sum(p.data**2 for p in model.parameters())
    bce = sum(
        math.log1p(math.exp(-si)) if t > 0 else math.log1p(math.exp(si)) for si, t in zip(s, y)
    )
    mse = sum((si - t) ** 2 for si, t in zip(s, y))
    assert classifier_loss("bce")(model, X, y)[0].data == pytest.approx(bce / 2 + reg, rel=1e-12)
    assert classifier_loss("mse")(model, X, y)[0].data == pytest.approx(mse / 2 + reg, rel=1e-12)
    with pytest.raises(ValueError, match="unknown loss 'l1'; expected one of hinge, bce, mse"):
        classifier_loss("l1")


def test_adam(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, _ = train(
        ["xor", "--steps", "3", "--points", "20", "--optimizer", "adam"], capsys
    )
    assert status == 0 and "full-batch Adam, hinge loss + 1e-4·Σp², learning rate 0.01" in lines[0]
    X, y = make_xor(20, seed=0, signed=True)
    model = MLP(2, [16, 16, 1], seed=0)
    history = fit(model, X, y, 3, optimizer=Adam(model.parameters(), lr=0.01))
    assert final_loss(lines) == round(history.losses[-1], 6)


def test_sgd_with_momentum(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["xor", "--steps", "3", "--points", "20", "--momentum", "0.9"]
    status, lines, _ = train(argv, capsys)
    assert status == 0
    assert "SGD with momentum 0.9, hinge loss + 1e-4·Σp², learning rate 1.0 down to 0.1" in lines[0]
    X, y = make_xor(20, seed=0, signed=True)
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=1.0, momentum=0.9)
    history = fit(model, X, y, 3, optimizer=optimizer, schedule=linear_decay(3))
    assert final_loss(lines) == round(history.losses[-1], 6)


def test_points_and_noise(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, _ = train(["moons", "--steps", "0", "--points", "30", "--noise", "0"], capsys)
    assert status == 0 and "on moons (30 points, seed 0)" in lines[0]
    X, y = make_moons(30, noise=0.0, seed=0, signed=True)
    with_noise = train(["moons", "--steps", "0", "--points", "30", "--noise", "0.3"], capsys)[1]
    assert final_loss(lines) != final_loss(with_noise)
    assert final_loss(lines) == round(svm_loss(MLP(2, [16, 16, 1]), X, y)[0].data, 6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--layers", "16,x"], "argument --layers: expected hidden layer sizes such as 16,16"),
        (["--layers", "0"], "argument --layers: a layer has at least 1 neuron"),
        (["--activation", "gelu"], "argument --activation: invalid choice: 'gelu'"),
        (["--loss", "l1"], "argument --loss: invalid choice"),
        (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice"),
        (["--lr", "0"], r"argument --lr: expected a number in \(0, ∞\), got 0"),
        (["--lr", "nan"], "argument --lr: expected a number in"),
        (["--momentum", "1"], r"argument --momentum: expected a number in \[0, 1\), got 1"),
        (["--points", "1"], "argument --points: expected a number of at least 2, got 1"),
        (["--noise", "-1"], "argument --noise: expected a number in"),
    ],
)
def test_a_bad_flag_is_a_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "xor", *argv])
    assert info.value.code == 2
    assert re.search(message, capsys.readouterr().err.splitlines()[-1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--optimizer", "adam", "--momentum", "0.5"], "--momentum is for --optimizer sgd"),
        (["--layers", "400,400"], "--layers 400,400 makes 162,001 parameters; at most 150,000"),
    ],
)
def test_flags_that_cannot_go_together_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines, err = train(["xor", *argv], capsys)
    assert status == 1 and lines == []
    assert err == f"tinygrad-bp train: error: {message}" + err.split(message, 1)[1]
    assert len(err.splitlines()) == 1


def test_one_path_for_the_plot_and_the_model_is_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.png").symlink_to(tmp_path / "p.png")
    # The same file, however the two paths spell it.
    for plot, model in [("p.png", "p.png"), ("sub/../p.png", "p.png"), ("link.png", "p.png")]:
        status, lines, err = train(["xor", "--steps", "1", "--plot", plot, "--save", model], capsys)
        assert status == 1 and lines == [], (plot, model)
        assert err == (
            f"tinygrad-bp train: error: --plot {plot!r} and --save {model!r} name the same "
            "file; give each output its own path\n"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.png", "sub"]


@pytest.mark.parametrize("points", ["100001", "1000000000"])
def test_points_have_an_upper_bound(points: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Parsed only: on a command line without the bound, this would start the run.
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["train", "xor", "--points", points])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].endswith(
        f"argument --points: expected at most 100,000 points, got {int(points):,}"
    )
    assert build_parser().parse_args(["train", "xor", "--points", "100000"]).points == 100_000
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    assert "2 to 100,000 (default 100)" in " ".join(capsys.readouterr().out.split())


# -- --load rebuilds the saved network ----------------------------------------------------
@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "net.json"
    save(MLP(2, [4, 3, 1], "tanh", seed=5), path)
    return path


def test_load_rebuilds_the_saved_architecture(
    saved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines, err = train(["xor", "--steps", "0", "--load", str(saved)], capsys)
    assert status == 0, err
    assert lines[0] == f"loaded the network and its parameters from {str(saved)!r}"
    assert lines[1].startswith("MLP(2, [4, 3, 1], activation='tanh', output_activation='linear')")
    X, y = make_xor(100, seed=0, signed=True)
    assert final_loss(lines) == round(svm_loss(load(saved), X, y)[0].data, 6)
    # flags that agree with the file are fine
    argv = ["xor", "--steps", "0", "--load", str(saved), "--layers", "4,3", "--activation", "tanh"]
    assert train(argv, capsys)[0] == 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--layers", "16,16"],
            "which contradicts --layers 16,16; leave --layers out to train the file's network "
            "(or give --layers 4,3)",
        ),
        (
            ["--activation", "relu"],
            "which contradicts --activation relu; leave --activation out to train the file's "
            "network (or give --activation tanh)",
        ),
    ],
)
def test_load_refuses_a_contradicting_flag(
    saved: Path, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = saved.read_bytes()
    status, lines, err = train(["xor", "--load", str(saved), "--save", str(saved), *flags], capsys)
    assert status == 1 and lines == []
    assert err == (
        f"tinygrad-bp train: error: cannot load {str(saved)!r}: the file holds "
        f"MLP(2, [4, 3, 1], activation='tanh', output_activation='linear'), {message}\n"
    )
    assert saved.read_bytes() == before


def test_load_refuses_a_network_train_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for model in (MLP(3, [4, 1]), MLP(2, [4, 2]), MLP(2, [4, 1], output_activation="sigmoid")):
        save(model, tmp_path / "m.json")
        status, _, err = train(["xor", "--load", str(tmp_path / "m.json")], capsys)
        assert status == 1 and len(err.splitlines()) == 1
        assert err.endswith("train needs 2 inputs and one linear output (a score)\n")


def test_a_diverging_loss_is_one_line_and_nothing_is_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.json"
    status, lines, err = train(
        ["moons", "--loss", "mse", "--steps", "5", "--save", str(path)], capsys
    )
    assert status == 1 and not path.exists()
    assert err == (
        "tinygrad-bp train: error: training diverged: the loss is inf after 5 steps, so nothing "
        "was saved; a smaller --lr may help\n"
    )


def test_a_huge_noise_is_named_as_the_problem_not_the_learning_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for steps in ("1", "2"):  # the loss diverges after one update; the second gradient is NaN
        status, _, err = train(["moons", "--noise", "1e300", "--steps", steps], capsys)
        assert status == 1 and len(err.splitlines()) == 1
        assert err.startswith("tinygrad-bp train: error: training ")
        assert err.endswith(
            "; the noise is the problem: --noise 1e+300 puts points as far as 2.83e+300 from "
            "the origin (the data lie within about 2 of it); a --noise of at most 1 may help\n"
        )
        assert "--lr" not in err and ".;" not in err


def test_a_huge_learning_rate_is_named_in_a_sentence_that_reads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = train(["moons", "--lr", "1e300", "--steps", "3"], capsys)
    assert status == 1 and len(err.splitlines()) == 1
    assert err.endswith(
        "expected a finite number. No parameter was changed; a smaller --lr may help\n"
    )


def test_train_says_when_it_does_not_trace(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, _ = train(["moons", "--steps", "2"], capsys)
    assert status == 0
    assert lines[-2] == (
        "not traced, run by the interpreted engine: a trace pays from about 679 points × steps "
        "(its compile against each step's saving); this run has 200"
    )
    for argv in (["--steps", "7"], ["--steps", "2", "--no-trace"]):  # traced; not asked to
        lines = train(["moons", *argv], capsys)[1]
        assert not any(line.startswith("not traced") for line in lines)


def test_the_saved_file_records_the_architecture(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    save(MLP(2, [3, 1], "sigmoid"), path)
    architecture = json.loads(path.read_text())["architecture"]
    assert architecture == {
        "nin": 2,
        "nouts": [3, 1],
        "activation": "sigmoid",
        "output_activation": "linear",
        "shared_bias": [False, False],
    }


def test_features_train_a_network_on_the_engineered_inputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def accuracy(argv: list[str]) -> int:
        assert cli.main(["train", "circles", "--layers", "none", "--steps", "60", *argv]) == 0
        last = capsys.readouterr().out.splitlines()[-1]
        return int(re.search(r"accuracy (\d+)%", last).group(1))  # type: ignore[union-attr]

    # In x₁² and x₂² the disc inside the ring is a half-plane: one neuron learns it.
    assert accuracy(["--features", "x1sq,x2sq"]) >= 95
    assert accuracy([]) <= 75  # in x₁ and x₂ no line does


# -- --page: the run recorded as the playground's page ----------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--loss", "bce"], "--page records the playground's run, which learns by the hinge loss"),
        (["--momentum", "0.5"], "--page records the playground's run, whose SGD has no momentum"),
        (["--points", "6000"], "--page cannot record this run: points: expected 4 to 5,000"),
        (["--layers", "64"], "--page cannot record this run: layers: at most 32 neurons a layer"),
        (["--steps", "100001"], "--page records at most 100,000 steps, got 100,001"),
        (
            ["--points", "5000", "--layers", "32,32"],
            "--page cannot record this run: a weight's chain rule reads the graph of the "
            "minibatch: 4,500 points × 1,185 parameters",
        ),
    ],
)
def test_what_the_page_cannot_record_is_refused_before_training(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "learn.html"
    status, lines, err = train(["moons", *argv, "--page", str(page)], capsys)
    assert status == 1 and lines == []  # nothing trained
    assert err.startswith(f"tinygrad-bp train: error: {message}") and len(err.splitlines()) == 1
    assert not page.exists()


def test_a_loaded_network_is_not_recorded(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines, err = train(["xor", "--load", str(saved), "--page", str(tmp_path / "p")], capsys)
    assert status == 1 and lines == []
    assert "not a loaded network: leave out --load" in err


def test_the_page_records_trains_network_from_its_first_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "learn.html"
    status, lines, _ = train(
        ["moons", "--steps", "20", "--optimizer", "adam", "--page", str(page)], capsys
    )
    assert status == 0
    assert any(
        line.startswith(f"wrote the recorded page to {str(page)!r}")
        and line.endswith(
            "90 of them trained on (the rest tested), at a constant learning rate 0.01"
        )
        for line in lines
    )
    text = page.read_text(encoding="utf-8")
    recording = json.loads(text.split("const RECORDING = ", 1)[1].split(";\nconst live", 1)[0])
    first, last = recording["frames"][0], recording["frames"][-1]
    assert (first["step"], last["step"]) == (0, 20)
    assert last["settings"]["optimizer"] == "adam" and last["settings"]["lr"] == 0.01
    # Step 0's training loss: train's own network (the seed's weights), by nn, on the 90 points.
    X, y = make_moons(100, seed=0, signed=True)
    model = MLP(2, [16, 16, 1], "relu", seed=0)
    expected, _ = svm_loss(model, X[:90], y[:90])
    penalty = 1e-4 * sum(p.data**2 for p in model.parameters())
    assert first["train_loss"] == pytest.approx(expected.data - penalty, rel=1e-5)
