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

``report()`` gives the whole walkthrough as the lines ``tinygrad-bp mazur``
prints.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tinygrad_bp import Value
from tinygrad_bp.graph import topological_order
from tinygrad_bp.show import Explainer
from tinygrad_bp.tracing.tracer import trace as trace_graph

from ._util import stop_requests
from .losses import half_squared_errors
from .module import MLP
from .optim import SGD, Optimizer
from .train import TrainingInterrupted

INPUTS = (0.05, 0.10)  # i1, i2
TARGETS = (0.01, 0.99)  # for o1, o2
WEIGHTS = [
    [[0.15, 0.20], [0.25, 0.30]],  # w1, w2 into h1; w3, w4 into h2
    [[0.40, 0.45], [0.50, 0.55]],  # w5, w6 into o1; w7, w8 into o2
]
BIASES = [0.35, 0.60]  # b1 shared by h1 and h2, b2 by o1 and o2
LEARNING_RATE = 0.5

# E_total after 1 and after 10,000 updates: as the article's closing paragraph
# gives it, and as exact arithmetic (and the author's corrected script) gives it.
ARTICLE_CLOSING = {1: 0.291027924, 10_000: 0.000035085}
EXACT_CLOSING = {1: 0.291027774, 10_000: 0.000035102}


def erratum(steps: int = 1, train_biases: bool = False) -> str:
    """Where the article's closing figures come from, said against what a run printed.

    ``steps`` and ``train_biases`` are the run's: the text says which of the
    exact figures the run's own output shows.

    >>> erratum(10_000).endswith("give 0.291027774 and 0.000035102, as above.")
    True
    """
    article, exact = ARTICLE_CLOSING, EXACT_CLOSING
    if train_biases:
        shown = " with the biases fixed, as the article keeps them (above, they were trained too)."
    elif steps == 10_000:
        shown = ", as above."
    elif steps == 1:
        shown = ", the first as above (--steps 10000 shows the second)."
    else:
        shown = ", the first as above."
    return (
        f"The article's closing paragraph says {article[1]:.9f} after the first update and "
        f"{article[10_000]:.9f} after 10,000. Those came from an early version of its author's "
        "script, which computed the hidden-layer deltas with the already-updated output "
        "weights; the article's own worked updates (w5+, w1+) and the corrected script "
        f"give {exact[1]:.9f} and {exact[10_000]:.9f}{shown}"
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


def train_step(model: MLP, optimizer: Optimizer) -> ForwardPass:
    """One forward pass, one backward pass, then every parameter updated together.

    The backward pass sees the ORIGINAL weights throughout; the updates
    (w+ = w − lr·∂E_total/∂w for SGD) come after all gradients are known.
    Returns the forward pass made before the update.
    """
    step = forward(model)
    optimizer.zero_grad()
    step.E_total.backward()
    optimizer.step()
    return step


# Traced updates run this many at a time between two looks for Ctrl-C.
CHUNK = 1000


def train(
    model: MLP,
    steps: int,
    lr: float = LEARNING_RATE,
    train_biases: bool = False,
    *,
    trace: bool = True,
) -> ForwardPass:
    """``steps`` updates of plain SGD; returns a forward pass with the final weights.

    By default the graph of one forward pass is traced once and the updates
    run as generated code (``Traced.sgd``), with the same numbers, to the
    last bit, as ``trace=False``: ``train_step`` on a graph built anew for
    every update. Traced, only the trained parameters are given gradients;
    ``trace=False`` also accumulates into the fixed biases' ``.grad``.

    Ctrl-C stops between two updates and raises TrainingInterrupted saying
    how many were made.

    >>> round(train(network(), 1).E_total.data, 9)
    0.291027774
    """
    optimizer = SGD(trained_parameters(model, train_biases), lr=lr)
    if trace:
        traced = trace_graph(forward(model).E_total)
        made = 0
        with stop_requests() as stop:
            while made < steps:
                if stop.requested:
                    raise TrainingInterrupted(made, steps)
                chunk = min(CHUNK, steps - made)
                done = traced.sgd(optimizer.params, optimizer.lr, chunk)
                made += done
                if done < chunk:
                    optimizer.step()  # a gradient is inf or NaN: SGD says which, and stops
            if stop.requested:
                raise TrainingInterrupted(steps, steps)
        return forward(model)
    with stop_requests() as stop:
        for k in range(steps):
            if stop.requested:
                raise TrainingInterrupted(k, steps)
            train_step(model, optimizer)
        if stop.requested:
            raise TrainingInterrupted(steps, steps)
    return forward(model)


def code() -> str:
    """The article's network as generated code: its forward pass, then its backward pass.

    >>> print(code().splitlines()[15])
        net_h1 = w1 * i1 + w2 * i2 + b1
    """
    return trace_graph(forward(network()).E_total).source


def _f(x: float) -> str:
    """The article's figures are written to 9 decimals."""
    return f"{x:.9f}"


def report(
    steps: int = 1, train_biases: bool = False, explain: str | None = None, *, trace: bool = True
) -> Iterator[str]:
    """The article, reproduced: the lines ``tinygrad-bp mazur`` prints, one at a time.

    The setup, the forward pass, every gradient and updated weight, the
    error after the first update (and after ``steps`` updates in all), the
    erratum; with ``explain`` (a label such as "w5", or "all" for every
    weight), then the chain rule for ∂E_total/∂explain as the article works
    it. The lines come as they are computed, so a long run shows the
    walkthrough first; a Ctrl-C in the training raises TrainingInterrupted
    counting the walkthrough's update. The updates after the first run as
    traced code unless ``trace=False``; the figures are the same.

    >>> lines = list(report())
    >>> next(line for line in lines if "∂E_total/∂w5" in line)
    '  ∂E_total/∂w5  =  0.082167041    w5⁺ = 0.358916480'
    """
    model = network()
    params = trained_parameters(model, train_biases)
    hidden = model.layers[0]

    yield "A Step by Step Backpropagation Example (Matt Mazur), reproduced with tinygrad_bp."
    yield "Every gradient below comes from one generic E_total.backward()."
    yield ""
    (i1, i2), (t1, t2) = INPUTS, TARGETS
    yield (
        f"Setup: i1 = {i1}, i2 = {i2}; targets {t1} (o1), {t2} (o2); learning rate {LEARNING_RATE}"
    )
    for layer in model.layers:
        ws = "  ".join(f"{w.label} = {w.data}" for n in layer.neurons for w in n.w)
        yield f"  {ws}  {layer.neurons[0].b.label} = {layer.neurons[0].b.data}"

    step = forward(model)
    yield ""
    yield "The forward pass"
    sources = [[x.label for x in step.inputs], [f"out_{n.name}" for n in hidden.neurons]]
    nodes = {n.label: n for n in topological_order(step.E_total)}
    for layer, names in zip(model.layers, sources):
        for neuron in layer.neurons:
            terms = " + ".join(f"{w.label}·{x}" for w, x in zip(neuron.w, names))
            net = nodes[f"net_{neuron.name}"].data
            out = nodes[f"out_{neuron.name}"].data
            yield (
                f"  net_{neuron.name} = {terms} + {neuron.b.label} = {_f(net)}"
                f"    out_{neuron.name} = sigmoid(net_{neuron.name}) = {_f(out)}"
            )
    for k, (e, t) in enumerate(zip(step.errors, TARGETS)):
        yield f"  {e.label} = ½({t} − out_o{k + 1})² = {_f(e.data)}"
    yield f"  E_total = E_o1 + E_o2 = {_f(step.E_total.data)}"

    optimizer = SGD(params, lr=LEARNING_RATE)
    optimizer.zero_grad()
    step.E_total.backward()
    # The derivations read this pass's gradients: make them before the update.
    explained = _explanations(step.E_total, trained_parameters(model), explain)
    lr = optimizer.lr
    yield ""
    yield (
        f"The backward pass: E_total.backward(), then every update at once, "
        f"w⁺ = w − {lr}·∂E_total/∂w"
    )
    for p in params:
        updated = p.data - lr * p.grad  # what optimizer.step() below will make it
        yield f"  ∂E_total/∂{p.label:<3} = {p.grad:>12.9f}    {p.label}⁺ = {_f(updated)}"
    if not train_biases:
        yield "  (b1 and b2 stay fixed, as in the article; --train-biases trains them too)"
    optimizer.step()

    after = forward(model)
    yield ""
    yield (
        f"After the first update: E_total = {_f(after.E_total.data)} "
        f"(was {_f(step.E_total.data)}), out_o1 = {_f(after.outputs[0].data)}, "
        f"out_o2 = {_f(after.outputs[1].data)}"
    )

    if steps > 1:
        try:
            final = train(model, steps - 1, lr, train_biases, trace=trace)
        except TrainingInterrupted as stop:
            raise TrainingInterrupted(stop.updates + 1, steps) from None
        error = final.E_total.data
        yield (
            f"After {steps} updates: E_total = {_f(error)} ({error:.4e}), "
            f"out_o1 = {_f(final.outputs[0].data)}, out_o2 = {_f(final.outputs[1].data)}"
        )
    yield ""
    text = "About the article's closing figures: " + erratum(steps, train_biases)
    yield from textwrap.fill(text, width=88).split("\n")
    if explained:
        yield ""
        yield "The chain rule, as the article works it (numbers from the first backward pass):"
        for derivation in explained:
            yield ""
            yield from derivation.split("\n")


def _explanations(root: Value, weights: Sequence[Value], target: str | None) -> list[str]:
    """The derivations asked for: none, one label's, or every weight's ("all")."""
    if target is None:
        return []
    explainer = Explainer(root)
    if target == "all":
        return [explainer.derivation(w).text() for w in weights]
    return [explainer.derivation(target).text()]
