"""A neuron's net input Σ wᵢ·xᵢ + b as one node, and a layer's forward pass.

The article draws net_h1 = w1·i1 + w2·i2 + b1 as one node with an edge per
weight, input and bias; ``Net`` is that node. A graph of nets is about ten
times smaller than one node per ``*`` and ``+``, and since a layer's nets
all read the same inputs and each neuron the same weights, their edges are
kept as shared tuples that ``walk`` looks into once per graph.

>>> from tinygrad_bp import Value
>>> w, x = Value(0.5, "w"), Value(2.0, "x")
>>> net = weighted_sum([w], [x], 0.25)
>>> net.data, [p.label for p in net.parents], net.local_grads
(1.25, ['w', 'x'], (2.0, 0.5))
"""

from __future__ import annotations

from collections.abc import Sequence
from math import isfinite

from . import grad_mode, rules
from .contract import to_float
from .engine import Op, Operand, Unary, Value


class Net(Value):
    """A neuron's net input Σ wᵢ·xᵢ + b as one node (``weighted_sum``).

    Its edges, in this order: the weights ``w`` that are Values, each with
    local derivative its input's value (in ``dw``); the inputs ``x`` that are
    Values, each with local derivative its weight's value (in ``dx``); the
    bias ``b`` (local derivative 1), or None when it is a plain number.
    Plain numbers among the operands are constants and get no edge.

    The tuples are shared, not copied: a neuron passes the same tuple of
    weights on every call, and the nets of one layer call share ``x`` and
    ``dw``. The inputs' floats are in ``dw`` whether the inputs are Values or
    numbers; ``args`` (w..., x..., b) is kept only when a weight or the bias
    is a plain number, or the inputs are of both sorts.
    """

    __slots__ = ("w", "dw", "x", "dx", "b", "args")
    w: tuple[Value, ...]
    dw: tuple[float, ...]
    x: tuple[Value, ...]
    dx: tuple[float, ...]
    b: Value | None

    def __init__(
        self,
        data: float,
        w: tuple[Value, ...],
        dw: tuple[float, ...],
        x: tuple[Value, ...],
        dx: tuple[float, ...],
        b: Value | None,
        args: tuple[Operand, ...] | None = None,
    ) -> None:
        self.data = data
        self.grad = 0.0
        self.label = ""
        self.creator = weighted_sum_op
        self.w = w
        self.dw = dw
        self.x = x
        self.dx = dx
        self.b = b
        self.args = args  # w..., x..., b, where some were plain numbers

    @property
    def parents(self) -> tuple[Value, ...]:
        return (*self.w, *self.x) if self.b is None else (*self.w, *self.x, self.b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        return (*self.dw, *self.dx) if self.b is None else (*self.dw, *self.dx, 1.0)

    def backprop(self) -> None:
        g = self.grad
        # Nothing flows back through a net whose gradient is 0 (behind a ReLU
        # that is off, a point the hinge loss does not count): every grad of
        # the pass starts at +0.0 and adding 0.0 · d changes no float, unless d
        # is inf or NaN (0 · inf is NaN). The d's are the net's own inputs and
        # weights, and an inf or NaN among them makes the net inf or NaN too.
        if g == 0.0 and isfinite(self.data):
            return
        for w, d in zip(self.w, self.dw):
            w.grad += d * g
        for x, d in zip(self.x, self.dx):
            x.grad += d * g
        if self.b is not None:
            self.b.grad += g

    def unplaced_parents(self, placed: set[Value], complete: set[int]) -> Sequence[Value]:
        """The parents not placed yet, the last first; a shared tuple is looked into once."""
        b = self.b
        if id(self.x) in complete and id(self.w) in complete and (b is None or b in placed):
            return ()  # the common case, once the first net of a layer is placed
        waiting = [b] if b is not None and b not in placed else []
        for group in (self.x, self.w):
            if id(group) not in complete:
                group_waiting = [p for p in reversed(group) if p not in placed]
                if group_waiting:
                    waiting += group_waiting
                else:
                    complete.add(id(group))
        return waiting


class WeightedSumOp(Op):
    """The op that makes a ``Net``: called with w1..wn, x1..xn, b, as ``weighted_sum``."""

    def __call__(self, *wxb: Operand) -> Value:
        if len(wxb) % 2 == 0:
            raise TypeError(
                f"op {self.name!r} takes w1..wn, x1..xn and b: an odd count, got {len(wxb)}"
            )
        n = len(wxb) // 2
        return weighted_sum(wxb[:n], wxb[n:-1], wxb[-1])


# What made every Net; called with w1..wn, x1..xn, b it makes one too.
weighted_sum_op = WeightedSumOp(rules.weighted_sum, "Σwx+b", checked=False)


def weighted_sum(w: Sequence[Operand], x: Sequence[Operand], b: Operand = 0.0) -> Value:
    """A neuron's total net input Σ wᵢ·xᵢ + b as ONE node: a ``Net``.

    It has one edge per weight, input and bias that is a Value (plain numbers
    get none), in the order w..., x..., b; the edge from wᵢ carries xᵢ and the
    edge from xᵢ carries wᵢ. This is how the article draws net_h1, and it
    keeps a network's graph about ten times smaller than one node per * and +.

    >>> w1, w2, b1 = Value(0.15), Value(0.20), Value(0.35)
    >>> net_h1 = weighted_sum([w1, w2], [0.05, 0.10], b1)
    >>> round(net_h1.data, 9), net_h1.local_grads
    (0.3775, (0.05, 0.1, 1.0))
    """
    return weighted_sums((w,), x, (b,))[0]


def weighted_sums(
    weights: Sequence[Sequence[Operand]],
    x: Sequence[Operand],
    biases: Sequence[Operand],
    activation: Op | None = None,
    labels: Sequence[tuple[str, str]] | None = None,
) -> list[Value]:
    """``weighted_sum(w, x, b)`` for each row ``w`` of ``weights`` and its bias: a layer's nets.

    The nodes are the same as one ``weighted_sum`` per neuron makes; the
    shared inputs are read once, not once per neuron. Pass each row as the
    same tuple on every call (as ``nn.Neuron`` keeps its weights) and
    backward() looks at its edges once per graph, not once per net.

    With ``activation`` (an op of one argument, such as ``relu``), each net
    goes through it and the outputs are returned: a layer's forward pass in
    one call, the same nodes as ``activation(net)`` makes. ``labels`` gives
    each row's net and output their labels.

    >>> w = [[Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]]
    >>> nets = weighted_sums(w, [0.5, 0.25], [Value(0.0), Value(1.0)])
    >>> [net.data for net in nets], len(nets[1].parents)
    ([1.0, 3.5], 3)
    >>> from tinygrad_bp import relu
    >>> outs = weighted_sums(w, [-1.0, 0.0], [Value(0.0), Value(1.0)], relu)
    >>> [(out.op, out.data, out.parents[0].data) for out in outs]
    [('relu', 0.0, -1.0), ('relu', 0.0, -2.0)]
    """
    if len(weights) != len(biases):
        raise ValueError(
            f"weighted_sums: expected one bias per row of weights, got {len(weights)} rows "
            f"and {len(biases)} biases"
        )
    if labels is not None and len(labels) != len(weights):
        raise ValueError(
            f"weighted_sums: expected one pair of labels per row of weights, got {len(labels)} "
            f"for {len(weights)} rows"
        )
    # The inputs are read once for the whole layer: their floats are every
    # net's ∂net/∂wᵢ, and the Values among them every net's input edges.
    # (Lists first: tuple() of a generator costs a third of a small layer.)
    inputs = tuple([a for a in x if isinstance(a, Value)])
    if len(inputs) == len(x):  # a hidden layer: every input a Value
        xs = tuple([a.data for a in inputs])
    else:
        xs = tuple([a.data if isinstance(a, Value) else to_float(a, "weighted_sum") for a in x])
    # The layers of an MLP are the common case: inputs all Values or all
    # numbers, every weight a leaf Value, the bias one too. Then a net's edges
    # are shared tuples (see Net) and its value one dot product.
    all_or_none = not inputs or len(inputs) == len(xs)
    record = grad_mode.enabled
    outs: list[Value] = []
    for j, (w, b) in enumerate(zip(weights, biases)):
        ws = [a.data for a in w if a.__class__ is Value]
        net: Value
        if len(ws) == len(w) == len(xs) and b.__class__ is Value and all_or_none and record:
            # Every weight is a Value here: the neuron's own tuple is the edge group.
            w_edges = w if type(w) is tuple else tuple(w)
            dx = tuple(ws) if inputs else ()  # ∂net/∂xᵢ = wᵢ
            net = Net(rules.dot(ws, xs) + b.data, w_edges, xs, inputs, dx, b)  # type: ignore[arg-type]
        else:
            net = _net_of_operands(w, x, b, xs)
        if labels is not None:
            net.label, out_label = labels[j]
        if activation is not None:
            if record and not activation.checked:
                # What activation(net) does, without its argument checks: the
                # net is a Value, and the rule a built-in one of one argument.
                out, (d,) = activation.rule(net.data)
                net = Unary(activation, out, net, d)
            else:
                net = activation(net)
            if labels is not None:
                net.label = out_label
        outs.append(net)
    return outs


def _net_of_operands(
    w: Sequence[Operand], x: Sequence[Operand], b: Operand, xs: tuple[float, ...]
) -> Value:
    """A ``Net`` argument by argument: constants among the operands get no edge."""
    if len(w) != len(xs):
        raise ValueError(
            "weighted_sum: expected one weight per input, got "
            f"{len(w)} weights and {len(xs)} inputs"
        )
    ws = [a.data if isinstance(a, Value) else to_float(a, "weighted_sum") for a in w]
    bias = b.data if isinstance(b, Value) else to_float(b, "weighted_sum")
    data = rules.dot(ws, xs) + bias
    if not grad_mode.enabled:
        return Value(data)
    return Net(
        data,
        *_edges(w, xs),  # ∂net/∂wᵢ = xᵢ
        *_edges(x, ws),  # ∂net/∂xᵢ = wᵢ
        b if isinstance(b, Value) else None,
        (*w, *x, b),  # the numbers among them are remembered here
    )


def _edges(
    operands: Sequence[Operand], local: Sequence[float]
) -> tuple[tuple[Value, ...], tuple[float, ...]]:
    """The Values among ``operands``, and the local derivatives that go with them."""
    pairs = [(a, d) for a, d in zip(operands, local) if isinstance(a, Value)]
    return tuple(a for a, _ in pairs), tuple(d for _, d in pairs)
