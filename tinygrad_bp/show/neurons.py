"""The neurons in a graph: a net Σ wᵢ·xᵢ + b and the activation over it.

The collapsed drawing and the stepper show each neuron as one node, with
its weights and bias folded into it, as a diagram of a network does.

>>> from tinygrad_bp import Value, weighted_sum
>>> from tinygrad_bp.show.graph_view import GraphView
>>> w, b = Value(0.5, "w"), Value(0.1, "b")
>>> out = weighted_sum([w], [2.0], b).relu()
>>> shown, folded = find_neurons(GraphView(out))
>>> shown[out].net.op, sorted(v.label for v in folded)
('Σwx+b', ['b', 'w'])
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import ops
from ..sums import net_parts
from ..value import Value
from .graph_view import GraphView

# What a neuron's net shows as (the op of every weighted sum), and the
# activations whose node over a net makes a neuron in the collapsed view.
WEIGHTED_SUM_OP = ops.weighted_sum_op.name
ACTIVATIONS = frozenset({ops.sigmoid, ops.tanh, ops.relu})


def is_net(node: Value) -> bool:
    """Whether ``node`` is a neuron's net input Σ wᵢ·xᵢ + b (made by ``weighted_sum``)."""
    return node.creator is ops.weighted_sum_op


class Neuron:
    """A neuron in the collapsed view: its net, the activation over it (or the
    net again) and how many of the net's edges come from folded parameters."""

    __slots__ = ("net", "out", "params")

    def __init__(self, net: Value, out: Value) -> None:
        self.net = net
        self.out = out
        self.params = 0


def find_neurons(view: GraphView) -> tuple[dict[Value, Neuron], set[Value]]:
    """The neurons of a graph, by their ops: which neuron shows each node, and the folded leaves.

    A neuron is a net (``is_net``) with, when its one consumer is an activation of it
    (``sigmoid``, ``tanh``, ``relu``), that activation as its output. A leaf
    is folded into the neurons when it enters at least one net and every net
    it enters takes it as a weight or the bias, never as an input; it may
    feed other nodes too (a regularizer such as ``l2(model.parameters())``),
    whose edges are then drawn from the neuron.
    """
    shown: dict[Value, Neuron] = {}
    for node in view.order:
        if not is_net(node):
            continue
        users = view.consumers[node]
        out: Value = node
        if len(users) == 1:
            (user,) = users
            if user.creator in ACTIVATIONS:  # an op of one argument: the net alone
                out = user
        shown[node] = shown[out] = Neuron(node, out)
    folded = {v for v in view.order if v.creator is None and _folds(v, view.consumers[v])}
    for neuron in dict.fromkeys(shown.values()):
        neuron.params = sum(1 for p in neuron.net.parents if p in folded)
    return shown, folded


def _folds(leaf: Value, consumers: Iterable[Value]) -> bool:
    parts = [net_parts(c) for c in consumers if is_net(c)]
    return bool(parts) and all(leaf not in x and (leaf in w or leaf is b) for w, x, b in parts)


def collapsed_size(view: GraphView, shown: dict[Value, Neuron], folded: set[Value]) -> int:
    """How many nodes the collapsed view draws: one per neuron, none per folded leaf."""
    return sum(1 for v in view.order if v not in folded and (v not in shown or shown[v].out is v))
