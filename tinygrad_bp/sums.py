"""Sums as one node: Σ of many terms (``total``), and a neuron's Σ wᵢ·xᵢ + b.

The article draws net_h1 = w1·i1 + w2·i2 + b1 as one node with an edge per
weight, input and bias; ``weighted_sum`` makes that node, a Value whose op
is the table's ``Σwx+b``. A graph of such nets is about ten times smaller
than one node per ``*`` and ``+``.

>>> from tinygrad_bp import Value
>>> w, x = Value(0.5, "w"), Value(2.0, "x")
>>> net = weighted_sum([w], [x], 0.25)
>>> net.data, [p.label for p in net.parents], net.local_grads
(1.25, ['w', 'x'], (2.0, 0.5))
"""

from __future__ import annotations

from collections.abc import Sequence

from .ops import total_op, weighted_sum_op
from .value import Op, Operand, Value


def total(values: Sequence[Operand]) -> Value:
    """Σ values as ONE node, with an edge (local derivative 1) per Value.

    >>> a, b = Value(1.0), Value(2.0)
    >>> s = total([a, b, 3.0])
    >>> s.data, s.local_grads
    (6.0, (1.0, 1.0))
    """
    return total_op(*values)


def weighted_sum(w: Sequence[Operand], x: Sequence[Operand], b: Operand = 0.0) -> Value:
    """A neuron's total net input Σ wᵢ·xᵢ + b as ONE node.

    It has one edge per weight, input and bias that is a Value (plain numbers
    get none), in the order w..., x..., b; the edge from wᵢ carries xᵢ and the
    edge from xᵢ carries wᵢ. ``net_parts`` gives its weights, inputs and bias.

    >>> w1, w2, b1 = Value(0.15), Value(0.20), Value(0.35)
    >>> net_h1 = weighted_sum([w1, w2], [0.05, 0.10], b1)
    >>> round(net_h1.data, 9), net_h1.local_grads
    (0.3775, (0.05, 0.1, 1.0))
    """
    if len(w) != len(x):
        raise ValueError(
            f"weighted_sum: expected one weight per input, got {len(w)} weights and {len(x)} inputs"
        )
    return weighted_sum_op(*w, *x, b)


def weighted_sums(
    weights: Sequence[Sequence[Operand]],
    x: Sequence[Operand],
    biases: Sequence[Operand],
    activation: Op | None = None,
    labels: Sequence[tuple[str, str]] | None = None,
) -> list[Value]:
    """``weighted_sum(w, x, b)`` for each row ``w`` of ``weights`` and its bias: a layer's nets.

    With ``activation`` (an op of one argument, such as ``relu``), each net
    goes through it and the outputs are returned: a layer's forward pass in
    one call. ``labels`` gives each row's net and output their labels.

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
    outs = []
    for j, (w, b) in enumerate(zip(weights, biases)):
        out = weighted_sum(w, x, b)
        if labels is not None:
            out.label = labels[j][0]
        if activation is not None:
            out = activation(out)
            if labels is not None:
                out.label = labels[j][1]
        outs.append(out)
    return outs


def net_parts(net: Value) -> tuple[tuple[Operand, ...], tuple[Operand, ...], Operand]:
    """A weighted sum's weights, inputs and bias, as it was called (numbers included).

    >>> w = Value(0.5, "w")
    >>> ws, xs, b = net_parts(weighted_sum([w], [2.0], 0.25))
    >>> [v.label for v in ws], xs, b
    (['w'], (2.0,), 0.25)
    """
    if net.creator is not weighted_sum_op:
        raise ValueError(f"net_parts: expected a node made by weighted_sum, got op {net.op!r}")
    n = (len(net.args) - 1) // 2
    return net.args[:n], net.args[n : 2 * n], net.args[-1]
