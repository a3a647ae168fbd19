"""Loss functions, as plain functions of Values.

Each loss is built from fused ops (one node per term, made with ``op`` from a
rule on plain floats), then ``total`` and a mean: few nodes, and the local
derivatives on the graph are the textbook ones.

>>> from tinygrad_bp import Value
>>> from nn.losses import half_squared_error
>>> out = Value(0.75)
>>> E = half_squared_error([out], [0.25])
>>> E.data
0.125
>>> E.backward(); out.grad
0.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from tinygrad_bp import Value, op, rules, total
from tinygrad_bp.extend import Op, Template

Operand = Value | float | int


# Its template, for the code trace generates: the rule's arithmetic, inline.
@op(
    name="½(t−o)²",
    template=Template("0.5 * ({0} - {1}) * ({0} - {1})", ("{0} - {1}", "-({0} - {1})")),
)
def _half_squared(out: float, target: float) -> tuple[float, tuple[float, float]]:
    # ∂E/∂out = −(target − out): the article's ∂E_total/∂out_o1.
    diff = out - target
    return 0.5 * diff * diff, (diff, -diff)


def half_squared_errors(outputs: Sequence[Operand], targets: Sequence[Operand]) -> list[Value]:
    """½(target − out)² for each output, one node each (the article's E_o1, E_o2)."""
    if len(outputs) != len(targets):
        raise ValueError(
            f"half_squared_errors: expected one target per output, got {len(outputs)} "
            f"outputs and {len(targets)} targets"
        )
    return [_half_squared(o, t) for o, t in zip(outputs, targets)]


def half_squared_error(outputs: Sequence[Operand], targets: Sequence[Operand]) -> Value:
    """The article's error, E_total = Σ ½(target − out)²."""
    return total(half_squared_errors(outputs, targets))


# -- helpers -------------------------------------------------------------------
def _data(x: Operand) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _check_pairs(name: str, outputs: Sequence[object], targets: Sequence[object]) -> int:
    """The batch size, after checking that there is one target per output."""
    if len(outputs) != len(targets):
        raise ValueError(
            f"{name}: expected one target per output, got {len(outputs)} outputs "
            f"and {len(targets)} targets"
        )
    if not outputs:
        raise ValueError(f"{name}: expected at least one output, got none")
    return len(outputs)


def _mean(terms: list[Value]) -> Value:
    # One Σ node and one division node, however large the batch; dividing (not
    # multiplying by 1/n) gives the correctly rounded mean.
    return total(terms) / len(terms)


# -- mean squared error ----------------------------------------------------------
@op(name="(o−t)²")
def _squared(out: float, target: float) -> tuple[float, tuple[float, float]]:
    diff = out - target
    return diff * diff, (2.0 * diff, -2.0 * diff)


def mse(outputs: Sequence[Operand], targets: Sequence[Operand]) -> Value:
    """Mean squared error, (1/n) Σ (outᵢ − targetᵢ)².

    >>> o = Value(3.0)
    >>> loss = mse([o, 1.0], [1.0, 2.0])
    >>> loss.data
    2.5
    >>> loss.backward(); o.grad
    2.0
    """
    _check_pairs("mse", outputs, targets)
    return _mean([_squared(o, t) for o, t in zip(outputs, targets)])


# -- hinge (max-margin) ------------------------------------------------------------
# _z is the generated code's scratch name: the margin, computed once.
@op(
    name="hinge",
    template=Template(
        "_z if (_z := 1.0 - {1} * {0}) > 0.0 else 0.0",
        ("-{1} if {out} > 0.0 else 0.0", "-{0} if {out} > 0.0 else 0.0"),
        gates=True,
    ),
)
def hinge_term(score: float, label: float) -> tuple[float, tuple[float, float]]:
    # max(0, 1 − y·s): zero, with zero slope, once the score is past the margin.
    # At exactly the margin the derivative is taken as 0, as relu's is.
    margin = 1.0 - label * score
    if margin > 0.0:
        return margin, (-label, -score)
    return 0.0, (0.0, 0.0)


def hinge(scores: Sequence[Operand], labels: Sequence[Operand]) -> Value:
    """The max-margin (SVM) loss, (1/n) Σ max(0, 1 − yᵢ·scoreᵢ), labels ±1.

    This is micrograd's moons loss, ``relu(1 - y·score)`` averaged. A label
    that is not −1 or +1 (for instance a 0/1 class label) is a ValueError.

    >>> s = Value(0.25)
    >>> loss = hinge([s, 2.0], [1, 1])
    >>> loss.data
    0.375
    >>> loss.backward(); s.grad
    -0.5
    """
    _check_pairs("hinge", scores, labels)
    for i, y in enumerate(labels):
        if _data(y) not in (-1.0, 1.0):
            raise ValueError(f"hinge: labels must be -1 or +1, got {_data(y)!r} at index {i}")
    return _mean([hinge_term(s, y) for s, y in zip(scores, labels)])


# -- binary cross-entropy from logits ------------------------------------------------
@op(name="bce")
def _bce_with_logits(z: float, t: float) -> tuple[float, tuple[float, float]]:
    # −[t·log σ(z) + (1−t)·log(1−σ(z))] rearranged as max(z, 0) − z·t + log(1 + e^−|z|):
    # exp only ever sees a non-positive number, so z = ±1000 cannot overflow, and
    # log1p keeps the small tail exact. ∂/∂z = σ(z) − t, ∂/∂t = −z.
    value = max(z, 0.0) - z * t + math.log1p(math.exp(-abs(z)))
    return value, (rules.sigmoid(z)[0] - t, -z)


def binary_cross_entropy_with_logits(
    logits: Sequence[Operand], targets: Sequence[Operand]
) -> Value:
    """Mean binary cross-entropy of σ(logit) against targets in [0, 1].

    Computed from the logits, never from σ(logit), so it is finite and exact
    for any logit: a confident wrong answer of 1000 costs 1000, not inf.

    >>> z = Value(0.0)
    >>> loss = binary_cross_entropy_with_logits([z], [1.0])
    >>> round(loss.data, 6)  # log 2
    0.693147
    >>> loss.backward(); z.grad
    -0.5
    """
    _check_pairs("binary_cross_entropy_with_logits", logits, targets)
    for i, t in enumerate(targets):
        value = _data(t)
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"binary_cross_entropy_with_logits: targets must lie in [0, 1], "
                f"got {value!r} at index {i}"
            )
    terms = [_bce_with_logits(z, t) for z, t in zip(logits, targets)]
    return _mean(terms)


# -- softmax cross-entropy ---------------------------------------------------------------
def softmax_ce(*args: float) -> tuple[float, tuple[float, ...]]:
    """log Σ e^zᵢ − z_k for the logits z₀..z_{K−1}, then the class k, and the local derivatives.

    The rule of the op ``softmax_cross_entropy_term`` makes, on floats. k
    is a float here (a trace passes the label as a Value), equal to one of
    0..K−1; anything else is a ValueError. Its "derivative" is 0.

    >>> value, local = softmax_ce(0.0, 0.0, 1.0)  # two logits, class 1
    >>> round(value, 6), local
    (0.693147, (0.5, -0.5, 0.0))
    """
    *zs, k = args
    if not zs:
        raise ValueError("softmax-CE: expected at least one logit before the class")
    target = next((i for i in range(len(zs)) if k == i), None)
    if target is None:
        raise ValueError(f"softmax-CE: the class must be one of 0..{len(zs) - 1}, got {k!r}")
    # log Σ e^zᵢ with the largest logit taken out first: every exponent is ≤ 0,
    # so logits of ±1000 neither overflow nor lose the answer. The largest as
    # max() finds it (a later logit only if strictly greater), spelled out as
    # the template spells it.
    top = zs[0]
    for z in zs[1:]:
        top = z if z > top else top
    exps = [math.exp(z - top) for z in zs]
    s = exps[0]
    for e in exps[1:]:
        s = s + e  # left to right, as the template's chain of +
    # ∂/∂zᵢ = softmaxᵢ − [i = k]
    local = [e / s - 1.0 if i == target else e / s for i, e in enumerate(exps)]
    return top + math.log(s) - zs[target], (*local, 0.0)


def _softmax_cross_entropy_template(classes: int) -> Template:
    """The rule for ``classes`` logits written out, for the code a trace generates.

    The value's expression keeps the largest logit, each e^(zᵢ − max) and
    their sum in variables named after the node ({out}), which the local
    derivatives then read: the backward pass of an example follows its
    forward pass in the generated code, and no other node's name can
    end in these suffixes (a node's name never starts with _, see
    ``codegen.identifier``). The class is compared with 0..K−1 in turn;
    none equal, log(−1.0) raises, where the rule raises (``raises``).
    """
    K = classes
    z = [f"{{{i}}}" for i in range(K)]
    k = f"{{{K}}}"
    m, s = "_{out}_m", "_{out}_s"
    top = f"({m} := {z[0]})"
    for i in range(1, K):
        top = f"({m} := {z[i]} if {z[i]} > {top} else {m})"
    exps = " + ".join(f"(_{{out}}_e{i} := exp({z[i]} - {m}))" for i in range(K))
    chosen = " else ".join(f"{z[i]} if {k} == {i}" for i in range(K)) + " else log(-1.0)"
    value = f"{top} + log(({s} := {exps})) - ({chosen})"
    local = tuple(
        f"_{{out}}_e{i} / {s} - 1.0 if {k} == {i} else _{{out}}_e{i} / {s}" for i in range(K)
    )
    return Template(value, (*local, "0.0"), raises=True)


_SOFTMAX_OPS: dict[int, Op] = {}


def softmax_cross_entropy_term(logits: Sequence[Operand], target: Operand) -> Value:
    """−log softmax(logits)ₖ for one example: ONE node, with an edge to every logit.

    ``target`` is the class k (an int, or a Value holding it, as a trace
    passes a label). The op is made once per number of classes, each with
    its template, so that a trace computes it inline.

    >>> a, b = Value(2.0), Value(0.0)
    >>> term = softmax_cross_entropy_term([a, b], 0)
    >>> round(term.data, 6), term.op
    (0.126928, 'softmax-CE')
    >>> term.backward(); round(a.grad, 6), round(b.grad, 6)
    (-0.119203, 0.119203)
    """
    K = len(logits)
    made = _SOFTMAX_OPS.get(K)
    if made is None:
        made = _SOFTMAX_OPS[K] = op(
            softmax_ce,
            name="softmax-CE",
            template=_softmax_cross_entropy_template(K),
        )
    return made(*logits, target)


def softmax_cross_entropy(logits: Sequence[Sequence[Operand]], targets: Sequence[int]) -> Value:
    """Mean cross-entropy of softmax(logits) against class indices (PyTorch's ``cross_entropy``).

    ``logits[n]`` lists one sample's K class scores, ``targets[n]`` is its
    class, 0 ≤ k < K. Each sample is one node, −log softmax(z)ₖ =
    log Σ e^zᵢ − zₖ, computed stably for logits of any size.

    >>> a, b = Value(0.0), Value(0.0)
    >>> loss = softmax_cross_entropy([[a, b]], [1])
    >>> round(loss.data, 6)  # log 2
    0.693147
    >>> loss.backward(); a.grad, b.grad
    (0.5, -0.5)
    """
    _check_pairs("softmax_cross_entropy", logits, targets)
    terms: list[Value] = []
    for n, (row, k) in enumerate(zip(logits, targets)):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence) or not row:
            raise ValueError(
                f"softmax_cross_entropy: logits[{n}] must be a non-empty list of class scores, "
                f"got {row!r}"
            )
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 0 <= k < len(row):
            raise ValueError(
                f"softmax_cross_entropy: targets[{n}] must be a class index in "
                f"0..{len(row) - 1}, got {k!r}"
            )
        terms.append(softmax_cross_entropy_term(row, int(k)))
    return _mean(terms)


# -- weight penalty ----------------------------------------------------------------------
@op(name="Σp²")
def _sum_of_squares(*ps: float) -> tuple[float, tuple[float, ...]]:
    return math.fsum(p * p for p in ps), tuple(2.0 * p for p in ps)


def l2(params: Sequence[Value]) -> Value:
    """Σ p² over ``params`` as ONE node (micrograd's demo adds 1e-4 of it to the loss).

    >>> w = Value(3.0)
    >>> reg = l2([w, Value(4.0)])
    >>> reg.data
    25.0
    >>> reg.backward(); w.grad
    6.0
    """
    return _sum_of_squares(*params)
