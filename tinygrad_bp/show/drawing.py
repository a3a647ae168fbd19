"""Draw a Value's graph: one record per Value with its label, data and grad.

``draw(root)`` returns an unrendered ``graphviz.Digraph`` (a ``Drawing``):
one record node per Value, a small node for the op that made it, and one
edge per parent in argument order (``a * a`` has two). Rendering is a
separate step (``render``/``render_bytes`` in ``render.py``), done by the
Graphviz that pygraphviz bundles, so no system Graphviz is needed; in
Jupyter a Drawing shows itself inline as SVG the same way.

>>> from tinygrad_bp import Value, draw
>>> a = Value(3.0, "a")
>>> b = a * a
>>> b.label = "b"
>>> b.backward()
>>> g = draw(b, edge_labels=True)
>>> g.node_ids[a], g.node_ids[b]
('v0', 'v1')
>>> g.source.count("v0 -> v1_op")  # two edges: a is both factors
2
"""

from __future__ import annotations

from collections.abc import Iterable

from ..value import Value
from .dot import DotWriter, Drawing
from .formatting import quoted, short_repr
from .graph_view import GraphView
from .neurons import Neuron, collapsed_size, find_neurons

# Graphs up to this size lay out in about a second (a 2-16-16-1 MLP's loss over
# two points, 474 nodes: 0.6 s); 1,000 nodes take a few.
DEFAULT_MAX_NODES = 500
# The most the command line lets --max-nodes raise it to: with the layout
# settings of dot.py graphs up to this size lay out within a few seconds (a
# 2-16-16-1 MLP's loss over 9 points, 950 nodes: 3 s; the 1,000 nodes of
# tanh(x*w1) + … + tanh(x*w250): 2.5 s). Twice as many take 4 to 8 times as long.
LARGEST_MAX_NODES = 1000
DIRECTIONS = ("LR", "TB", "RL", "BT")


class TooManyNodesError(ValueError):
    """draw's refusal of a graph over ``max_nodes``, with the counts advice needs.

    ``count`` is the nodes it would draw; ``collapsed`` the nodes it draws
    with each neuron as one node, where that would draw fewer (else None).
    The command line words its own advice (flags, not a Python call) from them.
    """

    def __init__(self, message: str, count: int, max_nodes: int, collapsed: int | None) -> None:
        super().__init__(message)
        self.count = count
        self.max_nodes = max_nodes
        self.collapsed = collapsed


def draw(
    root: Value,
    *,
    direction: str = "LR",
    precision: int = 4,
    edge_labels: bool = False,
    highlight: Value | str | None = None,
    parameters: Iterable[Value] | None = None,
    color: bool = True,
    collapse_neurons: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Drawing:
    """The graph ``root`` was computed by, as an unrendered ``graphviz.Digraph``.

    - ``direction``: "LR" (left to right, the default), "TB", "RL" or "BT".
    - ``precision``: decimals shown for data, grad and edge labels.
    - ``edge_labels``: label every edge with its local derivative, the
      ∂child/∂parent recorded when the child was made.
    - ``highlight``: a Value of the graph, or the label of exactly one of its
      nodes; it, every node on a path from it to ``root`` and the edges
      between them are drawn in red. That is the path its gradient flows
      back along.
    - ``parameters``: Values to colour as parameters (e.g.
      ``model.parameters()``); other leaves (inputs, constants) get their
      own colour. ``color=False`` draws everything white.
    - ``collapse_neurons``: draw each neuron (a Σwx+b node, with the
      activation over it) as one node showing its output's data and grad,
      with its weights and bias folded in (see ``find_neurons``).
    - ``max_nodes``: past this many Value nodes ``draw`` refuses (layouts
      of thousands of nodes are slow and unreadable) and says what to do.

    Labels are escaped: any text in them stays text.

    >>> from tinygrad_bp import Value, draw
    >>> x = Value(0.5, 'x"<1>')
    >>> y = (x * 2).tanh()
    >>> y.backward()
    >>> src = draw(y, precision=3).source
    >>> "x&quot;&lt;1&gt;" in src, "data 0.500" in src, "grad 0.420" in src
    (True, True, True)
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {type(root).__name__}")
    return draw_view(
        GraphView(root),
        direction=direction,
        precision=precision,
        edge_labels=edge_labels,
        highlight=highlight,
        parameters=parameters,
        color=color,
        collapse_neurons=collapse_neurons,
        max_nodes=max_nodes,
    )


def draw_view(
    view: GraphView,
    *,
    direction: str = "LR",
    precision: int = 4,
    edge_labels: bool = False,
    highlight: Value | str | None = None,
    parameters: Iterable[Value] | None = None,
    color: bool = True,
    collapse_neurons: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
    caller: str = "draw",
) -> Drawing:
    """``draw`` of a graph already sorted, for code that reads the same graph
    (the stepper); ``caller`` is the name its errors and advice give."""
    who = caller.lower()
    _check_options(who, direction, precision, max_nodes)
    root = view.root
    lit: Value | None = None
    if highlight is not None:
        lit = view.find(highlight, who, "highlight", _describe(root))
        if lit not in view.index:
            raise ValueError(
                f"{who}: highlight {_describe(lit)} is not in the graph of {_describe(root)}"
            )
    shown, folded = find_neurons(view)
    count = collapsed_size(view, shown, folded) if collapse_neurons else len(view.order)
    if count > max_nodes:
        small = collapsed_size(view, shown, folded) if shown and not collapse_neurons else None
        raise TooManyNodesError(
            _too_big(view, shown, folded, count, max_nodes, collapse_neurons, caller),
            count,
            max_nodes,
            small,
        )
    builder = DotWriter(
        view,
        precision=precision,
        edge_labels=edge_labels,
        params=set(parameters) if parameters is not None else None,
        color=color,
        on_path=_path_from(lit, view) if lit is not None else set(),
        neurons=shown if collapse_neurons else {},
        folded=folded if collapse_neurons else set(),
    )
    return builder.build(direction, count)


def _check_options(who: str, direction: str, precision: int, max_nodes: int) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(
            f"{who}: direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}"
        )
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 17:
        raise ValueError(
            f"{who}: precision must be a whole number from 0 to 17, got {short_repr(precision)}"
        )
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(
            f"{who}: max_nodes must be a positive whole number, got {short_repr(max_nodes)}"
        )


def _describe(v: Value) -> str:
    return quoted(v.label) if v.label else short_repr(v, 80)


def _too_big(
    view: GraphView,
    shown: dict[Value, Neuron],
    folded: set[Value],
    count: int,
    max_nodes: int,
    collapsed: bool,
    caller: str,
) -> str:
    """The refusal, with settings that work and how many nodes each draws."""
    if collapsed:
        advice = f"raise the limit: {caller}(root, collapse_neurons=True, max_nodes={count})"
    else:
        advice = f"raise the limit: {caller}(root, max_nodes={count})"
        if shown:
            small = collapsed_size(view, shown, folded)
            limit = "" if small <= max_nodes else f", max_nodes={small}"
            advice += (
                f", or draw each neuron as one node: "
                f"{caller}(root, collapse_neurons=True{limit}) ({small} nodes)"
            )
    return (
        f"{caller.lower()}: the graph has {count} nodes, more than max_nodes={max_nodes}; "
        f"to draw it, {advice}"
    )


def _path_from(node: Value, view: GraphView) -> set[Value]:
    """``node`` and every node computed from it: all lie on a path from it to the root."""
    on_path = {node}
    for v in view.order[view.index[node] + 1 :]:
        if any(p in on_path for p in v.parents):
            on_path.add(v)
    return on_path
