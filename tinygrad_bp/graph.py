"""Questions put to a graph: its nodes in order, and gradients without touching ``.grad``.

>>> from tinygrad_bp import Value
>>> x = Value(3.0, "x")
>>> y = x * x + x
>>> [n.label or n.op for n in topological_order(y)], grad(y, [x])
(['x', '*', '+'], [7.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, overload

from .higher_order import grad_graph
from .value import Value, walk


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every node ``root`` depends on, once each, every node after its parents.

    The order is ``walk``'s: each leaf just before the first node that reads
    it. With ``leaves=False`` only nodes made by ops are listed (and the
    root, always).

    >>> a = Value(1.0, "a"); b = a + 1; c = a * b
    >>> [n.label or n.op for n in topological_order(c)]
    ['a', '+', '*']
    """
    order = walk(root)
    if leaves:
        return order
    return [node for node in order if node.creator is not None or node is root]


@overload
def grad(
    root: Value, wrt: Sequence[Value], create_graph: Literal[False] = False
) -> list[float]: ...
@overload
def grad(root: Value, wrt: Sequence[Value], create_graph: Literal[True]) -> list[Value]: ...
def grad(
    root: Value, wrt: Sequence[Value], create_graph: bool = False
) -> list[float] | list[Value]:
    """∂root/∂v for each v in ``wrt``, returned, leaving every ``.grad`` as it is.

    The same backward pass as ``root.backward()``; the graph's gradients are
    put back as they were afterwards. A Value the root does not depend on
    gets 0. With ``create_graph=True`` each gradient is a Value, the
    backward pass built as a graph of ops (``higher_order.grad_graph``):
    differentiate it again for a second derivative.

    >>> x = Value(3.0)
    >>> grad(x * x, [x]), x.grad
    ([6.0], 0.0)
    >>> (slope,) = grad(x * x * x, [x], create_graph=True)   # 3x², a Value
    >>> slope.data, grad(slope, [x])                          # and 6x
    (27.0, [18.0])
    """
    if not isinstance(root, Value):
        raise TypeError(f"grad: root must be a Value, got {type(root).__name__}")
    if isinstance(wrt, Value) or not isinstance(wrt, Sequence):
        raise TypeError(f"grad: wrt must be a list of Values, got {type(wrt).__name__}")
    for i, v in enumerate(wrt):
        if not isinstance(v, Value):
            raise TypeError(f"grad: wrt[{i}] must be a Value, got {type(v).__name__}")
    if create_graph:
        return grad_graph(root, wrt)
    order = walk(root)
    saved = [node.grad for node in order]
    for node in order:  # from zero: backward() adds a leaf's earlier grad back
        node.grad = 0.0
    root.backward()
    in_graph = set(order)
    result = [v.grad if v in in_graph else 0.0 for v in wrt]
    for node, g in zip(order, saved):
        node.grad = g
    return result
