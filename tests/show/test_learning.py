"""The stepper after the backward pass, without a browser: the update steps, the forward
pass again and the learning view's run, as the article gives them.

What the page does with them in a browser is tested in tests/browser/test_learning_browser.py.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from nn import MLP, mazur
from tinygrad_bp import Value, cli
from tinygrad_bp.show import Stepper
from tinygrad_bp.show.learning import (
    MAX_UPDATES,
    FirstUpdateError,
    Learning,
    LearningView,
    sample_points,
)

# The article's updated weights (w⁺ = w − 0.5·∂E_total/∂w), to 9 decimals.
UPDATED = {
    "w5": "0.358916480",
    "w6": "0.408666186",
    "w7": "0.511301270",
    "w8": "0.561370121",
    "w1": "0.149780716",
    "w2": "0.199561432",
    "w3": "0.249751144",
    "w4": "0.299502287",
}
W5_UPDATE = "w5⁺ = w5 − η·∂E_total/∂w5 = 0.4 − 0.5 × 0.082167041 = 0.358916480"
TWO_MB = 2_000_000


def page_json(page: str) -> Any:
    found = re.search(r'<script type="application/json" id="tg-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def article_stepper() -> Stepper:
    """The article's page with the update steps and 10,000 updates, as ``viz mazur`` makes it."""
    model, step = mazur.backpropagated()
    learning = Learning(mazur.trained_parameters(model))
    return Stepper(step.E_total, parameters=model.parameters(), learning=learning)


def by_label(stepper: Stepper) -> dict[str, Value]:
    return {v.label: v for v in stepper.explainer.order if v.label}


# -- the update steps and the forward pass again ------------------------------------------


def test_after_backward_one_update_step_per_weight_in_the_articles_order(
    article_stepper: Stepper,
) -> None:
    counters = [s.counter for s in article_stepper.steps]
    last_backward = counters.index("backward 23/23")
    assert counters[last_backward + 1 :] == [
        *(f"update {k}/8" for k in range(1, 9)),
        "forward again",
        "learning",
    ]
    updates = [s for s in article_stepper.steps if s.kind == "update"]
    # Output layer first, as the article works them; the biases stay fixed.
    assert [s.values[0].label for s in updates] == list(UPDATED)
    for step in updates:
        name = step.values[0].label
        assert step.text.endswith(f" = {UPDATED[name]}"), step.text
        assert step.node == article_stepper.drawing.node_ids[step.values[0]]
    assert updates[0].text == W5_UPDATE
    assert updates[0].heading == "Update: w5, with learning rate η = 0.5"
    # A negative gradient is written in parentheses.
    assert updates[2].text == (
        "w7⁺ = w7 − η·∂E_total/∂w7 = 0.5 − 0.5 × (-0.02260254) = 0.511301270"
    )


def test_the_forward_pass_again_shows_the_articles_error_after_one_update(
    article_stepper: Stepper,
) -> None:
    again = next(s for s in article_stepper.steps if s.kind == "again")
    assert again.heading == (
        "Forward again, with the updated parameters: E_total = 0.291027774 (was 0.298371109)"
    )
    lines = again.text.splitlines()
    assert lines[-1] == "E_total = 0.291027774   (was 0.298371109)"
    assert "out_o1  = 0.742088111   (was 0.751365070)" in lines
    assert "out_o2  = 0.775284968   (was 0.772928465)" in lines
    assert again.node == article_stepper.drawing.node_ids[article_stepper.root]


def test_the_graph_is_left_as_it_was(article: tuple[MLP, Value, dict[str, Value]]) -> None:
    model, root, nodes = article
    before = [(v.data, v.grad) for v in nodes.values()]
    Stepper(root, learning=Learning(mazur.trained_parameters(model), updates=500))
    assert [(v.data, v.grad) for v in nodes.values()] == before


# -- the run ------------------------------------------------------------------------------


def test_the_run_ends_where_the_article_does_after_10000_updates(
    article_stepper: Stepper,
) -> None:
    view = article_stepper.learning
    assert view is not None and view.run is not None
    run = view.run
    assert run.updates[0] == 0 and run.updates[-1] == 10_000 and run.stopped == ""
    assert list(run.updates) == sample_points(10_000) and len(run.updates) == 1001
    nodes = by_label(article_stepper)
    assert round(run.values[nodes["E_total"]][-1], 9) == 0.000035102
    assert f"{run.values[nodes['E_total']][-1]:.4e}" == "3.5102e-05"
    assert round(run.values[nodes["out_o1"]][-1], 9) == 0.015913620
    assert round(run.values[nodes["out_o2"]][-1], 9) == 0.984064274
    assert round(run.values[nodes["E_total"]][1], 9) == 0.291027774
    # The same numbers, to the last bit, as the article's network trained by nn.mazur.
    trained = mazur.train(mazur.network(), 10_000)
    assert run.values[nodes["E_total"]][-1] == trained.E_total.data
    assert run.values[nodes["w5"]][-1] == mazur.weight(trained_model(), "w5").data
    # The fixed biases and the inputs are not in the run.
    assert nodes["b1"] not in run.values and nodes["i1"] not in run.values


def trained_model() -> MLP:
    model = mazur.network()
    mazur.train(model, 10_000)
    return model


def test_the_page_carries_the_run_sampled_and_stays_under_2_mb(
    article_stepper: Stepper,
) -> None:
    page = article_stepper.html
    assert len(page.encode("utf-8")) < TWO_MB
    data = page_json(page)
    learning = data["learning"]
    assert learning["updated"] == [f"data {figure}" for figure in UPDATED.values()]
    run = learning["run"]
    assert run["updates"][-1] == 10_000 and run["root"] == "E_total"
    assert run["series"][run["rootSeries"]][-1] == "0.000035102"
    assert run["errors"][-1] == pytest.approx(3.5101878e-05, rel=1e-7)
    drawn = article_stepper.drawing.node_ids
    nodes = by_label(article_stepper)
    assert learning["after"][drawn[nodes["E_total"]]] == "data 0.291027774"
    assert learning["after"][drawn[nodes["w5"]]] == "data 0.358916480"
    series = dict(run["nodes"])
    assert run["series"][series[drawn[nodes["out_o1"]]]][-1] == "0.015913620"
    assert run["series"][series[drawn[nodes["out_o2"]]]][-1] == "0.984064274"
    assert [name for name, _ in run["parameters"]] == list(UPDATED)
    # The steps' kinds, in the page's data, as the script reads them.
    assert [s["kind"] for s in data["steps"][-10:]] == ["update"] * 8 + ["again", "learn"]


def test_a_large_graph_is_sampled_less_to_stay_small(mlp_loss: tuple[MLP, Value]) -> None:
    model, loss = mlp_loss
    options: dict[str, Any] = {"parameters": model.parameters(), "collapse_neurons": True}
    s = Stepper(loss, **options, learning=Learning(model.parameters(), lr=0.01, updates=400))
    assert s.learning is not None and s.learning.run is not None
    run = s.learning.run
    assert run.updates[-1] == 400 and len(run.updates) < 400
    # 145 drawn nodes and 337 parameters: the run adds under a megabyte to the page.
    alone = Stepper(loss, **options).html
    assert len(s.html.encode("utf-8")) - len(alone.encode("utf-8")) < 1_000_000
    assert [step.kind for step in s.steps].count("update") == len(model.parameters())


def test_a_run_that_diverges_stops_and_says_so() -> None:
    w = Value(10.0, "w")
    loss = w**4
    loss.label = "loss"
    loss.backward()
    s = Stepper(loss, learning=Learning([w], lr=1.0, updates=100))
    assert s.learning is not None and s.learning.run is not None
    run = s.learning.run
    assert run.updates[-1] < 100 and run.stopped.startswith("The run stopped after")
    assert run.stopped in s.steps[-1].text
    json.dumps(page_json(s.html), allow_nan=False)  # still valid JSON


def test_no_updates_gives_the_update_steps_and_the_forward_pass_again_only(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    model, root, _ = article
    s = Stepper(root, learning=Learning(mazur.trained_parameters(model), updates=0))
    assert [step.kind for step in s.steps][-2:] == ["update", "again"]
    assert "run" not in page_json(s.html)["learning"]


def test_without_learning_the_page_is_as_before(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    _, root, _ = article
    s = Stepper(root)
    assert s.learning is None and s.steps[-1].counter == "backward 23/23"
    assert "learning" not in page_json(s.html)


def test_learning_is_refused_with_what_was_expected(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    model, root, nodes = article
    weights = mazur.trained_parameters(model)
    with pytest.raises(ValueError, match="only leaves are updated"):
        Learning([nodes["out_o1"]])
    with pytest.raises(ValueError, match="no parameters"):
        Learning([])
    with pytest.raises(TypeError, match="must be a Value"):
        Learning([0.5])  # type: ignore[list-item]
    for lr in (0, -0.5, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match="lr must be"):
            Learning(weights, lr=lr)
    for n in (-1, MAX_UPDATES + 1, 2.5, True):
        with pytest.raises(ValueError, match="updates must be a whole number"):
            Learning(weights, updates=n)  # type: ignore[arg-type]
    stranger = Value(1.0, "stranger")
    with pytest.raises(ValueError, match="stranger is not a leaf of E_total's graph"):
        Stepper(root, learning=Learning([stranger]))


def test_learning_view_works_alone_with_labels_for_names() -> None:
    w, x = Value(3.0, "w"), Value(2.0, "x")
    loss = (w * x - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    view = LearningView(Learning([w], lr=0.05, updates=10), loss)
    assert view.steps[0]["text"] == "w⁺ = w − η·∂loss/∂w = 3 − 0.05 × 20 = 2.000000000"
    assert view.run is not None and view.run.updates == tuple(range(11))


# -- Jupyter and the command line -----------------------------------------------------------


def test_jupyter_shows_the_learning_view_inline(article_stepper: Stepper) -> None:
    shown = article_stepper._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in shown
    assert "height: 800px" in shown
    srcdoc = re.search(r'srcdoc="([^"]*)"', shown)
    assert srcdoc is not None and html.unescape(srcdoc.group(1)) == article_stepper.html
    assert 'id="tg-learn"' in article_stepper.html


def test_viz_mazur_has_the_updates_and_10000_of_them_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "backprop.html"
    assert cli.main(["viz", "mazur", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert (
        "11 forward and 23 backward steps, 8 update steps, the forward pass again "
        "and 10,000 updates to scrub through" in said
    )
    page = out.read_text(encoding="utf-8")
    assert W5_UPDATE in page_json(page)["steps"][35]["text"]
    assert page_json(page)["learning"]["run"]["updates"][-1] == 10_000
    assert len(page.encode("utf-8")) < TWO_MB
    assert cli.main(["viz", "mazur", "-o", str(out), "--updates", "100", "--lr", "0.1"]) == 0
    run = page_json(out.read_text(encoding="utf-8"))["learning"]["run"]
    assert run["updates"][-1] == 100
    assert "0.4 − 0.1 × 0.082167041 = 0.391783296" in out.read_text(encoding="utf-8")


# The article's network written as one formula: the same figures.
ARTICLE_FORMULA = (
    "0.5*(0.01 - sigmoid(w5*sigmoid(w1*i1 + w2*i2 + b1) + w6*sigmoid(w3*i1 + w4*i2 + b1) + b2))**2"
    " + 0.5*(0.99 - sigmoid(w7*sigmoid(w1*i1 + w2*i2 + b1) + w8*sigmoid(w3*i1 + w4*i2 + b1) + b2))"
    "**2"
)
ARTICLE_VALUES = [
    "i1=0.05", "i2=0.10", "b1=0.35", "b2=0.60", "w1=0.15", "w2=0.20", "w3=0.25", "w4=0.30",
    "w5=0.40", "w6=0.45", "w7=0.50", "w8=0.55",
]  # fmt: skip


def test_viz_on_a_formula_with_parameters_has_the_update_steps_and_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "formula.html"
    weights = ",".join(f"w{k}" for k in range(1, 9))
    argv = ["viz", ARTICLE_FORMULA, *ARTICLE_VALUES, "--parameters", weights, "-o", str(out)]
    assert cli.main(argv) == 0
    assert "8 update steps, the forward pass again and 10,000 updates" in capsys.readouterr().out
    data = page_json(out.read_text(encoding="utf-8"))
    texts = [s["text"] for s in data["steps"] if s["kind"] == "update"]
    w5 = next(t for t in texts if t.startswith("w5⁺"))
    assert w5.endswith("= 0.4 − 0.5 × 0.082167041 = 0.358916480")
    again = next(s for s in data["steps"] if s["kind"] == "again")
    assert "= 0.291027774 (was 0.298371109)" in again["heading"]
    run = data["learning"]["run"]
    assert run["series"][run["rootSeries"]][-1] == "0.000035102"


def test_a_first_update_that_fails_is_said_with_a_smaller_lr_to_try(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # w⁺ = 0.1 − 0.5 × 10 = −4.9: the forward pass again takes the log of a negative number
    w = Value(0.1, "w")
    y = w.log()
    y.backward()
    with pytest.raises(FirstUpdateError) as raised:
        Stepper(y, learning=Learning([w], lr=0.5))
    assert raised.value.lr == 0.5
    assert raised.value.reason == "log: needs a positive number, got -4.9"
    out = tmp_path / "log.html"
    for given, said in [([], "0.5 (the default)"), (["--lr", "0.2"], "0.2")]:
        argv = ["viz", "log(w)", "w=0.1", "--parameters", "w", "-o", str(out), *given]
        assert cli.main(argv) == 1
        _, err = capsys.readouterr()
        assert err == (
            "tinygrad-bp: error: the run stopped after 0 updates: the first update, with --lr "
            f"{said}, leads to log: needs a positive number, got "
            f"{-4.9 if not given else 0.1 - 0.2 * 10}; a smaller --lr may help\n"
        )
    assert not out.exists()
    assert (
        cli.main(["viz", "log(w)", "w=0.1", "--parameters", "w", "-o", str(out), "--lr", "1e-3"])
        == 0
    )
    assert out.exists()


def test_viz_on_a_formula_without_parameters_has_no_update_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "f.html"
    assert cli.main(["viz", "(x*w - 1)**2", "x=2", "w=3", "-o", str(out)]) == 0
    assert "update" not in capsys.readouterr().out
    assert "learning" not in page_json(out.read_text(encoding="utf-8"))
    for option, value in (("--lr", "0.1"), ("--updates", "10")):
        status = cli.main(["viz", "(x*w - 1)**2", "x=2", "w=3", "-o", str(out), option, value])
        assert status == 1
        err = capsys.readouterr().err
        assert f"{option} is for the update steps, which need parameters" in err
    with pytest.raises(SystemExit) as info:  # a usage error, found by argparse
        cli.main(["viz", "mazur", "-o", str(out), "--updates", "1000001"])
    assert info.value.code == 2
    assert "expected at most 1,000,000 updates" in capsys.readouterr().err
