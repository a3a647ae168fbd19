"""A full-batch training loop for the small classifiers of micrograd's demo.

``svm_loss`` is micrograd's moons loss: the mean hinge loss of the scores
plus 1e-4·Σp². ``fit`` runs gradient descent with a learning rate schedule
(by default SGD from 1.0 down to 0.1) and records the loss and accuracy
after every update; it can show a tqdm progress bar.

>>> from nn import MLP
>>> from nn.data import make_moons
>>> from nn.train import fit
>>> X, y = make_moons(20, seed=0, signed=True)
>>> model = MLP(2, [8, 1], seed=0)
>>> history = fit(model, X, y, steps=30)
>>> len(history.losses), history.losses[-1] < history.losses[0]
(31, True)
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import is_not
from typing import Any

from tinygrad_bp import Value, no_grad
from tinygrad_bp.tracing.tracer import MAX_SIZE, Traced
from tinygrad_bp.tracing.tracer import trace as trace_function

from ._util import plural, stop_requests
from .losses import (
    binary_cross_entropy_with_logits,
    hinge,
    hinge_term,
    l2,
    mse,
    softmax_ce,
    softmax_cross_entropy,
    softmax_cross_entropy_term,
)
from .module import MLP
from .optim import SGD, Optimizer

Points = Sequence[Sequence[float]]

# What a trace costs and saves per node and edge of one point's graph, measured on MLPs of
# 66 to 124,000 nodes and edges (benchmarks/trace_payoff.py): generating and compiling the
# code takes 9 to 19 µs each; a step then runs 28 to 300 ns each per point faster than the
# interpreted engine (the least for the largest graphs). The worst of each, so that a trace
# is made only where it pays: from about 680 points × steps on.
TRACE_COMPILE_NS = 19_000
TRACE_SAVES_NS = 28


def trace_pays(size: int, points: int, steps: int) -> bool:
    """Whether tracing a graph of ``size`` nodes and edges saves more than it costs.

    >>> trace_pays(1_000, 100, 100), trace_pays(1_000, 100, 2)
    (True, False)
    """
    return TRACE_SAVES_NS * size * points * steps >= TRACE_COMPILE_NS * size


def accuracy(
    scores: Sequence[Value | float] | Sequence[Sequence[Value | float]], labels: Sequence[int]
) -> float:
    """The fraction of points classified right: by the score's sign, or by the highest class score.

    One score per point: right where its sign is the label's (±1); a score
    of exactly 0 sits on the decision boundary and counts as wrong. A list
    of class scores per point: right where the highest (the first of equal
    highest ones, as an argmax) is at the label's index, 0..K−1.

    >>> accuracy([0.3, -2.0, 0.0, -0.1], [1, -1, 1, 1])
    0.5
    >>> accuracy([[0.1, 2.0, -1.0], [3.0, 0.0, 3.0]], [1, 2])
    0.5
    """
    if len(scores) != len(labels) or not scores:
        raise ValueError(
            f"accuracy: expected one label per score, got {len(scores)} scores "
            f"and {len(labels)} labels"
        )
    if isinstance(scores[0], (list, tuple)):
        rows = [[_float(v) for v in row] for row in scores]  # type: ignore[union-attr]
        return sum(argmax(row) == y for row, y in zip(rows, labels)) / len(rows)
    right = 0
    for s, y in zip(scores, labels):
        v = _float(s)  # type: ignore[arg-type]
        right += (v > 0.0 and y > 0) or (v < 0.0 and y < 0)
    return right / len(scores)


def _float(v: Value | float) -> float:
    return v.data if isinstance(v, Value) else v


def argmax(row: Sequence[float]) -> int:
    """The index of the highest number, the first of equal ones (NaN is never the highest).

    >>> argmax([0.5, 2.0, 2.0, -1.0])
    1
    """
    best = 0
    for i in range(1, len(row)):
        if row[i] > row[best] or row[best] != row[best]:  # a NaN so far gives way
            best = i
    return best


def scores(model: MLP, X: Points) -> list[Value]:
    """The model's score for every point (its single output)."""
    out = [model(x) for x in X]
    for s in out:
        if not isinstance(s, Value):
            raise ValueError(f"expected a model with one output, got {len(s)} outputs")
    return out  # type: ignore[return-value]


class ExampleLoss:
    """A loss that is the mean of one term per example plus a penalty on the parameters.

    Such a loss says how it splits (``term`` for one example, ``penalty``),
    so ``fit`` can trace one example's term and loop over the data in
    generated code; calling it builds the whole batch's graph, as any
    ``loss_fn``, and ``fit(trace=False)`` does that.
    """

    def term(self, model: MLP, x: Sequence[Value], label: Value) -> tuple[Value, ...]:
        """One example's term of the loss, then the model's score (or class scores) for it."""
        raise NotImplementedError

    def penalty(self, model: MLP) -> Value | None:
        """The part of the loss that depends on the parameters alone (None: no such part)."""
        return None

    def check(self, X: Points, y: Sequence[int]) -> None:
        """Refuse data the full-batch loss would refuse (its terms see one example each)."""

    def __call__(self, model: MLP, X: Points, y: Sequence[int]) -> tuple[Value, float]:
        raise NotImplementedError


class SVMLoss(ExampleLoss):
    """micrograd's moons loss, mean(max(0, 1 − yᵢ·scoreᵢ)) + alpha·Σp², and the accuracy.

    >>> from nn import MLP
    >>> loss, acc = svm_loss(MLP(2, [4, 1], seed=0), [[0.5, 1.0], [1.0, -1.0]], [1, -1])
    >>> round(loss.data, 6), acc
    (1.134568, 0.0)
    """

    def __init__(self, alpha: float = 1e-4) -> None:
        self.alpha = alpha

    def __call__(
        self, model: MLP, X: Points, y: Sequence[int], alpha: float | None = None
    ) -> tuple[Value, float]:
        alpha = self.alpha if alpha is None else alpha
        s = scores(model, X)
        loss = hinge(s, y)
        if alpha:
            loss = loss + alpha * l2(model.parameters())
        return loss, accuracy(s, y)

    def term(self, model: MLP, x: Sequence[Value], label: Value) -> tuple[Value, ...]:
        score = model(x)
        if not isinstance(score, Value):
            raise ValueError(f"expected a model with one output, got {len(score)} outputs")
        return hinge_term(score, label), score

    def penalty(self, model: MLP) -> Value | None:
        return self.alpha * l2(model.parameters()) if self.alpha else None

    def check(self, X: Points, y: Sequence[int]) -> None:
        for i, label in enumerate(y):
            if label not in (-1, 1):
                got = float(label)
                raise ValueError(f"hinge: labels must be -1 or +1, got {got!r} at index {i}")


svm_loss = SVMLoss()


class SoftmaxLoss(ExampleLoss):
    """Multiclass: the mean softmax cross-entropy of the class scores + alpha·Σp², and the accuracy.

    The model has one output per class; labels are class indices 0..K−1;
    a point is classified as its highest score. Each example's term is ONE
    node (``softmax_cross_entropy_term``), which a trace computes inline.

    >>> from nn import MLP
    >>> loss, acc = SoftmaxLoss()(MLP(2, [4, 3], seed=0), [[0.5, 1.0], [1.0, -1.0]], [2, 0])
    >>> round(loss.data, 6), acc
    (1.068239, 0.5)
    """

    def __init__(self, alpha: float = 1e-4) -> None:
        self.alpha = alpha

    def __call__(self, model: MLP, X: Points, y: Sequence[int]) -> tuple[Value, float]:
        outs = [self._scores(model(x)) for x in X]
        loss = softmax_cross_entropy(outs, y)
        if self.alpha:
            loss = loss + self.alpha * l2(model.parameters())
        return loss, accuracy(outs, y)

    @staticmethod
    def _scores(out: Value | list[Value]) -> list[Value]:
        if isinstance(out, Value):
            raise ValueError(
                "softmax cross-entropy needs one output per class (2 or more); the model has 1"
            )
        return out

    def term(self, model: MLP, x: Sequence[Value], label: Value) -> tuple[Value, ...]:
        out = self._scores(model(x))
        return (softmax_cross_entropy_term(out, label), *out)

    def penalty(self, model: MLP) -> Value | None:
        return self.alpha * l2(model.parameters()) if self.alpha else None

    def check(self, X: Points, y: Sequence[int]) -> None:
        for i, label in enumerate(y):
            if isinstance(label, bool) or not isinstance(label, int) or label < 0:
                raise ValueError(
                    f"softmax cross-entropy: labels must be class indices 0, 1, 2, ..., "
                    f"got {label!r} at index {i}"
                )


# The losses the ``train`` command offers, on the scores and the ±1 labels.
LOSSES = ("hinge", "bce", "mse")


def classifier_loss(
    name: str, alpha: float = 1e-4
) -> Callable[[MLP, Points, Sequence[int]], tuple[Value, float]]:
    """A loss function for ``fit``: the named loss of the scores, + alpha·Σp², and the accuracy.

    "hinge" is ``svm_loss`` itself (micrograd's demo); "bce" is the binary
    cross-entropy of σ(score) against the labels as 0/1; "mse" the mean
    squared distance of the scores to the labels ±1. The class is the
    score's sign in each case.

    >>> from nn.data import make_xor
    >>> X, y = make_xor(8, seed=0, signed=True)
    >>> loss, acc = classifier_loss("bce")(MLP(2, [4, 1], seed=0), X, y)
    >>> round(loss.data, 6), acc
    (0.694385, 0.5)
    """
    if name == "hinge":
        return lambda model, X, y: svm_loss(model, X, y, alpha)
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; expected one of {', '.join(LOSSES)}")

    def loss_fn(model: MLP, X: Points, y: Sequence[int]) -> tuple[Value, float]:
        s = scores(model, X)
        if name == "bce":
            loss = binary_cross_entropy_with_logits(s, [(t + 1) / 2 for t in y])
        else:
            loss = mse(s, y)
        if alpha:
            loss = loss + alpha * l2(model.parameters())
        return loss, accuracy(s, y)

    return loss_fn


def linear_decay(steps: int, start: float = 1.0, end: float = 0.1) -> Callable[[int], float]:
    """micrograd's schedule: the learning rate at update k is start − (start − end)·k/steps.

    >>> lr = linear_decay(100)
    >>> lr(0), round(lr(50), 12), round(lr(99), 12)
    (1.0, 0.55, 0.109)
    """
    return lambda k: start - (start - end) * k / steps


@dataclass
class History:
    """``losses[k]`` and ``accuracies[k]``: the model's after k updates (k = 0..steps).

    ``traced``: whether the steps ran as traced code; ``note``: why a loss
    that could be traced was not (it would not pay, or is too large), or "".
    """

    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    traced: bool = False
    note: str = ""

    def first_perfect(self) -> int | None:
        """The fewest updates after which the accuracy was 100%, or None."""
        return next((k for k, a in enumerate(self.accuracies) if a == 1.0), None)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, honoured between two updates.

    The model holds exactly ``updates`` of the ``steps`` updates asked for,
    so it can be saved as it is. ``history`` has the loss and accuracy before
    each update made (``fit`` only). A KeyboardInterrupt, so code that does
    not know this class still sees Ctrl-C as Ctrl-C.

    >>> str(TrainingInterrupted(37, 100))
    'interrupted after 37 of 100 updates'
    """

    def __init__(self, updates: int, steps: int, history: History | None = None) -> None:
        super().__init__(f"interrupted after {updates} of {plural(steps, 'update')}")
        self.updates = updates
        self.steps = steps
        self.history = history


LossFn = Callable[[MLP, Points, Sequence[int]], tuple[Value, float]]


def fit(
    model: MLP,
    X: Points,
    y: Sequence[int],
    steps: int = 100,
    *,
    loss_fn: LossFn = svm_loss,
    optimizer: Optimizer | None = None,
    schedule: Callable[[int], float] | None = None,
    progress: bool = False,
    trace: bool | None = None,
    batched: bool = True,
) -> History:
    """Full-batch training: ``steps`` times forward, backward, update.

    The default is micrograd's demo: ``svm_loss`` and SGD over all of the
    model's parameters with ``linear_decay(steps)`` (1.0 down to 0.1). With
    an ``optimizer`` of your own, ``schedule`` (if given) sets its ``lr``
    before each update. ``progress=True`` shows a tqdm bar on stderr with the
    step, loss and accuracy, but only when stderr is a terminal.

    The history holds steps + 1 entries: the last is the trained model's,
    from one more forward pass (without a graph).

    Ctrl-C stops training between two updates (a second Ctrl-C stops it at
    once) and raises TrainingInterrupted, which says how many updates the
    model holds.

    With a loss that splits per example (an ``ExampleLoss``, as
    ``svm_loss``), one example's graph can be traced once and every step
    run as generated code over all the points: with ``batched=True`` (the
    default, where NumPy is installed) over the whole batch at once
    (``Traced.batched``: the same numbers as the engine's to about 1e-15
    relative), with ``batched=False`` point by point, with the same numbers,
    to the last bit, as ``trace=False``, which builds and walks the whole
    batch's graph on every step. ``trace=None`` (the default) traces when
    it pays (``trace_pays``: points × steps against the compile) and the
    graph is within ``MAX_SIZE``, saying why not in ``History.note``;
    ``trace=True`` always traces (a graph past ``MAX_SIZE`` is refused). A
    model whose parameters are replaced between steps is traced again. Any
    other ``loss_fn`` runs interpreted. See ``tinygrad_bp.tracing.tracer``
    for what a trace freezes: Python control flow on ``.data`` in the model.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"fit: steps must be a whole number >= 0, got {steps!r}")
    if len(X) == 0 and len(y) == 0:
        raise ValueError("fit: the data is empty; expected at least one point and its label")
    if len(X) != len(y):
        raise ValueError(f"fit: expected one label per point, got {len(X)} points, {len(y)} labels")
    if optimizer is None:
        schedule = schedule or linear_decay(max(steps, 1))
        optimizer = SGD(model.parameters(), lr=schedule(0))
    history = History()
    traced = None
    if trace is not False and isinstance(loss_fn, ExampleLoss) and steps:
        loss_fn.check(X, y)
        history.note = "" if trace else _why_not_trace(len(model.parameters()), len(X), steps)
        if not history.note:  # one point's graph, walked; its code is written when first run
            traced = _PerExample(loss_fn, model, X, y, MAX_SIZE if trace else None, batched)
            size = traced.traced.size
            history.note = "" if trace else _why_not_trace(size, len(X), steps)
            traced = None if history.note else traced
    history.traced = traced is not None
    bar = _progress_bar(steps) if progress else None
    try:
        with stop_requests() as stop:
            for k in range(steps):
                if stop.requested:
                    raise TrainingInterrupted(k, steps, history)
                if traced is not None:
                    optimizer.zero_grad()
                    loss_value, acc = traced.step()
                    history.losses.append(loss_value)
                    history.accuracies.append(acc)
                else:
                    loss, acc = loss_fn(model, X, y)
                    loss_value = loss.data
                    history.losses.append(loss_value)
                    history.accuracies.append(acc)
                    optimizer.zero_grad()
                    loss.backward()
                if schedule is not None:
                    optimizer.lr = schedule(k)
                optimizer.step()
                if bar is not None:
                    # A dict rather than keywords, which tqdm would sort (accuracy first).
                    bar.set_postfix(
                        {"loss": f"{loss_value:.4f}", "accuracy": f"{acc:.0%}"}, refresh=False
                    )
                    bar.update(1)
            if stop.requested:  # during the last update: all were made, but stop now
                raise TrainingInterrupted(steps, steps, history)
    finally:
        if bar is not None:
            bar.close()
    with no_grad():
        loss, acc = loss_fn(model, X, y)
    history.losses.append(loss.data)
    history.accuracies.append(acc)
    return history


def _why_not_trace(size: int, points: int, steps: int) -> str:
    """Why a graph of about ``size`` nodes and edges is better not traced, or "" if it is not."""
    if size > MAX_SIZE:
        return (
            f"one point's graph has {size:,} or more nodes and edges, more than the "
            f"{MAX_SIZE:,} a trace compiles"
        )
    if not trace_pays(size, points, steps):
        return (
            f"a trace pays from about {TRACE_COMPILE_NS / TRACE_SAVES_NS:,.0f} points × steps "
            f"(its compile against each step's saving); this run has {points * steps:,}"
        )
    return ""


class _PerExample:
    """An ``ExampleLoss`` traced for one example and run over the whole data.

    With ``batched`` (and NumPy installed) every run goes over the batch at
    once (``Traced.batched``); otherwise it loops over the examples in the
    generated code.
    """

    def __init__(
        self,
        loss_fn: ExampleLoss,
        model: MLP,
        X: Points,
        y: Sequence[int],
        max_size: int | None = MAX_SIZE,
        batched: bool = True,
    ) -> None:
        self.loss_fn, self.model = loss_fn, model
        self.examples = list(zip(X, y))
        self.labels = y
        self.max_size = max_size
        self.batched = batched and numpy_available()
        self.traced = self._trace()

    def _trace(self) -> Traced:
        self.parameters = self.model.parameters()
        x, label = self.examples[0]
        return trace_function(
            lambda x, y: self.loss_fn.term(self.model, x, y),
            x,
            label,
            penalty=self.loss_fn.penalty(self.model),
            max_size=self.max_size,
        )

    def step(self) -> tuple[float, float]:
        """The loss and accuracy; the gradients accumulated into the parameters."""
        return self.run(self.examples)

    def run(self, examples: list[tuple[Any, int]]) -> tuple[float, float]:
        """The mean loss over ``examples`` (+ penalty) and the accuracy; gradients accumulate."""
        now = self.model.parameters()
        if len(now) != len(self.parameters) or any(map(is_not, now, self.parameters)):
            self.traced = self._trace()  # a parameter replaced: the old trace reads the old one
        run = self.traced.batched if self.batched else self.traced
        loss = run(examples, mean=True)
        self.outputs = run.outputs
        return loss, accuracy(self.outputs, [label for _, label in examples])


def numpy_available() -> bool:
    """Whether NumPy can be imported: the batched trace needs it, the per-example one does not."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def _progress_bar(steps: int) -> Any:
    from tqdm import tqdm  # imported here: only the progress bar needs it

    # disable=None: tqdm switches itself off when stderr is not a terminal, so
    # logs and pipes get no bar (and no carriage returns).
    return tqdm(total=steps, desc="training", unit="step", file=sys.stderr, disable=None)


# -- minibatches: the digits and a user's own table --------------------------------------------
@dataclass
class EpochHistory:
    """Per epoch (entry e: after epoch e + 1), the training and test loss and accuracy.

    The training numbers are the means over the epoch's minibatches, as
    they were met during the epoch (so before some of its updates); the
    test numbers are the model's after the epoch (the loss without the
    penalty on the parameters). ``updates``: the updates made in all.
    """

    train_losses: list[float] = field(default_factory=list)
    train_accuracies: list[float] = field(default_factory=list)
    test_losses: list[float] = field(default_factory=list)
    test_accuracies: list[float] = field(default_factory=list)
    updates: int = 0
    traced: bool = False


def fit_batches(
    model: MLP,
    X: Points,
    y: Sequence[int],
    *,
    epochs: int = 10,
    batch_size: int = 32,
    loss_fn: ExampleLoss | None = None,
    optimizer: Optimizer | None = None,
    seed: int = 0,
    test: tuple[Points, Sequence[int]] | None = None,
    progress: bool = False,
    trace: bool = True,
    batched: bool = True,
) -> EpochHistory:
    """Minibatch training: each epoch shuffles the points (seeded) and updates once per batch.

    ``loss_fn`` is an ``ExampleLoss`` (by default ``SoftmaxLoss()``, for
    class labels 0..K−1), ``optimizer`` by default Adam at 0.01. Full-batch
    ``fit`` makes one update per pass over the data; here a pass makes
    ⌈n / batch_size⌉, which is what a dataset of a thousand points or more
    needs. With ``trace=True`` one example's graph is traced once and each
    batch runs through the generated code, over the whole batch at once
    with ``batched=True`` (NumPy; the engine's numbers to about 1e-15
    relative), or point by point (the same numbers as the engine's, to the
    bit); ``trace=False`` builds each batch's graph.
    ``test``: points and labels scored after every epoch. Ctrl-C stops
    between two updates with TrainingInterrupted.

    >>> from nn.data import load_digits, train_test_split
    >>> X_train, y_train, X_test, y_test = train_test_split(*load_digits())
    >>> model = MLP(64, [10], activation="relu", seed=0)
    >>> h = fit_batches(model, X_train[:200], y_train[:200], epochs=2, test=(X_test, y_test))
    >>> h.updates, h.test_accuracies[-1] > h.test_accuracies[0]
    (14, True)
    """
    from .optim import Adam

    for what, n, least in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
        if isinstance(n, bool) or not isinstance(n, int) or n < least:
            raise ValueError(f"fit_batches: {what} must be a whole number >= {least}, got {n!r}")
    if len(X) != len(y) or not X:
        raise ValueError(f"fit_batches: expected points and one label each, got {len(X)}, {len(y)}")
    loss_fn = SoftmaxLoss() if loss_fn is None else loss_fn
    optimizer = Adam(model.parameters(), lr=0.01) if optimizer is None else optimizer
    loss_fn.check(X, y)
    rng = random.Random(seed)
    examples = list(zip(X, y))
    traced = _PerExample(loss_fn, model, X, y, None, batched) if trace else None
    history = EpochHistory(traced=traced is not None)
    batches = math.ceil(len(examples) / batch_size)
    bar = _progress_bar(epochs * batches) if progress else None
    try:
        with stop_requests() as stop:
            for _ in range(epochs):
                order = examples[:]
                rng.shuffle(order)
                losses, right = 0.0, 0.0
                for b in range(batches):
                    if stop.requested:
                        raise TrainingInterrupted(history.updates, epochs * batches)
                    batch = order[b * batch_size : (b + 1) * batch_size]
                    optimizer.zero_grad()
                    if traced is not None:
                        loss_value, acc = traced.run(batch)
                    else:
                        bx, by = [x for x, _ in batch], [t for _, t in batch]
                        loss, acc = loss_fn(model, bx, by)
                        loss_value = loss.data
                        loss.backward()
                    optimizer.step()
                    history.updates += 1
                    losses += loss_value * len(batch)
                    right += acc * len(batch)
                    if bar is not None:
                        bar.set_postfix(
                            {"loss": f"{loss_value:.4f}", "accuracy": f"{acc:.0%}"}, refresh=False
                        )
                        bar.update(1)
                history.train_losses.append(losses / len(examples))
                history.train_accuracies.append(right / len(examples))
                if test is not None:
                    test_loss, test_acc = evaluate(model, *test, traced=traced)
                    history.test_losses.append(test_loss)
                    history.test_accuracies.append(test_acc)
            if stop.requested:
                raise TrainingInterrupted(history.updates, epochs * batches)
    finally:
        if bar is not None:
            bar.close()
    return history


def evaluate(
    model: MLP, X: Points, y: Sequence[int], *, traced: _PerExample | None = None
) -> tuple[float, float]:
    """The mean softmax cross-entropy (no penalty) and the accuracy of class scores on ``X``, ``y``.

    With ``traced`` (the model's trace in training) the scores come from
    the generated code; the parameters' gradients are left as they were.

    >>> model = MLP(2, [3], seed=0)
    >>> loss, acc = evaluate(model, [[0.5, 1.0], [1.0, -1.0]], [2, 0])
    >>> round(loss, 6), acc
    (1.335043, 0.0)
    """
    if traced is not None:
        params = model.parameters()
        kept = [p.grad for p in params]
        traced.run(list(zip(X, y)))
        rows = [list(o) for o in traced.outputs]
        for p, g in zip(params, kept):
            p.grad = g
    else:
        with no_grad():
            rows = [[v.data for v in SoftmaxLoss._scores(model(x))] for x in X]
    terms = [softmax_ce(*row, label)[0] for row, label in zip(rows, y)]
    return math.fsum(terms) / len(terms), accuracy(rows, y)
