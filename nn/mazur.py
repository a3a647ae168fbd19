"""Matt Mazur's "A Step by Step Backpropagation Example", with the article's names.

Two inputs, two hidden and two output neurons, logistic activation on all
four, one training case, learning rate 0.5; biases b1 and b2 are each shared
by a layer and stay fixed unless asked. Every gradient comes from the
engine's generic ``backward()``.

>>> from nn import mazur
>>> model = mazur.network()
>>> step = mazur.forward(model)
>>> round(step.E_total.data, 9)
0.298371109
>>> step.E_total.backward()
>>> round(mazur.weight(model, "w5").grad, 9)
0.082167041
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tinygrad_bp import Value

from .losses import half_squared_errors
from .module import MLP

INPUTS = (0.05, 0.10)  # i1, i2
TARGETS = (0.01, 0.99)  # for o1, o2
WEIGHTS = [
    [[0.15, 0.20], [0.25, 0.30]],  # w1, w2 into h1; w3, w4 into h2
    [[0.40, 0.45], [0.50, 0.55]],  # w5, w6 into o1; w7, w8 into o2
]
BIASES = [0.35, 0.60]  # b1 shared by h1 and h2, b2 by o1 and o2
LEARNING_RATE = 0.5

# The article's closing figures, and why they differ from exact arithmetic.
ARTICLE_CLOSING = {"after 1 update": 0.291027924, "after 10,000 updates": 0.000035085}
ERRATUM = (
    "The article's closing paragraph says 0.291027924 after the first update and "
    "0.000035085 after 10,000. Those came from an early version of its author's "
    "script, which computed the hidden-layer deltas with the already-updated output "
    "weights; the article's own worked updates (w5+, w1+) and the corrected script "
    "give the figures above."
)


def network() -> MLP:
    """The article's 2-2-2 network, labelled w1..w8, b1, b2, h1, h2, o1, o2."""
    return MLP.from_weights(WEIGHTS, BIASES, activation="sigmoid", output_activation="sigmoid")


def weight(model: MLP, label: str) -> Value:
    """The parameter of ``model`` labelled ``label`` (e.g. "w5")."""
    for p in model.parameters():
        if p.label == label:
            return p
    names = ", ".join(p.label for p in model.parameters())
    raise KeyError(f"no parameter labelled {label!r}; the parameters are {names}")


@dataclass
class ForwardPass:
    """One forward pass through the article's network, keeping the named nodes."""

    inputs: list[Value]  # i1, i2
    outputs: list[Value]  # out_o1, out_o2
    errors: list[Value]  # E_o1, E_o2
    E_total: Value


def forward(
    model: MLP, inputs: Sequence[float] = INPUTS, targets: Sequence[float] = TARGETS
) -> ForwardPass:
    """Run the network and the error, labelling nodes as the article does."""
    xs = [Value(x, f"i{k + 1}") for k, x in enumerate(inputs)]
    outputs = model(xs)
    assert isinstance(outputs, list)
    errors = half_squared_errors(outputs, targets)
    for k, e in enumerate(errors):
        e.label = f"E_o{k + 1}"
    E_total = errors[0] + errors[1]
    E_total.label = "E_total"
    return ForwardPass(xs, outputs, errors, E_total)


def backpropagated() -> tuple[MLP, ForwardPass]:
    """The article's network after one forward and one backward pass.

    >>> model, step = backpropagated()
    >>> round(weight(model, "w1").grad, 9)
    0.000438568
    """
    model = network()
    step = forward(model)
    model.zero_grad()
    step.E_total.backward()
    return model, step


def trained_parameters(model: MLP, train_biases: bool = False) -> list[Value]:
    """What the article trains: the weights only (the biases too if asked)."""
    if train_biases:
        return model.parameters()
    return [w for layer in model.layers for n in layer.neurons for w in n.w]


def train_step(model: MLP, params: Sequence[Value], lr: float = LEARNING_RATE) -> ForwardPass:
    """One forward pass, one backward pass, then every parameter updated together.

    The backward pass sees the ORIGINAL weights throughout; the updates
    w+ = w − lr·∂E_total/∂w come after all gradients are known.
    """
    step = forward(model)
    model.zero_grad()
    step.E_total.backward()
    for p in params:
        p.data -= lr * p.grad
    return step


def train(
    model: MLP, steps: int, lr: float = LEARNING_RATE, train_biases: bool = False
) -> ForwardPass:
    """``steps`` updates; returns a forward pass with the final weights."""
    params = trained_parameters(model, train_biases)
    for _ in range(steps):
        train_step(model, params, lr)
    return forward(model)
