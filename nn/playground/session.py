"""A playground run on the real engine: the data, the network, the traced training, snapshots.

``Session(settings)`` makes the points, splits them into training and test
points, builds the MLP and traces one point's loss term (run over each
minibatch at once, ``Traced.batched``, as ``fit`` runs it). ``step(n)``
makes n updates. ``snapshot()`` is everything a page draws, as JSON-ready
data: every neuron's output over the plane (computed by a trace of the
network run over a grid of points), the weights and the gradients of the
last update, the losses and their curve. ``explain_weight`` is the chain
rule of one weight's gradient at the last update, written by
``tinygrad_bp.explain`` from the graph of that minibatch built by the
engine; ``explain_neuron`` a neuron's Σwx+b and activation at one point.

>>> s = Session(Settings(points=40, batch_size=10))
>>> s.step(5)
>>> snap = s.snapshot()
>>> snap["step"], len(snap["layers"]), snap["train_loss"] < 2.0
(5, 3, True)
"""

from __future__ import annotations

import base64
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from tinygrad_bp import Value, explain, total, trace
from tinygrad_bp.checks import printable
from tinygrad_bp.sums import net_parts

from ..data import DATASETS, with_features
from ..losses import hinge, hinge_term, l2
from ..module import MLP
from ..optim import SGD, Adam, Optimizer
from ..train import ExampleLoss, accuracy, numpy_available, scores
from .settings import FEATURE_LABELS, Settings, SettingsError

GRID = 32  # the pictures' points a side
CURVE_POINTS = 400  # the loss curve keeps at most this many points (every other one, past it)


class PlaygroundLoss(ExampleLoss):
    """The moons demo's hinge loss, mean(max(0, 1 − yᵢ·scoreᵢ)), plus an L1 or L2 penalty."""

    def __init__(self, regularization: str = "none", rate: float = 0.0) -> None:
        self.regularization, self.rate = regularization, rate

    def term(self, model: MLP, x: Sequence[Value], label: Value) -> tuple[Value, ...]:
        score = model(x)
        assert isinstance(score, Value)
        return hinge_term(score, label), score

    def penalty(self, model: MLP) -> Value | None:
        params = model.parameters()
        if self.regularization == "l2" and self.rate:
            return self.rate * l2(params)
        if self.regularization == "l1" and self.rate:
            return self.rate * total([abs(p) for p in params])
        return None

    def __call__(
        self, model: MLP, X: Sequence[Sequence[float]], y: Sequence[int]
    ) -> tuple[Value, float]:
        s = scores(model, X)
        loss = hinge(s, y)
        penalty = self.penalty(model)
        return (loss if penalty is None else loss + penalty), accuracy(s, y)


class Session:
    """One run: see the module docstring. Not thread-safe: a server holds a lock around it."""

    runs = itertools.count(1)  # each run's number: a page tells a new run from an old answer

    def __init__(self, settings: Settings) -> None:
        self.settings = s = settings
        self.run_id = next(Session.runs)
        points, labels = DATASETS[s.dataset](s.points, noise=s.noise, seed=s.seed, signed=True)
        k = s.train_test()
        self.train_points, self.test_points = points[:k], points[k:]
        self.train_labels, self.test_labels = labels[:k], labels[k:]
        self.train = list(zip(with_features(self.train_points, s.features), self.train_labels))
        self.test = list(zip(with_features(self.test_points, s.features), self.test_labels))
        activation = None if s.activation == "linear" else s.activation
        self.model = MLP(len(s.features), [*s.layers, 1], activation=activation, seed=s.seed)
        self.parameters = self.model.parameters()
        self.optimizer = self._optimizer()
        self.rng = random.Random(s.seed)
        self.order: list[int] = []
        self.steps = 0
        self.last_batch: list[tuple[list[float], int]] = self.train[: s.batch_size]
        self.before_update: list[float] | None = (
            None  # the parameters the last gradient was taken at
        )
        self.curve: list[list[float]] = []
        self._retrace()
        self._pictures = self._trace_pictures()
        self.bounds = _bounds(points)
        self.curve.append([0, *self.losses()])

    # -- building
    def _optimizer(self) -> Optimizer:
        s = self.settings
        if s.optimizer == "adam":
            return Adam(self.parameters, lr=s.lr)
        return SGD(self.parameters, lr=s.lr)

    def _retrace(self) -> None:
        """Trace one point's term of the loss (and a score alone, for the losses reported)."""
        s = self.settings
        self.loss = PlaygroundLoss(s.regularization, s.reg_rate)
        x, label = self.train[0]
        model = self.model
        self.traced = trace(
            lambda x, y: self.loss.term(model, x, y), x, label, penalty=self.loss.penalty(model)
        )
        self.scored = trace(lambda x, y: self.loss.term(model, x, y), x, label)
        batched = numpy_available()
        self.run = self.traced.batched if batched else self.traced
        self.score_run = self.scored.batched if batched else self.scored

    def _trace_pictures(self) -> Any:
        """A trace of the network's every neuron over one point: run over the plane's grid."""
        model = self.model

        def neurons(x: list[Value]) -> tuple[Value, ...]:
            outs: list[Value] = []
            h: list[Value] = x
            for layer in model.layers:
                h = layer(h)
                outs += h
            return (outs[-1], *outs)

        t = trace(neurons, self.train[0][0])
        return t.batched if numpy_available() else t

    def apply(self, settings: Settings) -> Session:
        """This run with new settings: the same run where only the training's pace changed
        (learning rate, batch size, regularization), else a new run (a new Session)."""
        pace = {"lr", "batch_size", "regularization", "reg_rate", "optimizer"}
        changed = {k for k, v in settings.to_dict().items() if v != self.settings.to_dict()[k]}
        if not changed <= pace:
            return Session(settings)
        self.settings = settings
        if "optimizer" in changed:
            self.optimizer = self._optimizer()
        self.optimizer.lr = settings.lr
        if {"regularization", "reg_rate"} & changed:  # the penalty is in the traced graph
            self._retrace()
        return self

    # -- training
    def next_batch(self) -> list[tuple[list[float], int]]:
        """The next minibatch: the training points in a seeded shuffle, epoch after epoch."""
        size = min(self.settings.batch_size, len(self.train))  # at most one of each point
        if len(self.order) < size:
            order = list(range(len(self.train)))
            self.rng.shuffle(order)
            self.order += order
        batch, self.order = self.order[:size], self.order[size:]
        return [self.train[k] for k in batch]

    def step(self, n: int = 1) -> None:
        """``n`` updates, each on the next minibatch; then the losses are added to the curve."""
        for _ in range(n):
            batch = self.next_batch()
            self.optimizer.zero_grad()
            self.run(batch, mean=True)
            self.before_update = [p.data for p in self.parameters]
            self.last_batch = batch
            self.optimizer.step()
            self.steps += 1
        self.curve.append([self.steps, *self.losses()])
        if len(self.curve) > CURVE_POINTS:
            self.curve = self.curve[:1] + self.curve[1::2]

    def set_weight(self, layer: int, neuron: int, index: int | None, value: float) -> None:
        """Set one weight (``index``; None: the bias) by hand: the next step starts from it."""
        p = self.parameter(layer, neuron, index)
        if not math.isfinite(value) or abs(value) > 1e6:
            raise SettingsError(f"a weight must be a finite number within ±1e6, got {value!r}")
        p.data = value

    def parameter(self, layer: int, neuron: int, index: int | None) -> Value:
        """The weight ``index`` of ``neuron`` in ``layer`` (or its bias), counted from 0."""
        layers = self.model.layers
        if not 0 <= layer < len(layers):
            raise SettingsError(f"layer: expected 0 to {len(layers) - 1}, got {layer}")
        neurons = layers[layer].neurons
        if not 0 <= neuron < len(neurons):
            raise SettingsError(f"neuron: expected 0 to {len(neurons) - 1}, got {neuron}")
        n = neurons[neuron]
        if index is None:
            return n.b
        if not 0 <= index < len(n.w):
            raise SettingsError(f"input: expected 0 to {len(n.w) - 1}, got {index}")
        return n.w[index]

    # -- what a page shows
    def losses(self) -> tuple[float, float]:
        """The mean hinge loss over the training points and over the test points (no penalty)."""
        with kept_gradients(self.parameters):
            train = self.score_run(self.train, mean=True)
            test = self.score_run(self.test, mean=True) if self.test else math.nan
        return train, test

    def snapshot(self, with_points: bool = False, grid_size: int = GRID) -> dict[str, Any]:
        """Everything a page draws of the run now (see the module docstring); the pictures
        ``grid_size`` points a side."""
        x0, x1, y0, y1 = self.bounds
        size = grid_size
        grid = [
            [x0 + (x1 - x0) * (i + 0.5) / size, y1 - (y1 - y0) * (j + 0.5) / size]
            for j in range(size)
            for i in range(size)
        ]
        features = with_features(grid, self.settings.features)
        with kept_gradients(self.parameters):
            self._pictures(features)
        values = self._pictures.outputs  # per grid point: every neuron's output
        columns = list(zip(*values)) if isinstance(values[0], tuple) else [values]
        layers = []
        k = 0
        for layer in self.model.layers:
            neurons = []
            for n in layer.neurons:
                neurons.append(
                    {
                        "name": n.name,
                        "picture": _picture(columns[k]),
                        "bias": n.b.data,
                        "bias_grad": n.b.grad,
                        "weights": [w.data for w in n.w],
                        "grads": [w.grad for w in n.w],
                    }
                )
                k += 1
            layers.append(neurons)
        inputs = [
            {
                "name": name,
                "label": FEATURE_LABELS[name],
                "picture": _picture([f[i] for f in features]),
            }
            for i, name in enumerate(self.settings.features)
        ]
        train_loss, test_loss = self.curve[-1][1:]
        snap: dict[str, Any] = {
            "run": self.run_id,
            "step": self.steps,
            "epoch": self.steps * min(self.settings.batch_size, len(self.train)) / len(self.train),
            "train_loss": train_loss,
            "test_loss": test_loss,
            "curve": self.curve,
            "bounds": list(self.bounds),
            "grid": size,
            "inputs": inputs,
            "layers": layers,
            "settings": self.settings.to_dict(),
            "hash": self.settings.to_hash(),
        }
        if with_points:
            snap["points"] = {
                "train": [[a, b, c] for (a, b), c in zip(self.train_points, self.train_labels)],
                "test": [[a, b, c] for (a, b), c in zip(self.test_points, self.test_labels)],
            }
        ready: dict[str, Any] = json_ready(snap)
        return ready

    def gradient_graph(self) -> Value:
        """The last update's loss, built by the engine from its minibatch, and backward() run.

        At the parameters the gradient was taken at (``before_update``); the
        parameters' own values and gradients are put back afterwards.
        """
        X = [x for x, _ in self.last_batch]
        y = [label for _, label in self.last_batch]
        now = [(p.data, p.grad) for p in self.parameters]
        try:
            for k, p in enumerate(self.parameters):
                p.grad = 0.0  # backward() adds into leaves: from 0, the gradient alone
                if self.before_update is not None:
                    p.data = self.before_update[k]
            loss, _ = self.loss(self.model, X, y)
            loss.label = "L"
            loss.backward()
            self.graph_gradients = [p.grad for p in self.parameters]
        finally:
            for p, (v, g) in zip(self.parameters, now):
                p.data, p.grad = v, g
        return loss

    def explain_weight(self, layer: int, neuron: int, index: int | None) -> dict[str, Any]:
        """One weight's value, its gradient at the last update, and the chain rule that gave it."""
        p = self.parameter(layer, neuron, index)
        loss = self.gradient_graph()
        k = self.parameters.index(p)
        now = p.data
        if self.before_update is not None:  # explain reads the graph's values: those of then
            p.data = self.before_update[k]
        try:
            text = explain(loss, p)
        finally:
            p.data = now
        return {
            "name": p.label,
            "value": p.data,
            "gradient": self.graph_gradients[k],
            "batch": len(self.last_batch),
            "step": self.steps,
            "text": text,
        }

    def explain_neuron(self, layer: int, neuron: int, point: int = 0) -> dict[str, Any]:
        """A neuron's Σ wᵢ·xᵢ + b and activation, with the numbers, at one training point."""
        self.parameter(layer, neuron, None)  # checks layer and neuron
        if not 0 <= point < len(self.train):
            raise SettingsError(f"point: expected 0 to {len(self.train) - 1}, got {point}")
        x = self.train[point][0]
        h: list[Any] = list(x)  # one point's graph, built by the engine: a few nodes
        for layer_index, lay in enumerate(self.model.layers):
            outs = lay(h)
            if layer_index == layer:
                out = outs[neuron]
                break
            h = outs
        net = out if out.op == "Σwx+b" else out.parents[0]
        lines = [_net_line(net)]
        if net is not out:
            lines.append(
                f"{printable(out.label or 'out')} = {out.op}({_name(net)}) = {out.data:.9g}"
            )
        point_text = ", ".join(f"{v:.4g}" for v in self.train_points[point])
        return {"name": lay.neurons[neuron].name, "point": point_text, "text": "\n".join(lines)}

    def code(self) -> str:
        """The code the engine runs for each update: the traced pass over a minibatch."""
        return str(getattr(self.run, "source", ""))


def _name(v: Value) -> str:
    return printable(v.label) if v.label else f"[{v.op}]"


def _net_line(net: Value) -> str:
    """net = w₁·x₁ + … + b = value, the terms with their numbers."""
    ws, xs, b = net_parts(net)
    terms = " + ".join(f"{_num(w)}×{_num(x)}" for w, x in zip(ws, xs))
    return f"{_name(net)} = Σ wᵢ·xᵢ + b = {terms} + {_num(b)} = {net.data:.9g}"


def _num(x: Any) -> str:
    return f"{(x.data if isinstance(x, Value) else x):.6g}"


def _bounds(points: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    """A square around the points, with a margin: the plane the pictures show."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half = max(max(xs) - min(xs), max(ys) - min(ys)) / 2 * 1.15 + 0.1
    return (cx - half, cx + half, cy - half, cy + half)


def _picture(values: Sequence[float]) -> str:
    """Values over the grid as bytes (−1 → 0, 0 → 128, +1 → 255, clamped), base64: what a page
    colours. A value is a neuron's output, or the network's score."""
    data = bytes(
        0
        if not math.isfinite(v) and v < 0
        else 255
        if not math.isfinite(v)
        else max(0, min(255, round((max(-1.0, min(1.0, v)) + 1.0) * 127.5)))
        for v in values
    )
    return base64.b64encode(data).decode("ascii")


def json_ready(x: Any, digits: int | None = None) -> Any:
    """``x`` (numbers, lists, dicts) for JSON, which has no inf or NaN: they become None (a
    page shows them as such); with ``digits``, every float kept to that many significant
    digits (a recorded page's size, not its meaning)."""
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        return x if digits is None else float(f"{x:.{digits}g}")
    if isinstance(x, dict):
        return {k: json_ready(v, digits) for k, v in x.items()}
    if isinstance(x, list):
        return [json_ready(v, digits) for v in x]
    return x


@contextmanager
def kept_gradients(parameters: Sequence[Value]) -> Iterator[None]:
    """Run a trace for its values alone: the parameters' ``.grad`` are as before afterwards."""
    kept = [p.grad for p in parameters]
    try:
        yield
    finally:
        for p, g in zip(parameters, kept):
            p.grad = g
