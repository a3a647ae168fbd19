"""The walk over a graph, and the backward pass along it.

``walk`` puts the nodes in topological order: every node after the nodes it
was computed from. ``backprop`` then goes through them in reverse, each node
passing its gradient on to its parents (the chain rule). Neither knows the
kinds of node: each node says which of its parents it waits for
(``unplaced_parents``) and how its gradient flows back (``backprop``).

>>> from tinygrad_bp import Value
>>> a = Value(2.0, "a")
>>> b = a * a + 1
>>> order, leaves = walk(b)
>>> [n.op for n in order], [n.label for n in leaves]
(['*', '+'], ['a'])
>>> backprop(b, order, leaves)
>>> a.grad
4.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type hints only: engine.py imports this module
    from .engine import Value


def walk(root: Value) -> tuple[list[Value], list[Value]]:
    """The nodes made by ops that ``root`` depends on, parents first; and its leaves.

    Depth first with an explicit stack, so a graph a million nodes deep needs
    no recursion. A node stays on the stack until the parents it waits for
    are placed; they go on top of it, the first argument on top, so the order
    follows the arguments'. A root that is a leaf is its own one leaf.
    """
    order: list[Value] = []
    leaves: list[Value] = []  # the nodes no op made: parameters and inputs
    placed: set[Value] = set()
    # The ids of shared tuples of parents (a Net's weights, its inputs) whose
    # Values are all placed: each is looked into once per graph, not once per
    # node. They live as long as the graph, so no id is reused in the walk.
    complete: set[int] = set()
    stack = [root]
    while stack:
        node = stack[-1]
        waiting = node.unplaced_parents(placed, complete)
        if len(waiting) == 1 and not waiting[0].unplaced_parents(placed, complete):
            # The one parent it waits for is ready itself (most often the net
            # under an activation): place that parent now, saving two trips.
            parent = waiting[0]
            placed.add(parent)
            (leaves if parent.creator is None else order).append(parent)
        elif waiting:
            stack += waiting
            continue
        stack.pop()
        if node not in placed:  # a node pushed by two readers is placed once
            placed.add(node)
            (leaves if node.creator is None else order).append(node)
    return order, leaves


def backprop(root: Value, order: list[Value], leaves: list[Value]) -> None:
    """The backward pass over ``walk(root)``: every grad summed from zero.

    The root's gradient is 1 (d root / d root); each node then passes its own
    on, in reverse order, so a node has heard from every node that reads it
    before it speaks to its parents.
    """
    for node in leaves:
        node.grad = 0.0
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        node.backprop()
