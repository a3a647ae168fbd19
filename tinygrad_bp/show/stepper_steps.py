"""The stepper's steps as data: the start, a forward step per drawn node in
topological order, a backward step per drawn node as it becomes ready; and,
asked for, between them the forward-mode sweep: the seed, then a tangent
step per drawn node in topological order.

``StepWriter`` reads a graph that is already sorted (a ``GraphView``), drawn
(its ``Drawing``, for the node and edge ids) and explained (its
``Explainer``), and writes each ``Step``: the Values it fills in, the
equation shown, the edges to light. ``Stepper`` (stepper.py) puts them on
the page.

>>> from tinygrad_bp import Value
>>> from tinygrad_bp.show import Stepper
>>> x = Value(2.0, "x"); y = x.exp(); y.label = "y"; y.backward()
>>> [step.counter for step in Stepper(y).steps]
['start', 'forward 1/1', 'backward 1/2', 'backward 2/2']
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..value import Value
from .derivations import Derivation, ForwardDerivation, Line
from .dot import Drawing
from .equations import forward_equation, op_name
from .explanation import Explainer
from .formatting import number
from .graph_view import GraphView
from .neurons import find_neurons

START_LEAVES_LISTED = 16  # the start step lists at most this many leaves


@dataclass(frozen=True, eq=False)
class Step:
    """One step of the page.

    ``kind`` is "start", "forward", "seed", "tangent" or "backward" (the
    seed and tangent steps are forward mode's sweep); ``number`` counts steps
    of that kind from 1 (0 for the start) out of ``of``. ``node`` is the id
    of the drawn node (also its SVG element's id; "" for the start),
    ``values`` the Values whose data (forward) or gradients (backward) the
    step fills in, ``text`` the equation(s) shown. ``edges`` are the ids of
    the edges that carried the values in (forward) or the gradient back
    (backward); ``path`` the further edges the equation's factors are read
    from; ``sources`` the drawn nodes the step reads from.
    """

    kind: str
    number: int
    of: int
    node: str
    values: tuple[Value, ...]
    heading: str
    text: str
    edges: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def counter(self) -> str:
        """What the page shows, e.g. "backward 8/23" ("start" for the start)."""
        if self.kind in COUNTERS:  # the start, the forward pass again, the learning view
            return COUNTERS[self.kind]
        return f"{self.kind} {self.number}/{self.of}"


# The steps shown without a number (learning.py makes "again" and "learn").
COUNTERS = {
    "start": "start",
    "seed": "forward mode: seed",
    "again": "forward again",
    "learn": "learning",
}


class StepWriter:
    """The steps of one graph's page, and which Values each drawn node shows (``groups``)."""

    def __init__(
        self,
        view: GraphView,
        drawing: Drawing,
        explainer: Explainer,
        *,
        precision: int,
        collapse_neurons: bool,
        svg_ids: set[str],
        forward_mode: ForwardDerivation | None = None,
    ) -> None:
        """``forward_mode``: a forward sweep of this graph, to play between the passes."""
        self.root = view.root
        self.view = view
        self.drawing = drawing
        self.explainer = explainer
        self.names = explainer.names
        self.precision = precision
        self.collapse_neurons = collapse_neurons
        self.svg_ids = svg_ids  # the ids the rendered SVG has (an op's output edge may not)
        self.forward_mode = forward_mode
        self.groups = self._group_values()

    # -- which Values each drawn node shows ------------------------------------
    def _group_values(self) -> dict[str, Group]:
        """Drawn node id -> the Values it shows: the main one, a folded net, folded leaves."""
        order, index, ids = self.view.order, self.view.index, self.drawing.node_ids
        neurons = find_neurons(self.view)[0] if self.collapse_neurons else {}
        groups: dict[str, Group] = {}
        for v in order:
            nid = ids[v]
            if nid == f"v{index[v]}":  # draw names a node after the Value it shows
                groups[nid] = Group(nid, v, v in neurons)
        for v in order:
            group = groups[ids[v]]
            if v is group.main:
                continue
            if v.parents:
                group.net = v  # a collapsed neuron: its net input, shown with its output
            else:
                group.folded.append(v)
        return groups

    # -- the steps ----------------------------------------------------------------
    def steps(self) -> list[Step]:
        order = self.view.order
        groups = self.groups
        by_main = {g.main: g for g in groups.values()}
        forward = [by_main[v] for v in order if v in by_main and v.parents]
        backward = [by_main[v] for v in backward_order(self.view) if v in by_main]
        steps = [self._start_step()]
        for k, group in enumerate(forward, 1):
            steps.append(self._forward_step(group, k, len(forward)))
        if self.forward_mode is not None:
            # Forward mode over the values just computed, before backward reads them again.
            steps.append(self._seed_step(self.forward_mode))
            for k, group in enumerate(forward, 1):
                steps.append(self._tangent_step(self.forward_mode, group, k, len(forward)))
        # A folded leaf (a weight inside collapsed neurons) is derived with the
        # last of its consumers to be done: only then is its gradient complete.
        place = {g.id: k for k, g in enumerate(backward)}
        attached: dict[str, list[Value]] = {}
        for group in groups.values():
            for leaf in group.folded:
                users = {self.drawing.node_ids[c] for c in self.view.consumers[leaf]}
                last = max(users, key=place.__getitem__)
                attached.setdefault(last, []).append(leaf)
        for k, group in enumerate(backward, 1):
            extra = attached.get(group.id, [])
            steps.append(self._backward_step(group, extra, k, len(backward)))
        return steps

    def _start_step(self) -> Step:
        names, order = self.names, self.view.order
        # The leaves in the order the forward pass first uses them (w1, w2, i1, i2, b1, ...).
        used = (p for v in order for p in v.parents if not p.parents)
        alone = (v for v in order if not v.parents)  # a root that is a leaf
        leaves = list(dict.fromkeys([*used, *alone]))
        lines = [f"{names[v]} = {self._num(v.data)}" for v in leaves[:START_LEAVES_LISTED]]
        if len(leaves) > START_LEAVES_LISTED:
            lines.append(f"… and {len(leaves) - START_LEAVES_LISTED} more")
        heading = (
            "The inputs and parameters are given"
            if len(leaves) > 1
            else "The input is given"
            if leaves
            else "Nothing is given"
        )
        return Step("start", 0, 0, "", tuple(leaves), heading, "\n".join(lines))

    def _incoming(self, group: Group, made: Sequence[Value]) -> tuple[list[str], list[str]]:
        """The edges into the Values ``made`` (and the op's own edge), and the nodes they
        come from: what a forward step, value or tangent, reads."""
        edges: list[str] = []
        sources: list[str] = []
        for v in made:
            for i, parent in enumerate(v.parents):
                eid = self.drawing.edge_ids.get((v, i))
                if eid is not None:
                    edges.append(eid)
                    sources.append(self.drawing.node_ids[parent])
        edges.extend(self._present(f"{group.id}_out"))
        return edges, sources

    def _forward_step(self, group: Group, k: int, of: int) -> Step:
        made = [group.net, group.main] if group.net is not None else [group.main]
        text = "\n".join(self._forward_text(v) for v in made)
        edges, sources = self._incoming(group, made)
        names = self.names
        heading = f"Forward: {names[group.main]}" + (
            f" = {op_name(group.main)}({names[group.net]})" if group.net is not None else ""
        )
        return Step(
            "forward",
            k,
            of,
            group.id,
            tuple(made),
            heading,
            text,
            edges=tuple(dict.fromkeys(edges)),
            sources=tuple(s for s in dict.fromkeys(sources) if s != group.id),
        )

    def _seed_step(self, sweep: ForwardDerivation) -> Step:
        """Forward mode's start: a tangent of 1 on the input, 0 on every other leaf."""
        x = self.names[sweep.wrt]
        node = self.drawing.node_ids[sweep.wrt]
        heading = f"Forward mode for {sweep.name}: the seed, a tangent of 1 on {x}"
        return Step("seed", 0, 0, node, (sweep.wrt,), heading, sweep.start_text(self.precision))

    def _tangent_step(self, sweep: ForwardDerivation, group: Group, k: int, of: int) -> Step:
        """One drawn node's tangent: Σ local derivative × its parent's tangent."""
        made = [group.net, group.main] if group.net is not None else [group.main]
        lines = {line.node: line for line in sweep.lines}
        x = self.names[sweep.wrt]
        texts = [
            lines[v].text(self.precision) if v in lines else f"d{x}/d{x} = 1 (the seed)"
            for v in made
        ]
        if group.main is self.root:  # the sweep's end: its figure, and reverse mode's
            texts.append(sweep.both_modes(self.precision))
        edges, sources = self._incoming(group, made)
        shown = [lines[v].name if v in lines else f"d{x}/d{x}" for v in made]
        return Step(
            "tangent",
            k,
            of,
            group.id,
            tuple(made),
            "Forward mode: " + ", ".join(shown),
            "\n\n".join(texts),
            edges=tuple(dict.fromkeys(edges)),
            sources=tuple(s for s in dict.fromkeys(sources) if s != group.id),
        )

    def _backward_step(self, group: Group, extra: Sequence[Value], k: int, of: int) -> Step:
        derived = [group.main, *([group.net] if group.net is not None else []), *extra]
        derivations = [self.explainer.derivation(v) for v in derived]
        names = self.names
        drawn = self.drawing.node_ids
        edges: list[str] = []
        sources: list[str] = []
        # The edges from this node to the nodes it feeds: its gradient came back along them.
        for consumer, ks in self.view.consumers[group.main].items():
            if drawn[consumer] == group.id:
                continue
            for i in ks:
                eid = self.drawing.edge_ids.get((consumer, i))
                if eid is not None:
                    edges.append(eid)
                    edges.extend(self._present(f"{drawn[consumer]}_out"))
            sources.append(drawn[consumer])
        # The further edges whose local derivatives are factors of the equations.
        path: list[str] = []
        for d in derivations:
            for line in d.lines:
                for factor in (f for term in line.terms for f in term):
                    for edge in factor.edges:
                        eid = self.drawing.edge_ids.get(edge)
                        if eid is not None:
                            path.append(eid)
                            path.extend(self._present(f"{drawn[edge[0]]}_out"))
        edges = list(dict.fromkeys(edges))
        heading = "Backward: " + ", ".join(f"∂{names[self.root]}/∂{names[v]}" for v in derived)
        return Step(
            "backward",
            k,
            of,
            group.id,
            tuple(derived),
            heading,
            "\n\n".join(self._texts(derivations)),
            edges=tuple(edges),
            path=tuple(e for e in dict.fromkeys(path) if e not in edges),
            sources=tuple(dict.fromkeys(sources)),
        )

    def _texts(self, derivations: Sequence[Derivation]) -> list[str]:
        """Each derivation as ``explain`` writes it; in a step of several (a collapsed
        neuron), a line already written above is not written again."""
        if len(derivations) == 1:
            return [derivations[0].text(self.precision)]
        shown: set[str] = set()
        texts = []
        for d in derivations:
            later = (line for line in d.lines[1:] if self._line(d, line) not in shown)
            lines = d.lines[:1] + tuple(later)
            shown.update(self._line(d, line) for line in d.lines)
            texts.append(replace(d, lines=lines).text(self.precision))
        return texts

    def _line(self, d: Derivation, line: Line) -> str:
        return replace(d, lines=(line,), notes=()).text(self.precision)

    def _present(self, element_id: str) -> list[str]:
        return [element_id] if element_id in self.svg_ids else []

    def _num(self, x: float) -> str:
        return number(x, self.precision, trim=True)

    def _forward_text(self, v: Value) -> str:
        return forward_equation(v, self.names, self._num)


class Group:
    """The Values one drawn node shows."""

    __slots__ = ("folded", "id", "main", "net", "neuron")

    def __init__(self, nid: str, main: Value, neuron: bool) -> None:
        self.id = nid
        self.neuron = neuron  # drawn as a collapsed neuron
        self.main = main  # the Value whose data and grad the node shows
        self.net: Value | None = None  # a collapsed neuron's net input
        self.folded: list[Value] = []  # leaves folded into a collapsed neuron


def backward_order(view: GraphView) -> list[Value]:
    """Every node once, each after all the nodes it feeds, in the order they became ready.

    Kahn's algorithm from the root with a first-in first-out queue: a node
    is ready when every consumer's gradient is done. For a layered network
    that walks layer by layer from the output, as the article does.
    """
    # consumers (edges) still to be done
    waiting = {v: sum(map(len, users.values())) for v, users in view.consumers.items()}
    ready = deque([view.root])
    out: list[Value] = []
    while ready:
        v = ready.popleft()
        out.append(v)
        for p in v.parents:
            waiting[p] -= 1
            if waiting[p] == 0:
                ready.append(p)
    return out
