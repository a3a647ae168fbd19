"""A graph as the code that reads it needs it: sorted once, each node's consumers mapped once.

``draw``, ``explain`` and the stepper all walk the same graph; a ``GraphView``
is that walk done once and shared between them.

>>> from tinygrad_bp import Value
>>> a = Value(2.0, "a"); b = a * a; c = b + a
>>> view = GraphView(c)
>>> [v.label or v.op for v in view.order]
['a', '*', '+']
>>> {consumer.op: ks for consumer, ks in view.consumers[a].items()}
{'*': [0, 1], '+': [1]}
"""

from __future__ import annotations

from ..graph import topological_order
from ..value import Value
from .formatting import printable, quoted


class GraphView:
    """``root``'s graph: ``order`` (topological), ``index`` (each node's place in it)
    and ``consumers`` (node -> {consumer: [k, ...]}, the edges ``consumer.parents[k]``
    that come from node; consumers in topological order)."""

    __slots__ = ("consumers", "index", "order", "root")

    def __init__(self, root: Value) -> None:
        self.root = root
        self.order = topological_order(root)
        self.index = {v: i for i, v in enumerate(self.order)}
        self.consumers: dict[Value, dict[Value, list[int]]] = {v: {} for v in self.order}
        for node in self.order:
            for k, parent in enumerate(node.parents):
                self.consumers[parent].setdefault(node, []).append(k)

    def find(self, node: object, who: str, what: str, root_name: str) -> Value:
        """``node`` itself if it is a Value, else the one node labelled ``node``.

        ``who`` and ``what`` name the caller and its argument in the error,
        ``root_name`` the root.
        """
        if isinstance(node, Value):
            return node
        if not isinstance(node, str):
            raise TypeError(f"{who}: {what} must be a Value or a label, got {type(node).__name__}")
        found = [v for v in self.order if v.label == node]
        if len(found) == 1:
            return found[0]
        if not found:
            labels = list(dict.fromkeys(printable(v.label) for v in self.order if v.label))
            shown = ", ".join(labels[:40]) + (", …" if len(labels) > 40 else "")
            raise ValueError(
                f"{who}: no node labelled {quoted(node)} in the graph of {root_name}; "
                f"its labels are: {shown or '(none)'}"
            )
        raise ValueError(
            f"{who}: {len(found)} nodes are labelled {quoted(node)} in the graph of "
            f"{root_name}; pass the Value itself"
        )
