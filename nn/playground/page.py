"""The playground's page: live (served by ``tinygrad-bp play``) or recorded (one file).

One HTML file (``playground.html``, beside this module) draws what a
``Session`` computed: the network with every neuron's picture, links by
the weights' sign and size, the decision boundary with the points, the
losses and their curve. Live, it asks the server for each step. Recorded,
the run's frames are inside the page (``record``), with a scrubber and
Play; it loads nothing and needs no server. ``playground`` shows a
recorded page inline in Jupyter.

>>> from nn.playground import Settings
>>> page = record(Settings(points=40), steps=20, frames=3)
>>> page.startswith("<!doctype html>"), 'src="http' in page, 'href="http' in page
(True, False, False)
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections import Counter
from importlib import resources
from typing import Any

from tinygrad_bp.extend import walk

from .session import Session, json_ready
from .settings import (
    ACTIVATIONS,
    DATASET_NAMES,
    FEATURE_LABELS,
    OPTIMIZERS,
    REGULARIZATIONS,
    Settings,
)

MARK = "/*RECORDING*/null"  # where a recorded page's frames go
DIGITS = 6  # a recorded number's significant digits: the page's size, not its meaning
TOP_TERMS = 3  # the largest terms of a weight's chain rule a recorded page keeps
RECORDED_GRID = 20  # a recorded picture's points a side (live: 32): most of a page's size
MAX_STEPS = 100_000  # a recorded run's updates at most
# A weight's chain rule is read from the graph of a whole minibatch, built by the engine:
# one edge a parameter and a point, about 3 µs and 300 bytes an edge on a two-core Xeon
# (measured). At most this many, so that a click or a frame costs seconds, not the memory
# of the machine (8 layers of 32 over 4,500 points would be 34 million).
MAX_CHAIN_GRAPH = 1_000_000


def chain_graph_size(parameters: int, points: int) -> int:
    """The edges from parameters in a minibatch's graph: one a parameter and a point."""
    return parameters * points


def check_chain_graph(parameters: int, points: int) -> None:
    """A ValueError naming the sizes if a minibatch's graph would pass ``MAX_CHAIN_GRAPH``.

    >>> check_chain_graph(337, 90)
    >>> check_chain_graph(7_521, 4_500)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ... 4,500 points × 7,521 parameters is 33,844,500 edges, ... at most 132 points ...
    """
    size = chain_graph_size(parameters, points)
    if size > MAX_CHAIN_GRAPH:
        raise ValueError(
            f"a weight's chain rule reads the graph of the minibatch: {points:,} points × "
            f"{parameters:,} parameters is {size:,} edges, more than {MAX_CHAIN_GRAPH:,}; a batch "
            f"of at most {MAX_CHAIN_GRAPH // parameters:,} points (or a smaller network) keeps "
            "it within"
        )


def parameter_count(settings: Settings) -> int:
    """The network's weights and biases, from its settings (inputs, hidden layers, one output).

    >>> parameter_count(Settings().changed({"layers": "16,16"}))
    337
    """
    sizes = [len(settings.features), *settings.layers, 1]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


CHOICES_MARK = "/*CHOICES*/null"  # where the settings' choices go


def script_json(data: Any) -> str:
    """``data`` as JSON to stand inside a <script>: no "<" at all (written \u003c), so no
    "</script" or "<!--" can end the script early or change how it is read."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")


def template() -> str:
    """The page's HTML, as shipped in the package, with the settings' choices in it: the
    page's selects and boxes offer what ``Settings`` accepts, from that one list."""
    page = resources.files(__package__).joinpath("playground.html").read_text(encoding="utf-8")
    choices = {
        "dataset": list(DATASET_NAMES),
        "activation": list(ACTIVATIONS),
        "optimizer": list(OPTIMIZERS),
        "regularization": list(REGULARIZATIONS),
        "features": [[name, label] for name, label in FEATURE_LABELS.items()],
    }
    assert CHOICES_MARK in page
    return page.replace(CHOICES_MARK, script_json(choices), 1)


def live_page() -> str:
    """The page that drives a server's run (the token comes in its URL)."""
    return template()


def chain_rules(session: Session, names: dict[str, int]) -> list[list[Any]]:
    """Per parameter (in ``session.parameters``' order), the chain rule of its last gradient.

    Read from the graph of the last update's minibatch, built and walked
    backward by the engine: the parameter's consumers C, each with ∂L/∂C (its
    grad) and ∂C/∂p (the local derivative on the edge). Kept: the gradient,
    how many consumers, and the largest terms as [consumer's name, ∂L/∂C, ∂C/∂p], the
    name as its place in ``names`` (added there when new: a page keeps each name once).
    """
    loss = session.gradient_graph()
    index = {p: k for k, p in enumerate(session.parameters)}
    terms: list[list[list[Any]]] = [[] for _ in session.parameters]
    order = walk(loss)  # parents first: a name that repeats is numbered in this order, as
    counts = Counter(n.label or f"[{n.op}]" for n in order if n.creator is not None)
    seen: Counter[str] = Counter()  # explain numbers it (net_h1_1#3)
    for node in order:
        if node.creator is None:
            continue
        name = node.label or f"[{node.op}]"
        seen[name] += 1
        if counts[name] > 1:
            name = f"{name}#{seen[name]}"
        for parent, local in zip(node.parents, node.local_grads):
            if parent in index:
                place = names.setdefault(name, len(names))
                terms[index[parent]].append([place, node.grad, local])
    out = []
    for k, ts in enumerate(terms):
        ts.sort(key=lambda t: -abs(t[1] * t[2]))
        top = [
            [place, json_ready(dL, 4), json_ready(local, 4)] for place, dL, local in ts[:TOP_TERMS]
        ]
        out.append([json_ready(session.graph_gradients[k], DIGITS), len(ts), top])
    return out


def record(settings: Settings, steps: int = 1_000, frames: int = 50) -> str:
    """A self-contained page of a run of ``steps`` updates, ``frames`` snapshots along it.

    Each frame holds what the live page shows at that step (pictures,
    weights, gradients, losses) and, per weight, its chain rule at that
    step in short (``chain_rules``). Numbers are kept to 6 digits.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(
            f"record: steps must be a whole number from 0 to {MAX_STEPS:,}, got {steps!r}"
        )
    if isinstance(frames, bool) or not isinstance(frames, int) or not 2 <= frames <= 500:
        raise ValueError(f"record: frames must be a whole number from 2 to 500, got {frames!r}")
    # Each frame keeps every weight's chain rule: the whole minibatch's graph, built per frame.
    check_chain_graph(parameter_count(settings), min(settings.batch_size, settings.train_test()))
    session = Session(settings)
    marks = sorted({round(steps * k / (frames - 1)) for k in range(frames)})
    recorded: list[Any] = []
    names: dict[str, int] = {}
    for mark in marks:
        if mark > session.steps:
            session.step(mark - session.steps)
        snap = session.snapshot(with_points=not recorded, grid_size=RECORDED_GRID)
        snap["chain"] = chain_rules(session, names)
        snap.pop("curve")
        recorded.append(json_ready(snap, DIGITS))
    data = {
        "frames": recorded,
        "curve": json_ready(session.curve, DIGITS),
        "names": [p.label for p in session.parameters],
        "nodes": list(names),
        "code": session.code(),
        "title": f"{settings.dataset}, {steps:,} steps",
    }
    page = template()
    assert MARK in page
    return with_policy(page.replace(MARK, script_json(data), 1))


def with_policy(page: str) -> str:
    """The page with a Content-Security-Policy that lets only its own script run (named by
    its hash, as the stepper's page does) and loads nothing: a recorded page is opened from
    a file or a mail, where no server sends the live page's policy."""
    start = page.index("<script>") + len("<script>")
    script = page[start : page.index("</script>", start)]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    policy = (
        f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
        "img-src data:"
    )
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return page.replace('<meta charset="utf-8">', f'<meta charset="utf-8">\n{meta}', 1)


class Playground:
    """A recorded page for Jupyter: shown inline (``_repr_html_``), or written with ``save(path)``.

    The page sits in an iframe of its own (``srcdoc``), so its script and
    styles cannot touch the notebook's.
    """

    def __init__(self, page: str, height: int = 900) -> None:
        self.page, self.height = page, height

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.page, quote=True)}" '
            f'style="width:100%;height:{self.height}px;border:0" '
            'title="tinygrad_bp playground (recorded)" sandbox="allow-scripts"></iframe>'
        )

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.page)


def playground(
    settings: Settings | None = None, steps: int = 300, frames: int = 40, **changes: Any
) -> Playground:
    """Record a run and show it inline in Jupyter: the playground's views, a scrubber, Play.

    ``changes`` are settings by name (``dataset="circles", layers="4,4"``).

    >>> view = playground(points=40, steps=10, frames=2)
    >>> "<iframe" in view._repr_html_()
    True
    """
    settings = (settings or Settings()).changed(changes)
    return Playground(record(settings, steps, frames))
