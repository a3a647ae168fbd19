"""The nn package: shapes, labels, seeds, explicit weights and their validation."""

from __future__ import annotations

import math

import pytest

from nn import MLP, Layer, Neuron
from tinygrad_bp import Value


def test_defaults_are_relu_hidden_and_linear_output() -> None:
    model = MLP(2, [3, 1], seed=0)
    out = model([1.0, -2.0])
    assert isinstance(out, Value)
    assert out.op == "Σwx+b" and out.label == "net_o1"  # linear: the output is the net
    hidden = out.parents[3]
    assert hidden.op == "relu" and hidden.label == "out_h1"


def test_a_network_backpropagates_like_finite_differences() -> None:
    model = MLP(3, [4, 4, 2], activation="tanh", output_activation="sigmoid", seed=5)
    x = [0.3, -0.7, 1.1]

    def loss() -> Value:
        a, b = model(x)  # type: ignore[misc]
        return a * 2.0 - b

    model.zero_grad()
    loss().backward()
    h = 1e-6
    for p in model.parameters():
        p.data += h
        up = loss().data
        p.data -= 2 * h
        down = loss().data
        p.data += h
        assert p.grad == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8), p.label


def test_seeded_initialisation_is_deterministic() -> None:
    a, b, c = MLP(2, [8, 1], seed=3), MLP(2, [8, 1], seed=3), MLP(2, [8, 1], seed=4)
    assert a.get_weights() == b.get_weights()
    assert a.get_weights() != c.get_weights()
    assert all(-1.0 <= w.data <= 1.0 for w in a.parameters())


def test_parameter_counts_labels_and_zero_grad() -> None:
    model = MLP(2, [16, 16, 1])
    params = model.parameters()
    assert len(params) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 337
    assert len({p.label for p in params}) == 337
    assert params[0].label == "w1" and params[2].label == "b1"
    out = model([0.5, 0.5])
    assert isinstance(out, Value)
    assert {n.label for n in out.parents if n.label.startswith("out_")} == {
        f"out_h2_{j}" for j in range(1, 17)
    }
    out.backward()
    assert any(p.grad != 0.0 for p in params)
    model.zero_grad()
    assert all(p.grad == 0.0 for p in params)


def test_renaming_a_neuron_renames_what_its_next_calls_make() -> None:
    layer = Layer(2, 2, "tanh", name="h")
    assert [out.label for out in layer([1.0, -1.0])] == ["out_h1", "out_h2"]
    layer.neurons[1].name = "special"
    outs = layer([1.0, -1.0])
    assert [out.label for out in outs] == ["out_h1", "out_special"]
    assert outs[1].parents[0].label == "net_special"
    alone = layer.neurons[1]([1.0, -1.0])
    assert (alone.label, alone.parents[0].label) == ("out_special", "net_special")


def test_shared_bias_is_one_parameter() -> None:
    layer = Layer(2, 3, "sigmoid", shared_bias=True)
    assert len(layer.parameters()) == 7
    assert len({id(n.b) for n in layer.neurons}) == 1


def test_unknown_activation_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match="'relu', 'tanh', 'sigmoid', 'linear'") as info:
        MLP(2, [2], activation="softmax")
    assert "'softmax'" in str(info.value)
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        Neuron(2, "gelu")


def test_wrong_input_dimension() -> None:
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        MLP(2, [2])([1.0, 2.0, 3.0])


ARTICLE_W = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]


def test_from_weights_builds_the_articles_network() -> None:
    net = MLP.from_weights(ARTICLE_W, [0.35, 0.60], "sigmoid", "sigmoid")
    out_o1, out_o2 = net([0.05, 0.10])  # type: ignore[misc]
    assert round(out_o1.data, 9) == 0.751365070
    assert round(out_o2.data, 9) == 0.772928465
    assert net.get_weights() == (ARTICLE_W, [0.35, 0.60])


def test_per_neuron_biases() -> None:
    net = MLP.from_weights([[[1.0], [2.0]], [[1.0, 1.0]]], [[0.5, -0.5], [0.0]], "linear")
    assert net([1.0]).data == 1.5 + 1.5  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("weights", "biases", "message"),
    [
        ([], [0.35], "weights: expected a non-empty list of layers, got a list of 0"),
        ([[[0.1, 0.2]], [[0.4, 0.45, 0.5]]], [0.3, 0.6], r"weights\[1\]\[0\]: expected 1 weights"),
        (
            [[[0.1, 0.2], [0.3]]],
            [0.3],
            r"weights\[0\]\[1\]: expected 2 weights \(one per input\), got a list of 1",
        ),
        (ARTICLE_W, [0.35], r"biases: expected 2 entries \(one per layer\), got a list of 1"),
        (ARTICLE_W, [0.35, [0.6]], r"biases\[1\]: expected a list of 2 biases"),
        (ARTICLE_W, [0.35, "0.6"], r"biases\[1\]: expected a finite number, got '0.6'"),
        ([[[0.1, math.nan]]], [0.0], r"weights\[0\]\[0\]\[1\]: expected a finite number, got nan"),
    ],
)
def test_from_weights_rejects_wrong_shapes(weights: list, biases: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MLP.from_weights(weights, biases)


def test_set_weights_is_all_or_nothing() -> None:
    net = MLP.from_weights(ARTICLE_W, [0.35, 0.60], "sigmoid", "sigmoid")
    before = net.get_weights()
    bad = [[[9.0, 9.0], [9.0, 9.0]], [[9.0, 9.0], [9.0, "x"]]]  # fails on the very last entry
    with pytest.raises(ValueError, match=r"weights\[1\]\[1\]\[1\]"):
        net.set_weights(bad, [1.0, 1.0])  # type: ignore[arg-type]
    assert net.get_weights() == before
    with pytest.raises(ValueError, match="this layer's neurons share one bias"):
        net.set_weights(ARTICLE_W, [[1.0, 1.0], 0.6])
    assert net.get_weights() == before
