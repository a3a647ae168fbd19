"""The benchmark's workloads and contenders, each built from the same numbers.

Every contender of a comparison starts from the same floats (data, weights)
made here from one seed, so they must compute the same losses; the
benchmark checks that before it believes any timing.

>>> problem = moons_problem(n_points=8, sizes=(2, 4, 1), seed=1)
>>> a, b = FloatMoons(problem), TinygradMoons(problem)
>>> abs(a.step() - b.step()) < 1e-12
True
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import mul
from typing import Any, Protocol

from nn import MLP, hinge, l2, mazur
from nn.train import SVMLoss
from tinygrad_bp import Value, trace
from tinygrad_bp.tracing import Traced

# weights[layer][neuron][input] and biases[layer][neuron], as plain floats.
Weights = list[list[list[float]]]
Biases = list[list[float]]


# -- the moons workload ---------------------------------------------------------


def two_moons(
    n_points: int, noise: float, seed: int
) -> tuple[list[tuple[float, float]], list[float]]:
    """Two interleaving half circles with Gaussian noise, labels -1.0 and +1.0.

    The same shape as scikit-learn's ``make_moons``, made here in plain
    Python so the benchmark needs nothing but the contenders.
    """
    rng = random.Random(seed)
    upper = n_points // 2
    points: list[tuple[float, float]] = []
    labels: list[float] = []
    for k in range(n_points):
        if k < upper:  # the upper moon, label -1
            t = math.pi * k / max(upper - 1, 1)
            x, y, label = math.cos(t), math.sin(t), -1.0
        else:  # the lower moon, shifted right and down, label +1
            t = math.pi * (k - upper) / max(n_points - upper - 1, 1)
            x, y, label = 1.0 - math.cos(t), 0.5 - math.sin(t), 1.0
        points.append((x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)))
        labels.append(label)
    return points, labels


def initial_weights(sizes: Sequence[int], seed: int) -> tuple[Weights, Biases]:
    """Weights uniform in [-1, 1] as micrograd draws them, biases small and nonzero."""
    rng = random.Random(seed)
    weights: Weights = []
    biases: Biases = []
    for nin, nout in zip(sizes, sizes[1:]):
        weights.append([[rng.uniform(-1.0, 1.0) for _ in range(nin)] for _ in range(nout)])
        biases.append([rng.uniform(-0.1, 0.1) for _ in range(nout)])
    return weights, biases


@dataclass(frozen=True)
class MoonsProblem:
    """Data, starting weights and hyper-parameters of the moons training step."""

    points: list[tuple[float, float]]
    labels: list[float]
    weights: Weights
    biases: Biases
    learning_rate: float = 0.05
    alpha: float = 1e-4  # the weight of the L2 regularisation Σp²


def moons_problem(
    n_points: int = 100, sizes: Sequence[int] = (2, 16, 16, 1), seed: int = 0
) -> MoonsProblem:
    """The moons workload: ``n_points`` points and an MLP of ``sizes``."""
    points, labels = two_moons(n_points, 0.1, seed)
    weights, biases = initial_weights(sizes, seed + 1)
    return MoonsProblem(points, labels, weights, biases)


class MoonsContender(Protocol):
    """One way to train the moons MLP: ReLU hidden layers, linear output."""

    name: str

    def step(self) -> float:
        """Forward, backward and one SGD update; the loss before the update."""
        ...

    def parameters(self) -> list[float]:
        """Every weight and bias, neuron by neuron (its weights, then its bias)."""
        ...


def _flat(weights: Weights, biases: Biases) -> list[float]:
    return [p for lw, lb in zip(weights, biases) for row, b in zip(lw, lb) for p in (*row, b)]


class TinygradMoons:
    """tinygrad_bp: nn.MLP, the hinge loss and the penalty written with Value ops."""

    name = "tinygrad_bp"

    def __init__(self, problem: MoonsProblem) -> None:
        self.problem = problem
        self.model = MLP.from_weights(problem.weights, problem.biases, "relu", None)
        self.params = self.model.parameters()

    def step(self) -> float:
        problem, model, params = self.problem, self.model, self.params
        scores = [model(x) for x in problem.points]
        # The library's own losses: one fused node per point's hinge and one for Σp².
        loss = hinge(scores, problem.labels) + l2(params) * problem.alpha  # type: ignore[arg-type]
        model.zero_grad()
        loss.backward()
        lr = problem.learning_rate
        for p in params:
            p.data -= lr * p.grad
        return loss.data

    def parameters(self) -> list[float]:
        return [p.data for p in self.params]


class TracedMoons:
    """tinygrad_bp traced: one point's graph traced once, the step as generated code.

    The same loss as TinygradMoons (``nn.svm_loss``'s term for one point, the
    penalty once), looped over the points inside the generated function; the
    trace, code generation and compilation happen here, not in ``step``.
    """

    name = "tinygrad_bp traced"

    def __init__(self, problem: MoonsProblem) -> None:
        self.problem = problem
        self.model = MLP.from_weights(problem.weights, problem.biases, "relu", None)
        self.params = self.model.parameters()
        self.examples = list(zip(problem.points, problem.labels))
        self.traced = self.trace()
        self.run: Callable[..., float] = self.traced  # what a step calls

    def trace(self) -> Traced:
        """Trace one point's term, generate its code and compile it."""
        loss = SVMLoss(self.problem.alpha)
        x, label = self.examples[0]
        return trace(
            lambda x, y: loss.term(self.model, x, y), x, label, penalty=loss.penalty(self.model)
        )

    def step(self) -> float:
        params = self.params
        for p in params:
            p.grad = 0.0
        loss = self.run(self.examples, mean=True)
        lr = self.problem.learning_rate
        for p in params:
            p.data -= lr * p.grad
        return loss

    def parameters(self) -> list[float]:
        return [p.data for p in self.params]


class BatchedMoons(TracedMoons):
    """tinygrad_bp's batched trace: the same traced graph run over all the points at once.

    One point's graph traced as TracedMoons traces it, its code generated
    for arrays (``Traced.batched``): the nets of a layer one matrix product,
    the ReLUs one operation on the layer's matrix.
    """

    name = "tinygrad_bp batched trace"

    def __init__(self, problem: MoonsProblem) -> None:
        super().__init__(problem)
        self.run = self.traced.batched


class MicrogradMoons:
    """micrograd 0.1.0's own MLP and Value, the same loss written with its ops."""

    name = "micrograd"

    def __init__(self, problem: MoonsProblem) -> None:
        from micrograd import nn as mnn

        self.problem = problem
        sizes = [len(problem.weights[0][0])] + [len(layer) for layer in problem.weights]
        self.model = mnn.MLP(sizes[0], sizes[1:])
        self.params = self.model.parameters()
        for p, value in zip(self.params, _flat(problem.weights, problem.biases), strict=True):
            p.data = value

    def step(self) -> float:
        from micrograd.engine import Value as MValue

        problem, model, params = self.problem, self.model, self.params
        inputs = [[MValue(x), MValue(y)] for x, y in problem.points]
        scores = [model(x) for x in inputs]
        losses = [(1.0 - y * s).relu() for y, s in zip(problem.labels, scores)]
        penalty = sum(p * p for p in params)
        loss = sum(losses) * (1.0 / len(losses)) + penalty * problem.alpha
        model.zero_grad()
        loss.backward()
        lr = problem.learning_rate
        for p in params:
            p.data -= lr * p.grad
        return float(loss.data)

    def parameters(self) -> list[float]:
        return [float(p.data) for p in self.params]


class TorchMoons:
    """PyTorch with float64 0-d tensors, one scalar op at a time like the others."""

    name = "PyTorch"

    def __init__(self, problem: MoonsProblem) -> None:
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        self.problem = problem

        def scalar(x: float) -> Any:
            return torch.tensor(x, dtype=torch.float64, requires_grad=True)

        self.layers = [
            [([scalar(w) for w in row], scalar(b)) for row, b in zip(lw, lb)]
            for lw, lb in zip(problem.weights, problem.biases)
        ]
        self.params = [p for layer in self.layers for ws, b in layer for p in (*ws, b)]

    def _forward(self, x: Sequence[Any]) -> Any:
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            outs = []
            for ws, b in layer:
                # b + w1·x1 + w2·x2 + ...: the ops micrograd's Neuron does
                net = sum((w * xi for w, xi in zip(ws, x)), b)
                outs.append(net if k == last else self.torch.relu(net))
            x = outs
        return x[0]

    def step(self) -> float:
        torch, problem, params = self.torch, self.problem, self.params
        f64 = torch.float64
        scores = [
            self._forward([torch.tensor(x, dtype=f64), torch.tensor(y, dtype=f64)])
            for x, y in problem.points
        ]
        losses = [torch.relu(1.0 - y * s) for y, s in zip(problem.labels, scores)]
        zero = torch.zeros((), dtype=f64)
        penalty = sum((p * p for p in params), zero)
        loss = sum(losses, zero) * (1.0 / len(losses)) + penalty * problem.alpha
        for p in params:
            p.grad = None
        loss.backward()
        lr = problem.learning_rate
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return float(loss.item())

    def parameters(self) -> list[float]:
        return [float(p.item()) for p in self.params]


class FloatMoons:
    """Hand-written backpropagation on lists of floats: no graph objects at all.

    The same arithmetic as the graph engines do, written out for this one
    network shape (any depth of ReLU layers, linear output): per point a
    forward pass keeping each layer's activations, then the deltas layer by
    layer from the top. The practical speed limit of pure Python.
    """

    name = "hand-written floats"

    def __init__(self, problem: MoonsProblem) -> None:
        self.problem = problem
        self.W = [[list(row) for row in lw] for lw in problem.weights]
        self.b = [list(lb) for lb in problem.biases]

    def step(self) -> float:
        problem, Ws, bs = self.problem, self.W, self.b
        n = len(problem.points)
        last = len(Ws) - 1
        # Columns of each weight matrix, to send the deltas down a layer.
        columns = [list(zip(*W)) for W in Ws]
        gW = [[[0.0] * len(row) for row in W] for W in Ws]
        gb = [[0.0] * len(b) for b in bs]
        data_loss = 0.0
        for point, y in zip(problem.points, problem.labels):
            acts: list[Sequence[float]] = [point]
            a: Sequence[float] = point
            for k in range(last + 1):
                z = [sum(map(mul, row, a)) + bj for row, bj in zip(Ws[k], bs[k])]
                a = z if k == last else [v if v > 0.0 else 0.0 for v in z]
                acts.append(a)
            margin = 1.0 - y * a[0]
            if margin <= 0.0:  # relu(margin) is 0 here, and so is its gradient
                continue
            data_loss += margin
            delta = [-y / n]
            for k in range(last, -1, -1):
                a_in = acts[k]
                gWk, gbk = gW[k], gb[k]
                for j, d in enumerate(delta):
                    if d != 0.0:
                        gWk[j] = [g + d * x for g, x in zip(gWk[j], a_in)]
                        gbk[j] += d
                if k:
                    # Back through the weights, then through the ReLU below.
                    delta = [
                        sum(map(mul, col, delta)) if x > 0.0 else 0.0
                        for col, x in zip(columns[k], a_in)
                    ]
        alpha = problem.alpha
        penalty = sum(p * p for p in _flat(Ws, bs))
        loss = data_loss / n + alpha * penalty
        lr, two_alpha = problem.learning_rate, 2.0 * alpha
        for W, b, gWk, gbk in zip(Ws, bs, gW, gb):
            for j, (row, grow) in enumerate(zip(W, gWk)):
                W[j] = [w - lr * (g + two_alpha * w) for w, g in zip(row, grow)]
                b[j] -= lr * (gbk[j] + two_alpha * b[j])
        return loss

    def parameters(self) -> list[float]:
        return _flat(self.W, self.b)


class NumpyMoons:
    """Hand-written backpropagation on NumPy arrays: the whole batch at once.

    The same network and loss as the others, written as matrix products over
    the 100 points (forward, the deltas layer by layer, SGD): what a graph
    run over the whole batch at once could reach, the array bound.
    """

    name = "NumPy (hand-written)"

    def __init__(self, problem: MoonsProblem) -> None:
        import numpy as np

        self.np = np
        self.problem = problem
        self.X = np.array(problem.points, dtype=np.float64)
        self.y = np.array(problem.labels, dtype=np.float64)
        self.W = [np.array(lw, dtype=np.float64) for lw in problem.weights]
        self.b = [np.array(lb, dtype=np.float64) for lb in problem.biases]

    def step(self) -> float:
        np, problem, Ws, bs = self.np, self.problem, self.W, self.b
        n, last = len(self.y), len(Ws) - 1
        acts, zs = [self.X], []
        for k, (W, b) in enumerate(zip(Ws, bs)):
            z = acts[-1] @ W.T + b
            zs.append(z)
            acts.append(z if k == last else np.maximum(z, 0.0))
        margin = 1.0 - self.y * acts[-1][:, 0]
        alpha = problem.alpha
        penalty = sum(float((W * W).sum() + (b * b).sum()) for W, b in zip(Ws, bs))
        loss = float(np.maximum(margin, 0.0).sum()) / n + alpha * penalty
        delta = np.where(margin > 0.0, -self.y / n, 0.0)[:, None]  # ∂loss/∂score
        lr = problem.learning_rate
        for k in range(last, -1, -1):
            gW, gb = delta.T @ acts[k], delta.sum(axis=0)
            if k:  # back through the weights (before their update), then the ReLU
                delta = (delta @ Ws[k]) * (zs[k - 1] > 0.0)
            Ws[k] -= lr * (gW + 2.0 * alpha * Ws[k])
            bs[k] -= lr * (gb + 2.0 * alpha * bs[k])
        return loss

    def parameters(self) -> list[float]:
        return _flat([W.tolist() for W in self.W], [b.tolist() for b in self.b])


class TorchTensorMoons:
    """PyTorch as it is meant to be used: float64 tensors over the whole batch, autograd."""

    name = "PyTorch tensors"

    def __init__(self, problem: MoonsProblem) -> None:
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        self.problem = problem
        f64 = torch.float64
        self.X = torch.tensor(problem.points, dtype=f64)
        self.y = torch.tensor(problem.labels, dtype=f64)
        self.W = [torch.tensor(lw, dtype=f64, requires_grad=True) for lw in problem.weights]
        self.b = [torch.tensor(lb, dtype=f64, requires_grad=True) for lb in problem.biases]

    def step(self) -> float:
        torch, problem = self.torch, self.problem
        a = torch_scores(torch, self.X, self.W, self.b)
        data_loss = torch.relu(1.0 - self.y * a[:, 0]).mean()
        return torch_sgd(torch, data_loss, [*self.W, *self.b], problem.alpha, problem.learning_rate)

    def parameters(self) -> list[float]:
        return _flat([W.tolist() for W in self.W], [b.tolist() for b in self.b])


def torch_scores(torch: Any, x: Any, Ws: Sequence[Any], bs: Sequence[Any]) -> Any:
    """The MLP's scores over the batch: ReLU layers, a linear last one."""
    last = len(Ws) - 1
    for k, (W, b) in enumerate(zip(Ws, bs)):
        z = x @ W.T + b
        x = z if k == last else torch.relu(z)
    return x


def torch_sgd(torch: Any, data_loss: Any, params: Sequence[Any], alpha: float, lr: float) -> float:
    """Add alpha·Σp², backpropagate, take one SGD step; the loss before it."""
    loss = data_loss + alpha * sum((p * p).sum() for p in params)
    for p in params:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    return float(loss.item())


class AgreementError(AssertionError):
    """Contenders that should compute the same numbers did not."""


def check_agree(what: str, results: dict[str, float], tolerance: float = 1e-9) -> None:
    """Fail loudly unless every result is within ``tolerance`` of the first.

    The tolerance is absolute for numbers up to 1 and relative above.

    >>> check_agree("loss", {"a": 1.0, "b": 1.0 + 1e-12})
    >>> try:
    ...     check_agree("loss", {"a": 1.0, "b": 1.1})
    ... except AgreementError as error:
    ...     print(error)
    loss: b gives 1.1, a gives 1.0 (differ by 0.1, more than 1e-09)
    """
    (first, reference), *others = results.items()
    for name, value in others:
        difference = abs(value - reference)
        if not difference <= tolerance * max(1.0, abs(reference)):  # NaN fails too
            raise AgreementError(
                f"{what}: {name} gives {value!r}, {first} gives {reference!r} "
                f"(differ by {difference:.3g}, more than {tolerance:g})"
            )


# -- the elementwise graph ------------------------------------------------------


def micrograd_tanh(x: Any) -> Any:
    """tanh for micrograd 0.1.0, written as its own ops are: a node and a closure."""
    from micrograd.engine import Value as MValue

    t = math.tanh(x.data)
    out = MValue(t, (x,), "tanh")

    def _backward() -> None:
        x.grad += (1 - t * t) * out.grad

    out._backward = _backward
    return out


def elementwise_graph(
    value: Callable[[float], Any], tanh: Callable[[Any], Any], width: int, depth: int, seed: int
) -> tuple[Any, list[Any], list[Any]]:
    """A graph of ``+``, ``*`` and tanh only: ``depth`` layers of ``width`` cells.

    Each cell is h'ᵢ = tanh(hᵢ·wᵢ + hᵢ₊₁·0.5 + 0.1), five ops (two of them
    with a plain number), so cells share inputs as in any real network;
    then the last layer is summed pairwise (width − 1 more ops). Shallow
    enough for micrograd's recursive walk. Returns the root, the starting
    h and the w (the leaves).
    """
    rng = random.Random(seed)
    h0 = [value(rng.uniform(-1.0, 1.0)) for _ in range(width)]
    w = [value(rng.uniform(-1.0, 1.0)) for _ in range(width)]
    h = h0
    for _ in range(depth):
        h = [tanh(h[i] * w[i] + h[(i + 1) % width] * 0.5 + 0.1) for i in range(width)]
    while len(h) > 1:
        h = [h[i] + h[i + 1] if i + 1 < len(h) else h[i] for i in range(0, len(h), 2)]
    return h[0], h0, w


def elementwise_ops(width: int, depth: int) -> int:
    """How many ops (+, *, tanh) ``elementwise_graph`` performs."""
    return 5 * width * depth + width - 1


# -- the deep chain ---------------------------------------------------------------

CHAIN_FACTOR = 0.999999


def chain(depth: int) -> tuple[Value, Value]:
    """y = x·c + 1e-6, then ·c again and so on: ``depth`` ops, each reading the last.

    The gradient is known exactly in closed form: dy/dx = c^(depth/2).
    """
    x = Value(0.5, "x")
    y = x
    for k in range(depth):
        y = y * CHAIN_FACTOR if k % 2 == 0 else y + 1e-6
    return y, x


def chain_gradient(depth: int) -> float:
    return float(CHAIN_FACTOR ** ((depth + 1) // 2))


def micrograd_chain(depth: int) -> tuple[Any, Any]:
    """The same chain with micrograd's Value."""
    from micrograd.engine import Value as MValue

    x = MValue(0.5)
    y = x
    for k in range(depth):
        y = y * CHAIN_FACTOR if k % 2 == 0 else y + 1e-6
    return y, x


# -- the article ---------------------------------------------------------------


def article_tinygrad(updates: int) -> float:
    """E_total after ``updates`` updates of the article's network, with nn.mazur, interpreted."""
    return mazur.train(mazur.network(), updates, trace=False).E_total.data


def article_traced(updates: int) -> float:
    """The same, traced: one forward pass traced, then the updates as a generated SGD loop.

    The trace and its code generation are timed with the updates.
    """
    return mazur.train(mazur.network(), updates).E_total.data


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def article_floats(updates: int) -> float:
    """The same training loop written out on floats, as the article derives it."""
    (i1, i2), (t1, t2), lr = mazur.INPUTS, mazur.TARGETS, mazur.LEARNING_RATE
    (w1, w2), (w3, w4) = mazur.WEIGHTS[0]
    (w5, w6), (w7, w8) = mazur.WEIGHTS[1]
    b1, b2 = mazur.BIASES
    for _ in range(updates):
        h1 = _sigmoid(w1 * i1 + w2 * i2 + b1)
        h2 = _sigmoid(w3 * i1 + w4 * i2 + b1)
        o1 = _sigmoid(w5 * h1 + w6 * h2 + b2)
        o2 = _sigmoid(w7 * h1 + w8 * h2 + b2)
        # δ = ∂E_total/∂net for each output, then for each hidden neuron,
        # all with the weights from before this update.
        d1 = (o1 - t1) * o1 * (1.0 - o1)
        d2 = (o2 - t2) * o2 * (1.0 - o2)
        e1 = (d1 * w5 + d2 * w7) * h1 * (1.0 - h1)
        e2 = (d1 * w6 + d2 * w8) * h2 * (1.0 - h2)
        w1, w2, w3, w4 = w1 - lr * e1 * i1, w2 - lr * e1 * i2, w3 - lr * e2 * i1, w4 - lr * e2 * i2
        w5, w6, w7, w8 = w5 - lr * d1 * h1, w6 - lr * d1 * h2, w7 - lr * d2 * h1, w8 - lr * d2 * h2
    h1 = _sigmoid(w1 * i1 + w2 * i2 + b1)
    h2 = _sigmoid(w3 * i1 + w4 * i2 + b1)
    o1 = _sigmoid(w5 * h1 + w6 * h2 + b2)
    o2 = _sigmoid(w7 * h1 + w8 * h2 + b2)
    return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2


# -- an epoch of the digits ----------------------------------------------------------


@dataclass(frozen=True)
class DigitsProblem:
    """The digits' training split in fixed minibatches, starting weights, SGD."""

    batches: list[tuple[list[list[float]], list[int]]]
    weights: Weights
    biases: Biases
    learning_rate: float = 0.1
    alpha: float = 1e-4  # the weight of Σp², as nn.SoftmaxLoss adds it


def digits_problem(
    sizes: Sequence[int] = (64, 32, 10),
    batch_size: int = 32,
    limit: int | None = None,
    seed: int = 0,
) -> DigitsProblem:
    """nn's digits (scaled to [0, 1]), the first ``limit`` training points, in order."""
    from nn import load_digits, train_test_split

    X, y, _, _ = train_test_split(*load_digits())
    X, y = X[:limit], y[:limit]
    rng = random.Random(seed)
    weights: Weights = []
    biases: Biases = []
    for nin, nout in zip(sizes, sizes[1:]):  # uniform, scaled by 1/√nin as PyTorch's Linear
        bound = 1.0 / math.sqrt(nin)
        weights.append([[rng.uniform(-bound, bound) for _ in range(nin)] for _ in range(nout)])
        biases.append([rng.uniform(-bound, bound) for _ in range(nout)])
    batches = [
        ([list(x) for x in X[k : k + batch_size]], list(y[k : k + batch_size]))
        for k in range(0, len(X), batch_size)
    ]
    return DigitsProblem(batches, weights, biases)


class DigitsContender(Protocol):
    name: str

    def epoch(self, batches: int | None = None) -> list[float]:
        """SGD over the first ``batches`` minibatches (all by default); each one's loss."""
        ...


class TinygradDigits:
    """tinygrad_bp on the digits: interpreted, traced per example, or the batched trace."""

    def __init__(self, problem: DigitsProblem, mode: str) -> None:
        from nn import SoftmaxLoss

        self.problem, self.mode = problem, mode
        self.name = {
            "interpreted": "tinygrad_bp",
            "traced": "tinygrad_bp traced",
            "batched": "tinygrad_bp batched trace",
        }[mode]
        self.model = MLP.from_weights(problem.weights, problem.biases, "relu", None)
        self.params = self.model.parameters()
        self.loss = SoftmaxLoss(problem.alpha)
        if mode != "interpreted":
            self.traced = self.trace()

    def trace(self) -> Traced:
        x, label = self.problem.batches[0][0][0], self.problem.batches[0][1][0]
        return trace(
            lambda x, y: self.loss.term(self.model, x, y),
            x,
            label,
            penalty=self.loss.penalty(self.model),
            max_size=None,
        )

    def epoch(self, batches: int | None = None) -> list[float]:
        losses = []
        lr = self.problem.learning_rate
        run = None
        if self.mode != "interpreted":
            run = self.traced.batched if self.mode == "batched" else self.traced
        for X, y in self.problem.batches[:batches]:
            for p in self.params:
                p.grad = 0.0
            if run is None:
                loss, _ = self.loss(self.model, X, y)
                loss.backward()
                losses.append(loss.data)
            else:
                losses.append(run(list(zip(X, y)), mean=True))
            for p in self.params:
                p.data -= lr * p.grad
        return losses


class NumpyDigits:
    """The digits epoch written by hand in NumPy: the array bound."""

    name = "NumPy (hand-written)"

    def __init__(self, problem: DigitsProblem) -> None:
        import numpy as np

        self.np, self.problem = np, problem
        self.W = [np.array(lw) for lw in problem.weights]
        self.b = [np.array(lb) for lb in problem.biases]
        self.data = [(np.array(X), np.array(y)) for X, y in problem.batches]

    def epoch(self, batches: int | None = None) -> list[float]:
        np, problem, Ws, bs = self.np, self.problem, self.W, self.b
        alpha, lr, losses = problem.alpha, problem.learning_rate, []
        for X, y in self.data[:batches]:
            n, last = len(y), len(Ws) - 1
            acts, zs = [X], []
            for k, (W, b) in enumerate(zip(Ws, bs)):
                z = acts[-1] @ W.T + b
                zs.append(z)
                acts.append(z if k == last else np.maximum(z, 0.0))
            z = acts[-1]
            top = z.max(axis=1, keepdims=True)
            e = np.exp(z - top)
            s = e.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            ce = (top[:, 0] + np.log(s[:, 0]) - z[rows, y]).sum() / n
            penalty = sum(float((W * W).sum() + (b * b).sum()) for W, b in zip(Ws, bs))
            losses.append(float(ce) + alpha * penalty)
            delta = e / s
            delta[rows, y] -= 1.0
            delta /= n
            for k in range(last, -1, -1):
                gW, gb = delta.T @ acts[k], delta.sum(axis=0)
                if k:
                    delta = (delta @ Ws[k]) * (zs[k - 1] > 0.0)
                Ws[k] -= lr * (gW + 2.0 * alpha * Ws[k])
                bs[k] -= lr * (gb + 2.0 * alpha * bs[k])
        return losses


class TorchDigits:
    """PyTorch float64 tensors over each minibatch (one thread), autograd, cross_entropy."""

    name = "PyTorch tensors"

    def __init__(self, problem: DigitsProblem) -> None:
        import torch

        torch.set_num_threads(1)
        self.torch, self.problem = torch, problem
        f64 = torch.float64
        self.W = [torch.tensor(lw, dtype=f64, requires_grad=True) for lw in problem.weights]
        self.b = [torch.tensor(lb, dtype=f64, requires_grad=True) for lb in problem.biases]
        self.data = [(torch.tensor(X, dtype=f64), torch.tensor(y)) for X, y in problem.batches]

    def epoch(self, batches: int | None = None) -> list[float]:
        torch, problem, losses = self.torch, self.problem, []
        params = [*self.W, *self.b]
        for X, y in self.data[:batches]:
            scores = torch_scores(torch, X, self.W, self.b)
            loss = torch.nn.functional.cross_entropy(scores, y)
            losses.append(torch_sgd(torch, loss, params, problem.alpha, problem.learning_rate))
        return losses


class MicrogradDigits:
    """micrograd 0.1.0: its Value, its Neuron's way (a sum of products), exp and log as
    closures written as its own ops are; too slow for an epoch, so timed on a few batches."""

    name = "micrograd"

    def __init__(self, problem: DigitsProblem) -> None:
        from micrograd.engine import Value as MValue

        self.V, self.problem = MValue, problem
        self.W = [[[MValue(w) for w in row] for row in lw] for lw in problem.weights]
        self.b = [[MValue(b) for b in lb] for lb in problem.biases]
        self.params = [
            p for lw, lb in zip(self.W, self.b) for row, b in zip(lw, lb) for p in (*row, b)
        ]

    def _op(self, x: Any, value: float, slope: float) -> Any:
        out = self.V(value, (x,), "f")

        def _backward() -> None:
            x.grad += slope * out.grad

        out._backward = _backward
        return out

    def epoch(self, batches: int | None = None) -> list[float]:
        # micrograd's backward() recurses once per node of the longest path: the penalty's
        # sum of 2,410 squares and the batch's sum make one of about 2,500.
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 10_000))
        try:
            return self._epoch(batches)
        finally:
            sys.setrecursionlimit(limit)

    def _epoch(self, batches: int | None) -> list[float]:
        problem, losses = self.problem, []
        last = len(self.W) - 1
        for X, y in problem.batches[:batches]:
            terms = []
            for x, label in zip(X, y):
                a: list[Any] = list(x)
                for k, (lw, lb) in enumerate(zip(self.W, self.b)):
                    z = [sum((w * xi for w, xi in zip(row, a)), b) for row, b in zip(lw, lb)]
                    a = z if k == last else [zi.relu() for zi in z]
                top = max(zi.data for zi in a)
                exps = [self._op(zi, math.exp(zi.data - top), math.exp(zi.data - top)) for zi in a]
                s = sum(exps[1:], exps[0])
                terms.append(self._op(s, math.log(s.data), 1.0 / s.data) - a[label] + top)
            loss = sum(terms[1:], terms[0]) * (1.0 / len(terms))
            loss = loss + problem.alpha * sum((p * p for p in self.params), self.V(0.0))
            for p in self.params:
                p.grad = 0.0
            loss.backward()
            for p in self.params:
                p.data -= problem.learning_rate * p.grad
            losses.append(loss.data)
        return losses
