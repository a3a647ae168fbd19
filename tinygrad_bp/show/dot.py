"""A graph written out as Graphviz DOT: one record per Value, an op node, an edge per parent.

``DotWriter`` writes one ``Drawing`` (a ``graphviz.Digraph`` with stable
node and edge ids) from a sorted graph; ``draw`` (drawing.py) checks the
options, finds what to highlight and fold, and calls it. The colours and
the layout settings that keep big graphs quick are here too.
"""

from __future__ import annotations

from typing import Any

import graphviz

from ..value import Value
from .formatting import dot_text, number
from .graph_view import GraphView
from .neurons import WEIGHTED_SUM_OP, Neuron, is_net
from .rendering import render_bytes

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
# the drawing is a little less tidy and ten times faster.
QUICK_LAYOUT_FROM = 150
QUICK_LAYOUT = {"mclimit": "0.1", "nslimit": "1", "nslimit1": "1"}
# An edge that spans many ranks becomes a chain of hidden nodes, one per rank
# it crosses (x in tanh(x*w1) + … + tanh(x*w99) feeds nodes 2 to 200 ranks
# away: ~10,000 of them). Routing curved edges around those took minutes
# (255 s for that sum, 396 nodes; 35 s for 59 terms); past LONG_EDGES_FROM
# hidden nodes the edges are drawn straight and the passes are cut to a
# minimum (0.8 s and 0.2 s). Past SLOW_LAYOUT_FROM nodes, edges and hidden
# nodes in all a layout takes seconds even so (250 terms: 64,000, 2.5 s; 375
# terms: 143,000, 7 s): the command line says so before it starts.
LONG_EDGES_FROM = 500
LONG_EDGES_LAYOUT = {
    "splines": "false",
    "mclimit": "0.01",
    "nslimit": "0.001",
    "nslimit1": "0.001",
    "remincross": "false",
}
SLOW_LAYOUT_FROM = 50_000


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
        # About how many nodes, edges and hidden nodes (one per rank an edge
        # crosses) dot lays out: what makes a layout slow (see SLOW_LAYOUT_FROM).
        self.layout_size = 0

    def copy(self) -> Drawing:
        new: Drawing = super().copy()
        new.node_ids = dict(self.node_ids)
        new.edge_ids = dict(self.edge_ids)
        new.layout_size = self.layout_size
        return new

    # graphviz.Digraph's _repr_mimebundle_ calls these; they would run a
    # system ``dot``. Rendering in-process needs none.
    def _repr_image_svg_xml(self) -> str:
        return render_bytes(self, "svg").decode("utf-8")

    def _repr_image_png(self) -> bytes:
        return render_bytes(self, "png")


def slow_layout(drawing: Drawing) -> bool:
    """Whether laying ``drawing`` out takes seconds, even with the settings above."""
    return drawing.layout_size >= SLOW_LAYOUT_FROM


class DotWriter:
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
        # The drawn nodes in the order written (topological) and the edges
        # between them: what the layout's cost is estimated from.
        self._drawn: list[str] = []
        self._edges: list[tuple[str, str]] = []

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
            first = next(c for c in self.view.consumers[leaf] if is_net(c))
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
        # The settings depend on the edges written, so they are set last (the
        # graph's attributes are read when its source is made).
        hidden = self._hidden_nodes()
        g.layout_size = len(self._drawn) + len(self._edges) + hidden
        g.graph_attr.update(self._layout(count, hidden))
        return g

    @staticmethod
    def _layout(count: int, hidden: int) -> dict[str, str]:
        """Graphviz settings that keep a big layout fast (see QUICK_LAYOUT_FROM)."""
        attrs = dict(QUICK_LAYOUT) if max(count, hidden) > QUICK_LAYOUT_FROM else {}
        if hidden > LONG_EDGES_FROM:
            attrs.update(LONG_EDGES_LAYOUT)
        return attrs

    def _hidden_nodes(self) -> int:
        """About how many hidden nodes dot adds, one per rank an edge crosses.

        Ranks as dot gives them, near enough: each node one past the deepest
        node it reads; then, from the root back, a node with at least as many
        edges out as in moves down to just before the nearest node it feeds
        (dot's ranking shortens edges so; a leaf always moves). Any such
        ranking is one dot may keep when its passes are cut short.
        """
        ins: dict[str, list[str]] = {n: [] for n in self._drawn}
        outs: dict[str, list[str]] = {n: [] for n in self._drawn}
        for tail, head in self._edges:
            outs[tail].append(head)
            ins[head].append(tail)
        rank: dict[str, int] = {}
        for n in self._drawn:
            rank[n] = max((rank[t] + 1 for t in ins[n]), default=0)
        for n in reversed(self._drawn):
            if outs[n] and len(outs[n]) >= len(ins[n]):
                rank[n] = min(rank[h] for h in outs[n]) - 1
        return sum(rank[head] - rank[tail] - 1 for tail, head in self._edges)

    # -- nodes ---------------------------------------------------------------
    def _value(self, v: Value) -> None:
        """A record for ``v`` and, if an op made it, the op's node with its edges."""
        nid = self.ids[v]
        lit = v in self.on_path
        self.g.node(
            nid, label=self._record(self._cells(v), self._fill(v), lit), shape="plain", id=nid
        )
        if not v.parents:
            self._drawn.append(nid)
            return
        op_id = f"{nid}_op"
        self._drawn += [op_id, nid]
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
        self._drawn.append(nid)
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
        self._edges.append((tail, head))
        if edge is not None:
            self.g.edge_ids[edge] = eid
