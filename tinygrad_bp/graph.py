"""Questions put to a graph: its nodes in order, gradients left untouched, no recording.

>>> from tinygrad_bp import Value
>>> x = Value(3.0, "x")
>>> y = x * x + x
>>> [n.label or n.op for n in topological_order(y)], grad(y, [x])
(['x', '*', '+'], [7.0])
"""

from __future__ import annotations

from collections.abc import Sequence

from .engine import Value
from .walk import backprop, walk


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every node ``root`` depends on, once each, every node after its parents.

    The walk is iterative, so a graph a million nodes deep needs no
    recursion. With ``leaves=False`` only nodes made by ops are listed (the
    root always is).

    >>> a = Value(1.0, "a"); b = a + 1; c = a * b
    >>> [n.label or n.op for n in topological_order(c)]
    ['a', '+', '*']
    """
    order, leaf_nodes = walk(root)
    if not order:  # the root is a leaf
        return [root]
    if not leaves:
        return order
    # Each leaf goes just before the first node that reads it.
    is_leaf = set(leaf_nodes)
    full: list[Value] = []
    for node in order:
        for parent in node.parents:
            if parent in is_leaf:
                is_leaf.discard(parent)
                full.append(parent)
        full.append(node)
    return full


def grad(root: Value, wrt: Sequence[Value]) -> list[float]:
    """∂root/∂v for each v in ``wrt``, returned, leaving every ``.grad`` as it is.

    The same backward pass as ``root.backward()``; the graph's gradients are
    put back as they were afterwards.

    >>> x = Value(3.0)
    >>> grad(x * x, [x]), x.grad
    ([6.0], 0.0)
    """
    if not isinstance(root, Value):
        raise TypeError(f"grad: root must be a Value, got {type(root).__name__}")
    if isinstance(wrt, Value) or not isinstance(wrt, Sequence):
        raise TypeError(f"grad: wrt must be a list of Values, got {type(wrt).__name__}")
    for i, v in enumerate(wrt):
        if not isinstance(v, Value):
            raise TypeError(f"grad: wrt[{i}] must be a Value, got {type(v).__name__}")
    order, leaves = walk(root)
    nodes = [root, *order, *leaves]
    saved = [node.grad for node in nodes]
    backprop(root, order, leaves)
    in_graph = set(nodes)
    result = [v.grad if v in in_graph else 0.0 for v in wrt]
    for node, g in zip(nodes, saved):
        node.grad = g
    return result
