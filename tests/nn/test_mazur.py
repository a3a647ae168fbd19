"""The article's figures, number for number (../shared/REFERENCE.md), through backward()."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nn import MLP, mazur
from tinygrad_bp import cli


def nine(x: float) -> float:
    return round(x, 9)


@pytest.fixture
def walked() -> tuple[MLP, mazur.ForwardPass, dict[str, float]]:
    model = mazur.network()
    step = mazur.forward(model)
    step.E_total.backward()
    from tinygrad_bp.graph import topological_order

    nodes = {n.label: n.data for n in topological_order(step.E_total) if n.label}
    return model, step, nodes


def test_forward_pass(walked: tuple) -> None:
    _, _, nodes = walked
    expected = {
        "net_h1": 0.377500000,
        "out_h1": 0.593269992,
        "out_h2": 0.596884378,
        "net_o1": 1.105905967,
        "out_o1": 0.751365070,
        "out_o2": 0.772928465,
        "E_o1": 0.274811083,
        "E_o2": 0.023560026,
        "E_total": 0.298371109,
    }
    for label, value in expected.items():
        assert nine(nodes[label]) == value, label


GRADIENTS = {
    "w1": (0.000438568, 0.149780716),
    "w2": (0.000877135, 0.199561432),
    "w3": (0.000497713, 0.249751144),
    "w4": (0.000995425, 0.299502287),
    "w5": (0.082167041, 0.358916480),
    "w6": (0.082667628, 0.408666186),
    "w7": (-0.022602540, 0.511301270),
    "w8": (-0.022740242, 0.561370121),
}


def test_all_eight_gradients_and_updated_weights(walked: tuple) -> None:
    model, _, _ = walked
    for label, (gradient, updated) in GRADIENTS.items():
        w = mazur.weight(model, label)
        assert nine(w.grad) == gradient, label
        assert nine(w.data - mazur.LEARNING_RATE * w.grad) == updated, label


def test_chain_rule_terms_recorded_on_the_edges(walked: tuple) -> None:
    _, step, _ = walked
    out_o1 = step.outputs[0]
    E_o1 = step.errors[0]
    net_o1 = out_o1.parents[0]
    # ∂E_total/∂out_o1: the local derivative on the edge E_o1 → out_o1
    assert nine(E_o1.local_grads[0]) == 0.741365070
    assert nine(out_o1.local_grads[0]) == 0.186815602  # ∂out_o1/∂net_o1
    assert nine(net_o1.grad) == 0.138498562  # δ_o1
    w5_edge = net_o1.parents.index(mazur.weight(walked[0], "w5"))
    assert nine(net_o1.local_grads[w5_edge]) == 0.593269992  # ∂net_o1/∂w5 = out_h1
    out_h1 = next(p for p in net_o1.parents if p.label == "out_h1")
    assert nine(out_h1.grad) == 0.036350306  # ∂E_total/∂out_h1
    assert nine(out_h1.local_grads[0]) == 0.241300709  # ∂out_h1/∂net_h1
    # ∂E_o1/∂out_h1 = δ_o1·w5 and ∂E_o2/∂out_h1 = δ_o2·w7, summed at out_h1
    net_o2 = step.outputs[1].parents[0]
    assert nine(net_o1.grad * 0.40) == 0.055399425
    assert nine(net_o2.grad * 0.50) == -0.019049118


def test_labels_are_the_articles(walked: tuple) -> None:
    model, _, nodes = walked
    assert [p.label for p in model.parameters()] == [
        "w1", "w2", "b1", "w3", "w4", "w5", "w6", "b2", "w7", "w8",
    ]  # fmt: skip
    for label in ["i1", "i2", "net_h1", "out_h2", "net_o2", "out_o1", "E_o1", "E_o2", "E_total"]:
        assert label in nodes


def test_error_after_one_update() -> None:
    model = mazur.network()
    after = mazur.train(model, 1)
    assert nine(after.E_total.data) == 0.291027774
    assert nine(after.outputs[0].data) == 0.742088111
    assert nine(after.outputs[1].data) == 0.775284968
    # the biases stayed fixed
    _, biases = model.get_weights()
    assert biases == [0.35, 0.60]


def test_error_after_ten_thousand_updates() -> None:
    after = mazur.train(mazur.network(), 10_000)
    assert nine(after.E_total.data) == 0.000035102
    assert after.E_total.data == pytest.approx(3.5101878e-05, rel=1e-7)
    assert nine(after.outputs[0].data) == 0.015913620
    assert nine(after.outputs[1].data) == 0.984064274


def test_training_biases_moves_them_and_lowers_the_error_more() -> None:
    fixed = mazur.train(mazur.network(), 100)
    model = mazur.network()
    trained = mazur.train(model, 100, train_biases=True)
    _, biases = model.get_weights()
    assert biases != [0.35, 0.60]
    assert trained.E_total.data < fixed.E_total.data


def test_cli_walkthrough_prints_the_articles_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mazur", "--steps", "10000"]) == 0
    out = capsys.readouterr().out
    for figure in [
        "net_h1 = w1·i1 + w2·i2 + b1 = 0.377500000",
        "out_o1 = sigmoid(net_o1) = 0.751365070",
        "E_o1 = ½(0.01 − out_o1)² = 0.274811083",
        "E_o2 = ½(0.99 − out_o2)² = 0.023560026",
        "E_total = E_o1 + E_o2 = 0.298371109",
        "∂E_total/∂w5  =  0.082167041    w5⁺ = 0.358916480",
        "∂E_total/∂w1  =  0.000438568    w1⁺ = 0.149780716",
        "∂E_total/∂w8  = -0.022740242    w8⁺ = 0.561370121",
        "After the first update: E_total = 0.291027774",
        "After 10000 updates: E_total = 0.000035102 (3.5102e-05), "
        "out_o1 = 0.015913620, out_o2 = 0.984064274",
        "0.291027924",  # the article's closing figure, explained
    ]:
        assert figure in out, figure
    # the walkthrough comes first
    assert out.index("The forward pass") < out.index("After 10000 updates")


def test_cli_default_is_one_update_and_biases_stay(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mazur"]) == 0
    out = capsys.readouterr().out
    assert "After the first update: E_total = 0.291027774" in out
    assert "After 1" not in out.replace("After the first", "")


def test_cli_rejects_a_bad_step_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["mazur", "--steps", "0"])
    assert exit_info.value.code == 2
    assert "expected a number of at least 1, got 0" in capsys.readouterr().err


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_bp", "mazur"], capture_output=True, text=True, check=True
    )
    assert "0.082167041" in done.stdout


def erratum_printed(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(["mazur", *argv]) == 0
    out = capsys.readouterr().out
    paragraph = out.split("About the article's closing figures: ")[1].split("\n\n")[0]
    return " ".join(paragraph.split())


def test_the_erratum_says_which_exact_figures_the_run_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    common = "the corrected script give 0.291027774 and 0.000035102"
    assert erratum_printed(capsys).endswith(
        common + ", the first as above (--steps 10000 shows the second)."
    )
    assert erratum_printed(capsys, "--steps", "3").endswith(common + ", the first as above.")
    assert erratum_printed(capsys, "--steps", "10000").endswith(common + ", as above.")
    with_biases = erratum_printed(capsys, "--train-biases")
    assert with_biases.endswith(
        common + " with the biases fixed, as the article keeps them (above, they were trained too)."
    )
    assert "0.291027924" in with_biases and "0.000035085" in with_biases


def test_the_closing_figures_are_the_ones_the_erratum_quotes() -> None:
    assert round(mazur.train(mazur.network(), 1).E_total.data, 9) == mazur.EXACT_CLOSING[1]
    text = mazur.erratum()
    for figure in (*mazur.ARTICLE_CLOSING.values(), *mazur.EXACT_CLOSING.values()):
        assert f"{figure:.9f}" in text


def test_the_report_is_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mazur", "--steps", "2", "--explain", "w5"]) == 0
    printed = capsys.readouterr().out
    assert printed == "".join(line + "\n" for line in mazur.report(2, explain="w5"))
    chain_rule = printed.split("The chain rule, as the article works it")[1]
    assert chain_rule.startswith(" (numbers from the first backward pass):\n\n∂E_total/∂w5 = ")
    assert printed.endswith("= 0.082167041\n")  # the derivation ends at w5's gradient


def test_the_updates_are_nn_sgd() -> None:
    # mazur.train is SGD over the article's eight weights, the same floats as by hand.
    model, by_hand = mazur.network(), mazur.network()
    mazur.train(model, 3)
    weights = mazur.trained_parameters(by_hand)
    for _ in range(3):
        step = mazur.forward(by_hand)
        by_hand.zero_grad()
        step.E_total.backward()
        for w in weights:
            w.data -= mazur.LEARNING_RATE * w.grad
    assert model.get_weights() == by_hand.get_weights()
