"""After the backward pass: the updates, the forward pass again, and the graph learning.

The article does not stop at the gradients. With them it updates every
weight at once, w5⁺ = w5 − η·∂E_total/∂w5 = 0.4 − 0.5 × 0.082167041 =
0.358916480, runs the forward pass again (E_total falls from 0.298371109 to
0.291027774), and reports where 10,000 such updates take it (3.5102e-05).
``Learning(parameters, lr, updates)`` asks the stepper for those three
things; ``LearningView`` makes them, for any graph:

- the **update** steps, one per trained parameter, each with its equation
  as the article writes it, in the order the backward pass reached them
  (the output layer's weights first, as the article works them);
- the **forward pass again** with the updated parameters: one step that
  shows every node's new value and the root's, against the old;
- the **learning view**: the training run (``updates`` steps of plain
  gradient descent, run as traced code, ``Traced.sgd``, so that 10,000
  updates take milliseconds), sampled so that the page stays small: every
  update at first, where the error falls fastest, then evenly spaced, the
  last included. At each sample every parameter and every node is
  recomputed from the parameters, for the page's scrubber.

The graph it is given is left as it was: the parameters' ``.data`` and
``.grad`` are put back after the run.

>>> from tinygrad_bp import Value
>>> w = Value(3.0, "w"); x = Value(2.0, "x")
>>> loss = (w * x - 1.0) ** 2; loss.label = "loss"; loss.backward()
>>> view = LearningView(Learning([w], lr=0.05, updates=100), loss)
>>> print(view.steps[0]["text"])
w⁺ = w − η·∂loss/∂w = 3 − 0.05 × 20 = 2.000000000
>>> print(view.steps[1]["heading"])
Forward again, with the updated parameter: loss = 9.000000000 (was 25.000000000)
>>> view.run.updates[-1], round(view.run.values[loss][-1], 12)
(100, 0.0)
>>> w.data, w.grad  # as they were
(3.0, 20.0)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..graph import topological_order
from ..tracing.tracer import TraceError, trace
from ..value import Value
from .formatting import number

__all__ = ["Learning", "LearningView", "Run", "sample_points"]

DEFAULT_LR = 0.5  # the article's learning rate
DEFAULT_UPDATES = 10_000  # the article's run
MAX_UPDATES = 1_000_000
SAMPLES = 1000  # the learning view shows the run at about this many updates at most
# The sampled values the page carries: at most about this many characters.
SERIES_BUDGET = 600_000
LISTED = 16  # a step's text lists at most this many values


@dataclass(frozen=True)
class Learning:
    """What the stepper plays after the backward pass.

    ``parameters``: the leaves gradient descent updates (the article's
    w1..w8; not the biases, which it keeps fixed). ``lr``: the learning
    rate η (0.5, as the article). ``updates``: the length of the training
    run the learning view shows (10,000, as the article; 0 for the update
    steps and the forward pass again alone).
    """

    parameters: Sequence[Value]
    lr: float = DEFAULT_LR
    updates: int = DEFAULT_UPDATES

    def __post_init__(self) -> None:
        params = tuple(dict.fromkeys(self.parameters))
        for k, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"learning: parameter {k} must be a Value, got {type(p).__name__}")
            if p.creator is not None or p.parents:
                raise ValueError(
                    f"learning: parameter {k} ({p.label or p.op!r}) is computed by an op; "
                    "only leaves are updated"
                )
        if not params:
            raise ValueError("learning: no parameters to update")
        object.__setattr__(self, "parameters", params)
        lr = self.lr
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr):
            raise ValueError(f"learning: lr must be a finite number, got {lr!r}")
        if lr <= 0:
            raise ValueError(f"learning: lr must be positive, got {lr!r}")
        object.__setattr__(self, "lr", float(lr))
        n = self.updates
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_UPDATES:
            raise ValueError(f"learning: updates must be a whole number from 0 to {MAX_UPDATES:,}")


@dataclass(frozen=True)
class Run:
    """A training run, sampled: the updates it was looked at, and every value there.

    ``values[v][k]`` is ``v``'s data after ``updates[k]`` updates, for the
    parameters and every node computed from them. ``stopped`` says why the
    run ended early ("" if it did not).
    """

    updates: tuple[int, ...]
    values: dict[Value, list[float]]
    stopped: str = ""


def sample_points(n: int, most: int = SAMPLES) -> list[int]:
    """The updates the learning view shows: every one at first, then evenly spaced.

    At most ``most`` + 1: the first tenth of them are updates 0, 1, 2, ...,
    where the error falls fastest; the rest are spread evenly to ``n``.

    >>> sample_points(5)
    [0, 1, 2, 3, 4, 5]
    >>> points = sample_points(10_000)
    >>> points[:3], points[100:103], points[-1], len(points)
    ([0, 1, 2], [100, 111, 122], 10000, 1001)
    """
    if n <= most:
        return list(range(n + 1))
    head = most // 10
    stride = (n - head) / (most - head)
    tail = (head + round(stride * k) for k in range(1, most - head + 1))
    return sorted({*range(head + 1), *tail})


def replay(
    order: Sequence[Value], given: Mapping[Value, float] | None = None
) -> dict[Value, float]:
    """Every op node of ``order`` recomputed from the leaves (``given`` overrides theirs)."""
    values: dict[Value, float] = dict(given or {})
    for node in order:
        op = node.creator
        if op is None:
            continue  # a leaf
        xs = [
            (values[a] if a in values else a.data) if isinstance(a, Value) else float(a)
            for a in node.args
        ]
        values[node] = op.run(*xs)[0]
    return values


class FirstUpdateError(ValueError):
    """The forward pass after the first update fails (``reason``): the page has no "after"."""

    def __init__(self, lr: float, reason: str) -> None:
        super().__init__(f"learning: the first update, with lr {lr!r}, fails: {reason}")
        self.lr = lr
        self.reason = reason


class LearningView:
    """The update steps, the forward pass again and the sampled run, for ``root``'s graph.

    ``names`` names the nodes in the text (the explainer's names; labels by
    default), ``shown`` maps each drawn node's id to the Value it shows,
    ``node_ids`` each Value to the drawn node it is in, ``precision`` the
    decimals. ``steps`` are the steps as the stepper's ``Step`` fields.
    """

    def __init__(
        self,
        learning: Learning,
        root: Value,
        *,
        names: Mapping[Value, str] | None = None,
        shown: Mapping[str, Value] | None = None,
        node_ids: Mapping[Value, str] | None = None,
        precision: int = 9,
    ) -> None:
        self.learning = learning
        self.root = root
        self.precision = precision
        self.order = topological_order(root)
        in_graph = set(self.order)
        for p in learning.parameters:
            if p not in in_graph:
                raise ValueError(
                    f"learning: parameter {p.label or repr(p)} is not a leaf of "
                    f"{root.label or 'the root'}'s graph"
                )
        self.names: Mapping[Value, str] = names or {
            v: v.label or (v.op if v.parents else f"leaf{k}") for k, v in enumerate(self.order)
        }
        self.shown = dict(shown) if shown is not None else {}
        self.node_ids = node_ids or {}
        self.parameters = _backward_first(root, learning.parameters)
        try:
            self.after = replay(
                self.order, {p: p.data - learning.lr * p.grad for p in self.parameters}
            )
        except (ArithmeticError, ValueError) as error:  # the forward pass after the update steps
            raise FirstUpdateError(learning.lr, str(error)) from None
        self.steps: list[dict[str, Any]] = [
            *(self._update_step(p, k) for k, p in enumerate(self.parameters, 1)),
            self._again_step(),
        ]
        self.run = self._train() if learning.updates > 0 else None
        if self.run is not None:
            self.steps.append(self._learn_step(self.run))

    # -- the steps --------------------------------------------------------------------
    def _update_step(self, p: Value, k: int) -> dict[str, Any]:
        name, root = self.names[p], self.names[self.root]
        lr, grad = self.learning.lr, p.grad
        n = self._num
        shown_grad = f"({n(grad)})" if grad < 0 else n(grad)
        text = (
            f"{name}⁺ = {name} − η·∂{root}/∂{name} = {n(p.data)} − {n(lr)} × {shown_grad}"
            f" = {number(self.after[p], self.precision)}"
        )
        return {
            "kind": "update",
            "number": k,
            "of": len(self.parameters),
            "node": self.node_ids.get(p, ""),
            "values": (p,),
            "heading": f"Update: {name}, with learning rate η = {n(lr)}",
            "text": text,
        }

    def _again_step(self) -> dict[str, Any]:
        p = self.precision
        changed = [v for v in self.order if v.creator is not None and v in self.after]
        changed = [v for v in changed if v is not self.root] + [self.root]
        listed = changed[-LISTED:]
        width = max(len(self.names[v]) for v in listed)
        lines = [
            f"{self.names[v]:<{width}} = {number(self.after[v], p)}   (was {number(v.data, p)})"
            for v in listed
        ]
        if len(changed) > LISTED:
            lines.insert(0, f"… {len(changed) - LISTED} more nodes above, each recomputed")
        what = "parameter" if len(self.parameters) == 1 else "parameters"
        root = self.names[self.root]
        heading = (
            f"Forward again, with the updated {what}: {root} = "
            f"{number(self.after[self.root], p)} (was {number(self.root.data, p)})"
        )
        return {
            "kind": "again",
            "number": 0,
            "of": 0,
            "node": self.node_ids.get(self.root, ""),
            "values": tuple(changed),
            "heading": heading,
            "text": "\n".join(lines),
        }

    def _learn_step(self, run: Run) -> dict[str, Any]:
        root = self.names[self.root]
        done = run.updates[-1]
        end = run.values[self.root][-1]
        eta = self._num(self.learning.lr)
        heading = f"Learning: {root} over {done:,} updates of gradient descent (η = {eta})"
        text = (
            f"{root} = {number(self.root.data, self.precision)} before the first update, "
            f"{number(end, self.precision)} ({end:.4e}) after {done:,}"
        )
        if run.stopped:
            text += f"\n{run.stopped}"
        return {
            "kind": "learn",
            "number": 0,
            "of": 0,
            "node": "",
            "values": (),
            "heading": heading,
            "text": text,
        }

    def _num(self, x: float) -> str:
        return number(x, self.precision, trim=True)

    # -- the run ------------------------------------------------------------------------
    def _tracked(self) -> list[Value]:
        """The Values whose data the run changes and the page shows: the parameters, the
        root and the drawn nodes computed from the parameters (every such node if no
        drawing is given)."""
        changing = set(self.parameters)
        for v in self.order:
            if v.creator is not None and any(p in changing for p in v.parents):
                changing.add(v)
        wanted = {*self.parameters, self.root, *self.shown.values()} if self.shown else changing
        return [v for v in self.order if v in changing and v in wanted]

    def _train(self) -> Run:
        learning = self.learning
        params = list(self.parameters)
        tracked = self._tracked()
        # Fewer samples for a large graph, so that the page stays small.
        per_sample = max(1, len(tracked)) * (self.precision + 8)
        most = max(20, min(SAMPLES, SERIES_BUDGET // per_sample))
        points = sample_points(learning.updates, most)
        values: dict[Value, list[float]] = {v: [] for v in tracked}
        updates: list[int] = []
        stopped = ""
        saved = [(p, p.data, p.grad) for p in params]

        def look(made: int) -> None:
            now = replay(self.order)
            updates.append(made)
            for v in tracked:
                values[v].append(now[v] if v.creator is not None else v.data)

        try:
            traced = trace(self.root)
            made = 0
            look(0)
            for target in points[1:]:
                chunk = target - made
                done = traced.sgd(params, learning.lr, chunk)
                made += done
                if done < chunk:
                    stopped = f"The run stopped after {made:,} updates: a gradient was inf or NaN."
                    if done:
                        look(made)
                    break
                look(made)
        except (ArithmeticError, ValueError, TypeError, TraceError) as error:
            stopped = f"The run stopped after {updates[-1] if updates else 0:,} updates: {error}"
        finally:
            for p, data, grad in saved:
                p.data, p.grad = data, grad
        return Run(tuple(updates), values, stopped)

    # -- the page -----------------------------------------------------------------------
    def page_data(self) -> dict[str, Any]:
        """What the page's script needs, as JSON-ready data (strings, numbers and lists).

        ``updated``: the data each update step writes into its node, in
        order; ``after``: each drawn node's data after the first update (the
        forward pass again); ``run``: the sampled run (absent for 0 updates).
        """
        p = self.precision
        after = {
            nid: f"data {number(self.after[v], p)}"
            for nid, v in self.shown.items()
            if v in self.after
        }
        data: dict[str, Any] = {
            "updated": [f"data {number(self.after[v], p)}" for v in self.parameters],
            "after": after,
        }
        run = self.run
        if run is not None:
            series: list[list[str]] = []
            index: dict[Value, int] = {}
            for v, xs in run.values.items():
                index[v] = len(series)
                series.append([number(x, p) for x in xs])
            errors = run.values.get(self.root, [self.root.data] * len(run.updates))
            data["run"] = {
                "updates": list(run.updates),
                "errors": [x if math.isfinite(x) else None for x in errors],
                "series": series,
                "nodes": [[nid, index[v]] for nid, v in self.shown.items() if v in index],
                "parameters": [[self.names[v], index[v]] for v in self.parameters],
                "root": self.names[self.root],
                "rootSeries": index.get(self.root, -1),
                "stopped": run.stopped,
            }
        return data


def _backward_first(root: Value, parameters: Iterable[Value]) -> list[Value]:
    """The parameters nearest the root first (the order backward reaches them), ties as given."""
    distance = {root: 0}
    queue = deque([root])
    while queue:
        v = queue.popleft()
        for p in v.parents:
            if p not in distance:
                distance[p] = distance[v] + 1
                queue.append(p)
    params = list(parameters)
    return sorted(params, key=lambda p: distance.get(p, len(distance)))
