"""The playground's run: its settings, its numbers (the engine's), its chain rules, its page."""

from __future__ import annotations

import base64
import json
import math
import re

import pytest

from nn.playground import Session, Settings, SettingsError
from nn.playground.page import record
from nn.playground.settings import MAX_LAYERS
from tinygrad_bp import explain


def small(**changes: object) -> Settings:
    return Settings().changed({"points": 60, **changes})


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"layers": "8,40"}, "layers: at most 32 neurons a layer, got 40"),
        ({"layers": ",".join(["2"] * (MAX_LAYERS + 1))}, "at most 8 hidden layers, got 9"),
        ({"points": "6000"}, "points: expected 4 to 5,000, got 6,000"),
        ({"lr": "0"}, "lr: expected a number above 0 and at most 10, got 0"),
        ({"lr": "nan"}, "lr: expected a number above 0"),
        ({"noise": "lots"}, "noise: expected a number, got 'lots'"),
        ({"dataset": "<script>"}, "dataset: expected one of moons, xor, spirals, circles, gauss"),
        ({"features": "x3"}, "features: unknown feature 'x3'"),
        ({"colour": "red"}, "unknown setting 'colour'"),
        ({"batch_size": "500", "points": "100"}, "batch_size: at most the 100 points, got 500"),
    ],
)
def test_a_bad_setting_is_refused_whole(values: dict[str, str], message: str) -> None:
    before = Settings()
    with pytest.raises(SettingsError, match=re.escape(message)):
        before.changed({"seed": "5", **values})
    assert before == Settings()  # nothing half applied: settings are values


def test_settings_round_trip_through_a_urls_hash() -> None:
    s = Settings().changed(
        {"dataset": "circles", "layers": "4,3", "features": "x1sq,x2sq", "lr": 0.1, "seed": 7}
    )
    assert Settings.from_hash(s.to_hash()) == s
    assert "dataset=circles" in s.to_hash() and "layers=4%2C3" in s.to_hash()


# -- the run -------------------------------------------------------------------------------------


def test_the_same_settings_give_the_same_numbers() -> None:
    a, b = Session(small(seed=3)), Session(small(seed=3))
    a.step(20)
    b.step(20)
    sa, sb = a.snapshot(), b.snapshot()
    assert sa.pop("run") != sb.pop("run")  # two runs ...
    assert sa == sb  # ... of the same numbers
    c = Session(small(seed=4))
    c.step(20)
    assert c.snapshot()["train_loss"] != a.snapshot()["train_loss"]


def test_training_lowers_the_loss_and_the_curve_records_it() -> None:
    s = Session(small(dataset="gauss", noise=0.2, lr=0.1))
    first = s.snapshot()["train_loss"]
    s.step(150)
    snap = s.snapshot()
    assert snap["step"] == 150 and snap["train_loss"] < first / 2
    assert snap["curve"][0][0] == 0 and snap["curve"][-1] == [
        150,
        snap["train_loss"],
        snap["test_loss"],
    ]


def test_the_pictures_are_every_neurons_output_over_the_plane() -> None:
    s = Session(small(layers="3", activation="relu"))
    snap = s.snapshot(grid_size=8)
    out = snap["layers"][-1][0]
    pixels = base64.b64decode(out["picture"])
    assert len(pixels) == 64
    # The output's picture at one grid point is the model's score there (clamped to ±1).
    x0, x1, y0, y1 = snap["bounds"]
    i, j = 5, 2
    point = [x0 + (x1 - x0) * (i + 0.5) / 8, y1 - (y1 - y0) * (j + 0.5) / 8]
    score = s.model(point).data  # type: ignore[union-attr]
    assert pixels[j * 8 + i] == round((max(-1.0, min(1.0, score)) + 1.0) * 127.5)
    assert [len(layer) for layer in snap["layers"]] == [3, 1]
    assert [f["label"] for f in snap["inputs"]] == ["x₁", "x₂"]


def test_a_weights_chain_rule_is_explain_on_the_last_minibatch() -> None:
    s = Session(small(batch_size=6))
    s.step(7)
    got = s.explain_weight(0, 1, 0)
    # Independently: the last minibatch's loss, built by the engine at the parameters
    # the last update read, backward(), then explain().
    now = [p.data for p in s.parameters]
    assert s.before_update is not None
    for p, v in zip(s.parameters, s.before_update):
        p.data, p.grad = v, 0.0
    X = [x for x, _ in s.last_batch]
    y = [label for _, label in s.last_batch]
    loss, _ = s.loss(s.model, X, y)
    loss.label = "L"
    loss.backward()
    w = s.model.layers[0].neurons[1].w[0]
    expected_text, expected_grad = explain(loss, w), w.grad
    for p, v in zip(s.parameters, now):
        p.data = v
    assert got["text"] == expected_text
    assert got["gradient"] == pytest.approx(expected_grad, rel=1e-12)
    # ... and the gradient the update used, from the batched trace, is the same to 1e-12
    assert s.snapshot()["layers"][0][1]["grads"][0] == pytest.approx(expected_grad, rel=1e-12)


def test_a_neurons_sum_and_activation_with_numbers() -> None:
    s = Session(small(layers="2", activation="tanh"))
    text = s.explain_neuron(0, 1)["text"]
    net_line, out_line = text.splitlines()
    x = s.train[0][0]
    n = s.model.layers[0].neurons[1]
    net = sum(w.data * v for w, v in zip(n.w, x)) + n.b.data
    assert net_line.endswith(f"= {net:.9g}")
    assert out_line == f"out_{n.name} = tanh(net_{n.name}) = {math.tanh(net):.9g}"


def test_a_weight_set_by_hand_is_where_the_next_step_starts() -> None:
    s = Session(small())
    s.set_weight(0, 0, 1, 2.5)
    assert s.model.layers[0].neurons[0].w[1].data == 2.5
    s.step(1)
    assert s.before_update is not None and s.before_update[1] == 2.5
    with pytest.raises(SettingsError, match="neuron: expected 0 to 7, got 9"):
        s.set_weight(0, 9, 0, 1.0)
    with pytest.raises(SettingsError, match="a weight must be a finite number"):
        s.set_weight(0, 0, 0, math.inf)


def test_changing_the_pace_keeps_the_run_and_anything_else_starts_anew() -> None:
    s = Session(small())
    s.step(5)
    same = s.apply(s.settings.changed({"lr": 0.5, "batch_size": 4, "regularization": "l2"}))
    assert same is s and s.steps == 5 and s.optimizer.lr == 0.5
    new = s.apply(s.settings.changed({"layers": "3"}))
    assert new is not s and new.steps == 0 and len(new.model.layers) == 2


# -- the recorded page ---------------------------------------------------------------------------


def recording(page: str) -> dict[str, object]:
    text = page.split("const RECORDING = ", 1)[1].split(";\nconst live", 1)[0]
    return json.loads(text)  # type: ignore[no-any-return]


def test_a_recorded_page_holds_its_frames_and_chain_rules() -> None:
    page = record(small(batch_size=60, layers="4"), steps=30, frames=4)
    data = recording(page)
    frames = data["frames"]
    assert [f["step"] for f in frames] == [0, 10, 20, 30]  # type: ignore[index]
    last = frames[-1]  # type: ignore[index]
    # Each weight's recorded chain rule sums to its recorded gradient (6 digits).
    flat = [g for layer in last["layers"] for n in layer for g in (*n["grads"], n["bias_grad"])]
    for (gradient, count, terms), g in zip(last["chain"], flat):
        assert gradient == pytest.approx(g, rel=1e-5, abs=1e-12)
        assert count >= len(terms) and count == 30  # the 30 training points, the whole batch
    assert "</script" not in page.split("const RECORDING", 1)[1].split("</script>")[0]


def test_a_moons_run_of_1000_steps_fits_in_3_mb() -> None:
    settings = Settings().changed(
        {
            "layers": "16,16",
            "points": 100,
            "batch_size": 90,
            "activation": "relu",
            "train_percent": 90,
        }
    )
    page = record(settings, steps=1_000)
    assert len(page.encode("utf-8")) < 3_000_000


def test_a_recorded_chain_rules_terms_are_explains_terms() -> None:
    from nn.playground.page import chain_rules

    s = Session(small(batch_size=8))
    s.step(3)
    names: dict[str, int] = {}
    rules = chain_rules(s, names)
    by_place = {place: name for name, place in names.items()}
    loss = s.gradient_graph()
    w = s.parameters[0]
    now = w.data
    assert s.before_update is not None
    w.data = s.before_update[0]
    first, second = explain(loss, w).splitlines()[:2]
    w.data = now
    terms = first.split(" = ", 1)[1].split(" + ")
    products = second.split("=", 1)[1].rsplit(" = ", 1)[0].split(" + ")
    _, count, top = rules[0]
    assert count == len(terms) == 8
    for place, dL, local in top:  # each kept term is explain's term of the same name
        name = by_place[place]
        k = next(k for k, t in enumerate(terms) if t.startswith(f"∂L/∂{name} "))
        a, b = (float(x) for x in products[k].split(" × "))
        assert (dL, local) == (pytest.approx(a, rel=1e-3), pytest.approx(b, rel=1e-3))
