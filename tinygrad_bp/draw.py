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
from typing import Any

import graphviz

from . import engine
from .engine import Value
from .layer import Net, weighted_sum_op
from .render import render_bytes
from .text import dot_text, number, quoted, short_repr
from .view import GraphView

# Graphs up to this size lay out in about a second (a 2-16-16-1 MLP's loss over
# two points, 474 nodes: 0.6 s); 1,000 nodes take a few.
DEFAULT_MAX_NODES = 500
DIRECTIONS = ("LR", "TB", "RL", "BT")

# What a neuron's net shows as (the op that makes every Net), and the
# activations whose node over a Net makes a neuron in the collapsed view.
WEIGHTED_SUM_OP = weighted_sum_op.name
ACTIVATIONS = frozenset({engine.sigmoid, engine.tanh, engine.relu})

# Fill colours: parameters, other leaves (inputs, constants), the root,
# intermediates, collapsed neurons; and the highlighted path's colour.
PARAMETER_FILL = "#fff1b8"
LEAF_FILL = "#d6e8fa"
ROOT_FILL = "#dff2d8"
NODE_FILL = "#ffffff"
NEURON_FILL = "#ece1f7"
OP_FILL = "#f0f0f0"
OP_STYLE = {"shape": "ellipse", "style": "filled", "fontsize": "10", "height": "0.3"}
HIGHLIGHT = "#d62728"

# Graphviz's dot spends most of a big layout ordering each rank (mincross)
# and placing nodes (network simplex), each pass repeated until nothing
# improves. Past QUICK_LAYOUT_FROM drawn nodes it is told to stop early:
# the drawing is a little less tidy and ten times faster. An edge that spans
# many ranks becomes a chain of hidden nodes, one per rank; where there are
# more than LONG_EDGES_FROM such steps (one node that feeds nodes far apart),
# placing them is cut shorter still and edges are drawn straight: routing
# curves around thousands of hidden nodes costs minutes.
QUICK_LAYOUT_FROM = 150
QUICK_LAYOUT = {"mclimit": "0.1", "nslimit": "1", "nslimit1": "1"}
LONG_EDGES_FROM = 500
LONG_EDGES_LAYOUT = {"splines": "false", "nslimit": "0.001", "remincross": "false"}


class Drawing(graphviz.Digraph):  # type: ignore[misc]  # graphviz ships no type hints
    """The ``graphviz.Digraph`` that ``draw`` returns, with stable node ids.

    ``node_ids`` maps each Value to the DOT id of the node that shows it
    (``"v<k>"``, k its place in topological order; a Value folded into a
    collapsed neuron maps to that neuron's node). ``edge_ids`` maps
    ``(child, k)``, the edge from ``child.parents[k]``, to its DOT id. Both
    ids are also the ``id`` attributes of the SVG elements, so a page can
    find and highlight them. Jupyter displays a Drawing as SVG rendered by
    pygraphviz, with no system Graphviz.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.node_ids: dict[Value, str] = {}
        self.edge_ids: dict[tuple[Value, int], str] = {}

    def copy(self) -> Drawing:
        new: Drawing = super().copy()
        new.node_ids = dict(self.node_ids)
        new.edge_ids = dict(self.edge_ids)
        return new

    # graphviz.Digraph's _repr_mimebundle_ calls these; they would run a
    # system ``dot``. Rendering in-process needs none.
    def _repr_image_svg_xml(self) -> str:
        return render_bytes(self, "svg").decode("utf-8")

    def _repr_image_png(self) -> bytes:
        return render_bytes(self, "png")


class Neuron:
    """A neuron in the collapsed view: its Net, the activation over it (or the
    Net again) and how many of the Net's edges come from folded parameters."""

    __slots__ = ("net", "out", "params")

    def __init__(self, net: Net, out: Value) -> None:
        self.net = net
        self.out = out
        self.params = 0


def find_neurons(view: GraphView) -> tuple[dict[Value, Neuron], set[Value]]:
    """The neurons of a graph, by node kind: which neuron shows each node, and the folded leaves.

    A neuron is a ``Net`` with, when its one consumer is an activation of it
    (``sigmoid``, ``tanh``, ``relu``), that activation as its output. A leaf
    is folded into the neurons when it enters at least one Net and every Net
    it enters takes it as a weight or the bias, never as an input; it may
    feed other nodes too (a regularizer such as ``l2(model.parameters())``),
    whose edges are then drawn from the neuron.
    """
    shown: dict[Value, Neuron] = {}
    for node in view.order:
        if not isinstance(node, Net):
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
    nets = [c for c in consumers if isinstance(c, Net)]
    return bool(nets) and all(
        leaf not in net.x and (leaf in net.w or leaf is net.b) for net in nets
    )


def collapsed_size(view: GraphView, shown: dict[Value, Neuron], folded: set[Value]) -> int:
    """How many nodes the collapsed view draws: one per neuron, none per folded leaf."""
    return sum(1 for v in view.order if v not in folded and (v not in shown or shown[v].out is v))


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
        raise ValueError(_too_big(view, shown, folded, count, max_nodes, collapse_neurons, caller))
    builder = _Builder(
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


class _Builder:
    """Writes one drawing: a record per shown Value (or neuron), an op node, the edges."""

    def __init__(
        self,
        view: GraphView,
        *,
        precision: int,
        edge_labels: bool,
        params: set[Value] | None,
        color: bool,
        on_path: set[Value],
        neurons: dict[Value, Neuron],
        folded: set[Value],
    ) -> None:
        self.view = view
        self.precision = precision
        self.edge_labels = edge_labels
        self.params = params
        self.color = color
        self.on_path = on_path
        self.neurons = neurons
        self.folded = folded
        self.ids = self._node_ids()

    def _node_ids(self) -> dict[Value, str]:
        """Each Value's node: ``v<k>`` after its place k in topological order; a
        neuron's net is drawn with its output, a folded leaf with its first neuron."""
        index = self.view.index
        ids: dict[Value, str] = {}
        for v in self.view.order:
            neuron = self.neurons.get(v)
            if v not in self.folded:
                ids[v] = f"v{index[neuron.out if neuron is not None else v]}"
        for leaf in self.folded:
            first = next(c for c in self.view.consumers[leaf] if isinstance(c, Net))
            ids[leaf] = ids[first]
        return ids

    def build(self, direction: str, count: int) -> Drawing:
        g = Drawing(
            name="tinygrad_bp",
            graph_attr={
                "rankdir": direction,
                "nodesep": "0.25",
                # Collapsed layers are joined by many edges: more room between ranks.
                "ranksep": "1.2" if self.neurons else "0.4",
                **self._layout(count),
            },
            node_attr={"fontname": "Helvetica,Arial,sans-serif", "fontsize": "11"},
            edge_attr={"fontname": "Helvetica,Arial,sans-serif", "fontsize": "9"},
        )
        self.g = g
        for v in self.view.order:
            neuron = self.neurons.get(v)
            if neuron is not None:
                if neuron.out is v:  # a neuron's net is drawn with its output
                    self._neuron(neuron)
            elif v not in self.folded:
                self._value(v)
        g.node_ids.update(self.ids)
        return g

    def _layout(self, count: int) -> dict[str, str]:
        """Graphviz settings that keep a big layout fast (see QUICK_LAYOUT_FROM)."""
        long_edges = self._long_edges()
        attrs = dict(QUICK_LAYOUT) if max(count, long_edges) > QUICK_LAYOUT_FROM else {}
        if long_edges > LONG_EDGES_FROM:
            attrs.update(LONG_EDGES_LAYOUT)
        return attrs

    def _long_edges(self) -> int:
        """About how many ranks the drawing's edges skip: a node sits one rank
        past the deepest node it reads, and a node that feeds several just
        before the nearest of them."""
        depth: dict[str, int] = {}
        for v in self.view.order:
            nid = self.ids[v]
            tails = [depth[t] + 1 for t in map(self.ids.__getitem__, v.parents) if t != nid]
            depth[nid] = max(depth.get(nid, 0), *tails, 0)
        nearest: dict[str, int] = {}
        edges: list[tuple[str, str]] = []
        for v in self.view.order:
            head = self.ids[v]
            for p in v.parents:
                tail = self.ids[p]
                if tail != head:
                    edges.append((tail, head))
                    nearest[tail] = min(nearest.get(tail, depth[head]), depth[head])
        return sum(depth[head] - nearest[tail] for tail, head in edges)

    # -- nodes ---------------------------------------------------------------
    def _value(self, v: Value) -> None:
        """A record for ``v`` and, if an op made it, the op's node with its edges."""
        nid = self.ids[v]
        lit = v in self.on_path
        self.g.node(
            nid, label=self._record(self._cells(v), self._fill(v), lit), shape="plain", id=nid
        )
        if not v.parents:
            return
        op_id = f"{nid}_op"
        op_attrs = {"id": op_id, "fillcolor": OP_FILL, **OP_STYLE}
        if lit:
            op_attrs.update(color=HIGHLIGHT, penwidth="2")
        self.g.node(op_id, label=f"<{dot_text(v.op or '?')}>", **op_attrs)
        self._edge(op_id, nid, f"{nid}_out", None, lit)
        for k, (p, local) in enumerate(zip(v.parents, v.local_grads)):
            self._edge(self.ids[p], op_id, f"{nid}_e{k}", local, lit and p in self.on_path, (v, k))

    def _neuron(self, neuron: Neuron) -> None:
        """One record for a neuron: its output's numbers, what it is, edges from its inputs."""
        net, out = neuron.net, neuron.out
        nid = self.ids[out]
        made = f"{out.op}({WEIGHTED_SUM_OP})" if out is not net else WEIGHTED_SUM_OP
        about = f"{made}, {neuron.params} param" + ("" if neuron.params == 1 else "s")
        lit = out in self.on_path or net in self.on_path
        bg = NEURON_FILL if self.color else NODE_FILL
        cells = [*self._cells(out), dot_text(about)]
        self.g.node(nid, label=self._record(cells, bg, lit), shape="plain", id=nid)
        # An input's edge carries ∂out/∂input: the activation's derivative times the net's.
        scale = out.local_grads[0] if out is not net else 1.0
        net_id = f"v{self.view.index[net]}"
        for k, (p, local) in enumerate(zip(net.parents, net.local_grads)):
            if p not in self.folded:
                lit_edge = lit and p in self.on_path
                self._edge(self.ids[p], nid, f"{net_id}_e{k}", scale * local, lit_edge, (net, k))

    def _cells(self, v: Value) -> list[str]:
        p = self.precision
        shown = [f"data {number(v.data, p)}", f"grad {number(v.grad, p)}"]
        return [f"<b>{dot_text(v.label)}</b>", *shown] if v.label else shown

    def _fill(self, v: Value) -> str:
        if not self.color:
            return NODE_FILL
        if v is self.view.root:
            return ROOT_FILL
        if not v.parents:
            return PARAMETER_FILL if self.params is not None and v in self.params else LEAF_FILL
        return NODE_FILL

    @staticmethod
    def _record(cells: list[str], bgcolor: str, lit: bool) -> str:
        frame = f'cellborder="2" color="{HIGHLIGHT}"' if lit else 'cellborder="1"'
        tds = "".join(f"<td>{c}</td>" for c in cells)
        return (
            f'<<table border="0" cellspacing="0" cellpadding="4" bgcolor="{bgcolor}" {frame}>'
            f"<tr>{tds}</tr></table>>"
        )

    def _edge(
        self,
        tail: str,
        head: str,
        eid: str,
        local: float | None,
        lit: bool,
        edge: tuple[Value, int] | None = None,
    ) -> None:
        attrs = {"id": eid}
        if local is not None and self.edge_labels:
            attrs["label"] = number(local, self.precision)
        if lit:
            attrs.update(color=HIGHLIGHT, penwidth="2", fontcolor=HIGHLIGHT)
        self.g.edge(tail, head, **attrs)
        if edge is not None:
            self.g.edge_ids[edge] = eid
