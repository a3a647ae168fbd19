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

from collections.abc import Iterable, Sequence
from typing import Any

import graphviz

from .engine import Value
from .graph import topological_order
from .render import render_bytes
from .text import dot_text, number

DEFAULT_MAX_NODES = 300
DIRECTIONS = ("LR", "TB", "RL", "BT")

# The op name ``weighted_sum`` gives its node, and the activations whose node
# over a Σwx+b node makes a neuron in the collapsed view.
WEIGHTED_SUM_OP = "Σwx+b"
ACTIVATION_OPS = frozenset({"sigmoid", "tanh", "relu"})

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


def _describe(v: Value) -> str:
    return repr(v.label) if v.label else repr(v)


class _Neuron:
    """A Σwx+b node, the activation over it (if any) and its folded parameters."""

    __slots__ = ("net", "out", "params")

    def __init__(self, net: Value, out: Value) -> None:
        self.net = net
        self.out = out
        self.params = 0  # how many of net's edges come from folded parameters


def _consumers(order: Sequence[Value]) -> dict[Value, list[Value]]:
    """Each node's distinct consumers, in topological order."""
    consumers: dict[Value, list[Value]] = {v: [] for v in order}
    for node in order:
        for parent in dict.fromkeys(node.parents):
            consumers[parent].append(node)
    return consumers


def _parameter_positions(net: Value) -> range | set[int]:
    """The edges of a Σwx+b node that come from weights and the bias.

    ``weighted_sum(w, x, b)`` records edges w..., x..., b for the Values among
    its arguments. With every argument a Value (2n+1 edges), the edge from wᵢ
    carries xᵢ and the edge from xᵢ carries wᵢ, which tells the two halves
    apart; otherwise the inputs were plain numbers and every edge is a weight
    or the bias.
    """
    p, parents, local = len(net.parents), net.parents, net.local_grads
    if p >= 3 and p % 2 == 1:
        n = (p - 1) // 2
        if local[-1] == 1.0 and all(
            local[i] == parents[n + i].data and local[n + i] == parents[i].data for i in range(n)
        ):
            return set(range(n)) | {p - 1}
    return range(p)


def _neurons(
    order: Sequence[Value],
    consumers: dict[Value, list[Value]],
    parameters: set[Value] | None,
) -> tuple[dict[Value, _Neuron], set[Value]]:
    """Find neurons by the graph's shape: which node shows each, and the folded leaves.

    A neuron is a Σwx+b node (its net input) with, when its one consumer is
    an activation of it alone, that activation (its output). A leaf is folded
    into the neurons when every consumer of it is a neuron's net and it enters
    each as a weight or bias (or, given ``parameters``, when it is one of them).
    """
    shown: dict[Value, _Neuron] = {}
    for node in order:
        if node.op != WEIGHTED_SUM_OP:
            continue
        out = node
        users = consumers[node]
        if len(users) == 1 and users[0].op in ACTIVATION_OPS and users[0].parents == (node,):
            out = users[0]
        neuron = _Neuron(node, out)
        shown[node] = shown[out] = neuron
    folded: set[Value] = set()
    nets = {n.net for n in shown.values()}
    positions: dict[Value, range | set[int]] = {}  # each net's, worked out once
    for node in order:
        if node.parents or not consumers[node]:
            continue
        if not all(c in nets for c in consumers[node]):
            continue
        if parameters is not None:
            ok = node in parameters
        else:
            ok = True
            for c in consumers[node]:
                if c not in positions:
                    positions[c] = _parameter_positions(c)
                ok = ok and all(k in positions[c] for k, p in enumerate(c.parents) if p is node)
        if ok:
            folded.add(node)
    for neuron in dict.fromkeys(shown.values()):
        neuron.params = sum(1 for p in neuron.net.parents if p in folded)
    return shown, folded


def _path_from(node: Value, order: Sequence[Value]) -> set[Value]:
    """``node`` and every node computed from it: all lie on a path from it to the root."""
    on_path = {node}
    for v in order:
        if any(p in on_path for p in v.parents):
            on_path.add(v)
    return on_path


def draw(
    root: Value,
    *,
    direction: str = "LR",
    precision: int = 4,
    edge_labels: bool = False,
    highlight: Value | None = None,
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
    - ``highlight``: a Value of the graph; it, every node on a path from it
      to ``root`` and the edges between them are drawn in red. That is the
      path its gradient flows back along.
    - ``parameters``: Values to colour as parameters (e.g.
      ``model.parameters()``); other leaves (inputs, constants) get their
      own colour. ``color=False`` draws everything white.
    - ``collapse_neurons``: draw each neuron (a Σwx+b node, with the
      activation over it) as one node showing its output's data and grad,
      with its weights and bias folded in.
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
    if direction not in DIRECTIONS:
        raise ValueError(
            f"draw: direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}"
        )
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 17:
        raise ValueError(f"draw: precision must be a whole number from 0 to 17, got {precision!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be a positive whole number, got {max_nodes!r}")

    order = topological_order(root)
    index = {v: i for i, v in enumerate(order)}
    if highlight is not None and highlight not in index:
        raise ValueError(
            f"draw: highlight {_describe(highlight)} is not in the graph of {_describe(root)}"
        )
    params = set(parameters) if parameters is not None else None
    consumers = _consumers(order)
    shown, folded = _neurons(order, consumers, params)

    def collapsed_count() -> int:
        return sum(1 for v in order if v not in folded and (v not in shown or shown[v].out is v))

    count = collapsed_count() if collapse_neurons else len(order)
    if count > max_nodes:
        if collapse_neurons or not shown:
            advice = f"raise the limit: draw(root, max_nodes={count})"
        else:
            advice = (
                f"raise the limit: draw(root, max_nodes={count}), or draw each neuron as one "
                f"node: draw(root, collapse_neurons=True) ({collapsed_count()} nodes)"
            )
        raise ValueError(
            f"draw: the graph has {count} nodes, more than max_nodes={max_nodes}; to draw it, "
            + advice
        )

    on_path = _path_from(highlight, order) if highlight is not None else set()

    g = Drawing(
        name="tinygrad_bp",
        # Collapsed layers are joined by many edges: more room between ranks.
        graph_attr={
            "rankdir": direction,
            "nodesep": "0.25",
            "ranksep": "1.2" if collapse_neurons else "0.4",
        },
        node_attr={"fontname": "Helvetica,Arial,sans-serif", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica,Arial,sans-serif", "fontsize": "9"},
    )

    def vid(v: Value) -> str:
        return f"v{index[v]}"

    def fill(v: Value) -> str:
        if not color:
            return NODE_FILL
        if v is root:
            return ROOT_FILL
        if not v.parents:
            return PARAMETER_FILL if params is not None and v in params else LEAF_FILL
        return NODE_FILL

    def record(cells: list[str], bgcolor: str, lit: bool) -> str:
        frame = f'cellborder="2" color="{HIGHLIGHT}"' if lit else 'cellborder="1"'
        tds = "".join(f"<td>{c}</td>" for c in cells)
        return (
            f'<<table border="0" cellspacing="0" cellpadding="4" bgcolor="{bgcolor}" {frame}>'
            f"<tr>{tds}</tr></table>>"
        )

    def values(v: Value) -> list[str]:
        return [f"data {number(v.data, precision)}", f"grad {number(v.grad, precision)}"]

    def edge(tail: str, head: str, eid: str, local: float | None, lit: bool) -> None:
        attrs = {"id": eid}
        if local is not None and edge_labels:
            attrs["label"] = number(local, precision)
        if lit:
            attrs.update(color=HIGHLIGHT, penwidth="2", fontcolor=HIGHLIGHT)
        g.edge(tail, head, **attrs)

    for v in order:
        if collapse_neurons and v in folded:
            continue
        neuron = shown.get(v) if collapse_neurons else None
        if neuron is not None:
            if neuron.out is not v:
                continue  # the net of a neuron: drawn with its output
            net, out = neuron.net, neuron.out
            nid = vid(out)
            g.node_ids[net] = g.node_ids[out] = nid
            act = f"{out.op}({WEIGHTED_SUM_OP})" if out is not net else WEIGHTED_SUM_OP
            about = f"{act}, {neuron.params} param" + ("" if neuron.params == 1 else "s")
            lit = out in on_path or net in on_path
            cells = ([f"<b>{dot_text(out.label)}</b>"] if out.label else []) + values(out)
            bg = NEURON_FILL if color else NODE_FILL
            g.node(nid, label=record([*cells, dot_text(about)], bg, lit), shape="plain", id=nid)
            scale = out.local_grads[0] if out is not net else 1.0
            for k, (p, local) in enumerate(zip(net.parents, net.local_grads)):
                if p in folded:
                    continue
                eid = f"{vid(net)}_e{k}"
                g.edge_ids[(net, k)] = eid
                edge(g.node_ids[p], nid, eid, scale * local, p in on_path and lit)
            continue
        nid = vid(v)
        g.node_ids[v] = nid
        lit = v in on_path
        cells = ([f"<b>{dot_text(v.label)}</b>"] if v.label else []) + values(v)
        g.node(nid, label=record(cells, fill(v), lit), shape="plain", id=nid)
        if not v.parents:
            continue
        op_id = f"{nid}_op"
        op_attrs = {"id": op_id, "fillcolor": OP_FILL, **OP_STYLE}
        if lit:
            op_attrs.update(color=HIGHLIGHT, penwidth="2")
        g.node(op_id, label=f"<{dot_text(v.op or '?')}>", **op_attrs)
        edge(op_id, nid, f"{nid}_out", None, lit)
        for k, (p, local) in enumerate(zip(v.parents, v.local_grads)):
            eid = f"{nid}_e{k}"
            g.edge_ids[(v, k)] = eid
            edge(g.node_ids[p], op_id, eid, local, lit and p in on_path)
    for leaf in folded if collapse_neurons else ():
        g.node_ids[leaf] = g.node_ids[consumers[leaf][0]]
    return g
