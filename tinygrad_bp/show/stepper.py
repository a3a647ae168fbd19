"""The backprop stepper: one self-contained web page that plays a graph's passes node by node.

``Stepper(root)`` draws ``root``'s graph (``draw``, rendered to SVG by the
Graphviz that pygraphviz bundles) and writes one HTML file around it with the
steps as data and a few lines of script to play them. No network, no CDN: the
file opens from disk in any modern browser.

- The leaves (inputs and parameters) are given: their values show from the
  start. Each **forward** step then fills in one node's value, in
  topological order, with the equation that computed it.
- Each **backward** step fills in one node's gradient, root first. A node
  comes as soon as every node it feeds is done, in the order they became
  ready: for a network that is layer by layer from the output, as the
  article works it (E_total, E_o1, E_o2, out_o1, ..., w5, w6, ...), and it
  is a reverse topological order, so every gradient a step uses is already
  on the page. The panel shows the chain rule for that gradient, the same
  text ``explain`` gives.
- Asked for (``forward_mode=x``), forward mode plays between the two
  passes over the same drawing: a **seed** step (a tangent of 1 on x, 0 on
  every other leaf), then a **tangent** step per node in topological order,
  each node's tangent = Σ local derivative × its parent's tangent, as
  ``explain_forward`` writes it; the page states what each mode costs for
  every input's gradient, counted by ``count_sweeps``.
- The current node is outlined; a forward step marks the edges that carried
  its inputs in, a backward step the edges its gradient came back along
  (and, dashed, the rest of the path the equation's factors are read from).
- Next, previous, play/pause, start and end are buttons and keys (Right,
  Left, Space, Home, End). The page says where it is: "backward 8/23".

With ``collapse_neurons=True`` each neuron is one node and one step: its
forward step computes its net input and output, its backward step derives
∂root/∂out, ∂root/∂net and its folded weights and bias.

Labels never become markup: the graph's text is escaped by ``draw``, and
the page (``stepper_page.py``) checks the SVG, escapes the JSON and the title, and
lets only its own script run.

The graph is sorted once (a ``GraphView``) and shared by the drawing, the
explanations and the steps.

>>> from tinygrad_bp import Value
>>> from tinygrad_bp.show import Stepper
>>> x = Value(2.0, "x"); y = (x * x).tanh(); y.label = "y"
>>> y.backward()
>>> s = Stepper(y, precision=4)
>>> [f"{step.kind} {step.number}/{step.of}" for step in s.steps]
['start 0/0', 'forward 1/2', 'forward 2/2', 'backward 1/3', 'backward 2/3', 'backward 3/3']
>>> print(s.steps[-1].text)
∂y/∂x = ∂y/∂[*] × ∂[*]/∂x
      = 0.0013 × 4 = 0.0054
>>> s.html.startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..forward_mode import Sweeps, count_sweeps
from ..value import Value
from .derivations import ForwardDerivation
from .dot import Drawing
from .drawing import DEFAULT_MAX_NODES, draw_view
from .explanation import Explainer
from .formatting import number, printable
from .graph_view import GraphView
from .learning import Learning, LearningView
from .rendering import render_bytes
from .stepper_page import SVG_NS, TITLE_LIMIT, page, parse_svg, script_json
from .stepper_steps import Step, StepWriter

__all__ = ["SVG_NS", "Step", "Stepper", "save_stepper", "script_json", "stepper_html"]

DEFAULT_PRECISION = 9  # the article prints nine decimals
DEFAULT_SECONDS_PER_STEP = 1.0


class Stepper:
    """The stepper page for ``root``'s graph: ``html``, ``save(path)``, and inline in Jupyter.

    Call ``root.backward()`` first: the page plays the values and gradients
    the graph holds. Options as ``draw``: ``parameters`` (coloured apart
    from other leaves), ``collapse_neurons``, ``direction``, ``precision``
    (decimals in the graph and the equations; 9 by default, as the article),
    ``edge_labels`` (local derivatives on the edges, on by default),
    ``max_nodes``; plus ``title`` (cleaned as labels are) and
    ``seconds_per_step`` for play. ``forward_mode`` (a node of the graph or
    its label) adds forward mode's sweep for ∂root/∂that node, and
    ``forward_mode_inputs`` the inputs the page counts both modes' sweeps
    for (by default the parameters given, else every leaf). ``steps`` holds the steps as data,
    ``drawing`` the drawing (with its ``node_ids`` and ``edge_ids``),
    ``html`` the page.

    >>> from tinygrad_bp import Value
    >>> a = Value(3.0, "a"); b = a * a; b.label = "b"; b.backward()
    >>> s = Stepper(b)
    >>> [step.counter for step in s.steps]
    ['start', 'forward 1/1', 'backward 1/2', 'backward 2/2']
    >>> print(s.steps[-1].text)
    ∂b/∂a = 3 + 3 = 6
      (a enters b twice: the local derivatives recorded on both edges add up)
    """

    def __init__(
        self,
        root: Value,
        *,
        parameters: Iterable[Value] | None = None,
        collapse_neurons: bool = False,
        direction: str = "LR",
        precision: int = DEFAULT_PRECISION,
        edge_labels: bool = True,
        max_nodes: int = DEFAULT_MAX_NODES,
        title: str | None = None,
        seconds_per_step: float = DEFAULT_SECONDS_PER_STEP,
        learning: Learning | None = None,
        forward_mode: Value | str | None = None,
        forward_mode_inputs: Iterable[Value] | None = None,
    ) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"stepper: root must be a Value, got {type(root).__name__}")
        if root.parents and root.grad != 1.0:
            name = printable(root.label) or "root"
            raise ValueError(
                f"stepper: {name}.grad is {root.grad!r}, not 1: call {name}.backward() first "
                f"(and no other node's backward() since), so that the page can play the "
                f"gradients of {name}"
            )
        if (
            isinstance(seconds_per_step, bool)
            or not isinstance(seconds_per_step, (int, float))
            or not 0.05 <= seconds_per_step <= 60
        ):
            raise ValueError(
                f"stepper: seconds_per_step must be a number from 0.05 to 60, "
                f"got {seconds_per_step!r}"
            )
        if title is not None and not isinstance(title, str):
            raise TypeError(f"stepper: title must be a str, got {type(title).__name__}")
        self.root = root
        self.precision = precision
        self.collapse_neurons = collapse_neurons
        self.seconds_per_step = float(seconds_per_step)
        # The graph is sorted once; the drawing, the explanations and the steps share it.
        self.view = GraphView(root)
        # draw checks direction, precision and max_nodes and says what was wrong.
        self.drawing: Drawing = draw_view(
            self.view,
            direction=direction,
            precision=precision,
            edge_labels=edge_labels,
            parameters=parameters,
            collapse_neurons=collapse_neurons,
            max_nodes=max_nodes,
            caller="Stepper",
        )
        self.explainer = Explainer(root, view=self.view)
        self.names = self.explainer.names
        self.title = printable(
            title or f"Backpropagation step by step: {self.names[root]}", TITLE_LIMIT
        )
        self._svg_root = parse_svg(render_bytes(self.drawing, "svg"))
        # -- forward mode's sweep, and what each mode costs (forward_mode.py counts it)
        self.forward_mode: ForwardDerivation | None = None
        self.sweeps: Sweeps | None = None
        if forward_mode is not None:
            self.forward_mode, self.sweeps = self._forward_mode(
                forward_mode, forward_mode_inputs, parameters
            )
        elif forward_mode_inputs is not None:
            raise ValueError("stepper: forward_mode_inputs is for forward_mode; give forward_mode")
        writer = StepWriter(
            self.view,
            self.drawing,
            self.explainer,
            precision=precision,
            collapse_neurons=collapse_neurons,
            svg_ids={i for el in self._svg_root.iter() if (i := el.get("id"))},
            forward_mode=self.forward_mode,
        )
        self._groups = writer.groups
        self.steps: list[Step] = writer.steps()
        # -- after the backward steps: updates, forward again, the learning view (learning.py)
        self.learning: LearningView | None = None
        if learning is not None:
            self.learning = LearningView(
                learning,
                root,
                names=self.explainer.names,
                shown={g.id: g.main for g in self._groups.values()},
                node_ids=self.drawing.node_ids,
                precision=precision,
            )
            self.steps += [Step(**fields) for fields in self.learning.steps]
        # -- end of the learning additions
        self._mark_cells()
        self.html: str = page(self.title, self._svg_root, self.page_data())

    def _forward_mode(
        self,
        wrt: Value | str,
        inputs: Iterable[Value] | None,
        parameters: Iterable[Value] | None,
    ) -> tuple[ForwardDerivation, Sweeps]:
        """The sweep for ∂root/∂wrt, and both modes' cost over ``inputs``."""
        x = self.view.find(wrt, "stepper", "forward_mode", self.names[self.root])
        if x not in self.view.index:
            raise ValueError(
                f"stepper: forward_mode is not a node of the graph of {self.names[self.root]}; "
                "expected one of its nodes or the label of one"
            )
        sweep = self.explainer.forward(x)
        if inputs is None:
            inputs = parameters
        leaves = [v for v in self.view.order if not v.parents]
        chosen = list(inputs) if inputs is not None else leaves
        strangers = [v for v in chosen if v not in self.view.index]
        if not chosen or strangers:
            raise ValueError(
                "stepper: forward_mode_inputs must be nodes of the graph, at least one"
            )
        return sweep, count_sweeps(self.root, chosen)

    # -- the SVG -----------------------------------------------------------------
    def _mark_cells(self) -> None:
        """Class the text cells that show data and grad, checking each says what draw wrote."""
        elements = {el.get("id"): el for el in self._svg_root.iter(f"{{{SVG_NS}}}g")}
        p = self.precision
        for group in self._groups.values():
            g = elements.get(group.id)
            if g is None:
                raise RuntimeError(f"stepper: the rendered SVG has no node with id {group.id!r}")
            texts = [t for t in g.iter(f"{{{SVG_NS}}}text")]
            # Cells end with data, grad (and, for a neuron, what it is made of).
            back = 3 if group.neuron else 2
            expected = (f"data {number(group.main.data, p)}", f"grad {number(group.main.grad, p)}")
            found = tuple("".join(t.itertext()) for t in texts[-back : len(texts) - back + 2])
            if len(texts) < back or found != expected:
                raise RuntimeError(
                    f"stepper: node {group.id} of the rendered SVG shows {found!r}, "
                    f"expected {expected!r}"
                )
            texts[-back].set("class", "tg-data")
            texts[-back + 1].set("class", "tg-grad")

    # -- the page ------------------------------------------------------------------
    def page_data(self) -> dict[str, Any]:
        """What the page's script plays, as JSON-ready data (strings and whole numbers)."""
        p = self.precision
        forward_at: dict[str, int] = {}
        backward_at: dict[str, int] = {}
        swept_at: dict[str, int] = {}  # forward mode: the step a node's tangent is known from
        seed_at = 0
        for i, step in enumerate(self.steps):
            if step.kind == "forward":
                forward_at[step.node] = i
            elif step.kind == "backward":
                backward_at[step.node] = i
            elif step.kind == "tangent":
                swept_at[step.node] = i
            elif step.kind == "seed":
                seed_at = i
        nodes = [
            {
                "id": group.id,
                "name": self.names[group.main],
                "data": f"data {number(group.main.data, p)}",
                "grad": f"grad {number(group.main.grad, p)}",
                "known": forward_at.get(group.id, 0),
                "derived": backward_at[group.id],
            }
            for group in self._groups.values()
        ]
        if self.forward_mode is not None:
            # Each node's tangent, shown in its grad cell while forward mode plays.
            tangents = self.forward_mode.tangents
            for node, group in zip(nodes, self._groups.values()):
                node["tangent"] = f"tangent {number(tangents[group.main], p)}"
                node["swept"] = swept_at.get(group.id, seed_at)  # a leaf's is the seed
        steps = [
            {
                "kind": s.kind,
                "counter": s.counter,
                "node": s.node,
                "heading": s.heading,
                "text": s.text,
                "edges": list(s.edges),
                "path": list(s.path),
                "sources": list(s.sources),
            }
            for s in self.steps
        ]
        data: dict[str, Any] = {
            "title": self.title,
            "nodes": nodes,
            "steps": steps,
            "msPerStep": round(self.seconds_per_step * 1000),
        }
        if self.sweeps is not None:
            data["sweeps"] = str(self.sweeps)
        if self.learning is not None:  # the update steps and the learning view (learning.py)
            data["learning"] = self.learning.page_data()
        return data

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path.

        The page is encoded before the file is opened: a failure leaves no file.
        """
        data = self.html.encode("utf-8")
        target = Path(path)
        target.write_bytes(data)
        return target

    def _repr_html_(self) -> str:
        """Jupyter: the page in an iframe of its own (its script, keys and styles stay inside)."""
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'sandbox="allow-scripts" style="width: 100%; '
            f'height: {640 if self.learning is None else 800}px; border: 1px solid #ccc;" '
            f'title="{html.escape(self.title, quote=True)}"></iframe>'
        )


def stepper_html(root: Value, **options: Any) -> str:
    """The stepper page for ``root``'s graph as one HTML string (options as ``Stepper``).

    >>> from tinygrad_bp import Value
    >>> x = Value(0.5, "x"); y = x.exp(); y.backward()
    >>> page = stepper_html(y)
    >>> "<script" in page and "http://" not in page.replace(SVG_NS, "")
    True
    """
    return Stepper(root, **options).html


def save_stepper(root: Value, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the stepper page for ``root``'s graph to ``path``; return the path.

    Everything is built and encoded before the file is opened, so a failure
    leaves no file.

    >>> import tempfile, pathlib
    >>> from tinygrad_bp import Value
    >>> x = Value(0.5, "x"); y = x * 3.0; y.backward()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_stepper(y, pathlib.Path(tmp) / "y.html")
    ...     out.read_text(encoding="utf-8").count("backward")  > 0
    True
    """
    return Stepper(root, **options).save(path)
