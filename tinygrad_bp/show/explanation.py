"""Where a gradient comes from: the chain rule written out, with numbers.

After ``root.backward()``, ``explain(root, node)`` writes ∂root/∂node the
way the article does, from the gradients backward() computed and the local
derivatives recorded on the edges::

    ∂E_total/∂w5 = ∂E_total/∂out_o1 × ∂out_o1/∂net_o1 × ∂net_o1/∂w5
                 = 0.74136507 × 0.186815602 × 0.593269992 = 0.082167041

The rule, for any graph:

- From ``node`` go up while the current node feeds exactly one other: each
  step is one factor, the local derivative on that edge (a node that feeds
  another through several edges, like ``a`` in ``a * a``, gets their sum).
- The walk stops at the root, or at a node that feeds several others. That
  node's gradient is one factor, ∂root/∂head, and gets its own line: the sum
  over its consumers C of ∂root/∂C × ∂C/∂head, every ∂root/∂C taken from
  backward(). So the work is linear in the graph's size; no path is ever
  enumerated.
- Where the root is a sum (E_total = E_o1 + E_o2), its factor 1 is folded
  into the one below it (∂E_total/∂E_o1 × ∂E_o1/∂out_o1 is written
  ∂E_total/∂out_o1), and a term of a sum that reaches the root only through
  such a summand is named after it, as the article names ∂E_o1/∂out_h1, when
  that name is exact (the summand depends on the head through that consumer
  alone). Such a term is expanded on the lines after.
- A node without a label is named by its op in brackets, e.g. ``[tanh]``;
  names that repeat get ``#1``, ``#2`` in topological order.

``derivation`` returns the same as data (a ``Derivation``, derivation.py:
lines of factors with names, values and the edges they were read from) for
pages built on top.

>>> from tinygrad_bp import Value, explain
>>> x = Value(0.5, "x"); w = Value(-2.0, "w")
>>> y = (w * x).tanh(); y.label = "y"
>>> y.backward()
>>> print(explain(y, w))
∂y/∂w = ∂y/∂[*] × ∂[*]/∂w
      = 0.419974342 × 0.5 = 0.209987171
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .. import ops
from ..graph import topological_order
from ..value import Op, Value
from .derivations import (
    Derivation,
    Edge,
    ForwardDerivation,
    Line,
    Partial,
    TangentLine,
    TangentTerm,
)
from .formatting import printable
from .graph_view import GraphView

# Ops whose edges with local derivative exactly 1 pass a gradient on unchanged.
SUM_OPS: frozenset[Op] = frozenset({ops.add, ops.sub, ops.total_op})

# The name the command line knows the text cleaner by.
plain = printable


class Explainer:
    """Derivations for many nodes of one root's graph, sharing one pass over it.

    >>> from tinygrad_bp import Value
    >>> a = Value(2.0, "a"); b = a * a; b.label = "b"; b.backward()
    >>> print(Explainer(b).derivation(a))
    ∂b/∂a = 2 + 2 = 4
      (a enters b twice: the local derivatives recorded on both edges add up)
    """

    def __init__(self, root: Value, *, view: GraphView | None = None) -> None:
        """``view``: ``root``'s graph already sorted (``GraphView(root)``), to share it."""
        if not isinstance(root, Value):
            raise TypeError(f"explain: root must be a Value, got {type(root).__name__}")
        if view is None:
            view = GraphView(root)
        elif view.root is not root:
            raise ValueError("explain: the view given is of another root's graph")
        self.root = root
        self.view = view
        self.order = view.order
        self.index = view.index
        # node -> {consumer: [k, ...]}: the edges consumer.parents[k] is node
        self.consumers = view.consumers
        self.names = self._names()
        self._to_root: dict[Value, bool] = {root: True}

    # -- names --------------------------------------------------------------
    def _names(self) -> dict[Value, str]:
        bases = [
            printable(v.label) if v.label else f"[{printable(v.op)}]" if v.op else "[leaf]"
            for v in self.order
        ]
        counts: dict[str, int] = {}
        for base in bases:
            counts[base] = counts.get(base, 0) + 1
        seen: dict[str, int] = {}
        names: dict[Value, str] = {}
        for v, base in zip(self.order, bases):
            if counts[base] > 1:
                seen[base] = seen.get(base, 0) + 1
                base = f"{base}#{seen[base]}"
            names[v] = base
        return names

    def _d(
        self, of: Value, wrt: Value, value: float, kind: str, edges: Sequence[Edge] = ()
    ) -> Partial:
        return Partial(of, wrt, f"∂{self.names[of]}/∂{self.names[wrt]}", value, kind, tuple(edges))

    # -- graph helpers --------------------------------------------------------
    def _local(self, consumer: Value, v: Value) -> Partial:
        ks = self.consumers[v][consumer]
        value = consumer.local_grads[ks[0]]
        for k in ks[1:]:
            value += consumer.local_grads[k]
        return self._d(consumer, v, value, "local", [(consumer, k) for k in ks])

    def _up(self, v: Value) -> Value | None:
        """The one node ``v`` feeds, or None at the root or where it feeds several."""
        if v is self.root:
            return None
        users = self.consumers[v]
        return next(iter(users)) if len(users) == 1 else None

    def _identity(self, p: Partial) -> bool:
        return p.of.creator in SUM_OPS and len(p.edges) == 1 and p.value == 1.0

    def _sums_to_root(self, v: Value) -> bool:
        """Whether v reaches the root through sums' edges of 1 alone, each node feeding one."""
        path: list[Value] = []
        node: Value | None = v
        while node is not None and node not in self._to_root:
            path.append(node)
            up = self._up(node)
            node = up if up is not None and self._identity(self._local(up, node)) else None
        result = node is not None and self._to_root[node]
        for n in path:
            self._to_root[n] = result
        return result

    # -- the derivation -------------------------------------------------------
    def _find(self, node: Value | str) -> Value:
        return self.view.find(node, "explain", "node", self.names[self.root])

    def derivation(self, node: Value | str) -> Derivation:
        """∂root/∂node, derived. See the module's docstring for the rule."""
        x = self._find(node)
        root = self.root
        if x not in self.index:
            return self._absent(x)
        if root.parents and root.grad != 1.0:
            raise ValueError(
                f"explain: {self.names[root]}.grad is {root.grad!r}, not 1: call "
                f"{self.names[root]}.backward() first (and not backward() of another node since), "
                f"so that every gradient is ∂{self.names[root]}/∂node"
            )
        name = f"∂{self.names[root]}/∂{self.names[x]}"
        if x is root:
            note = f"(the root itself: backward() starts from {name} = 1)"
            return Derivation(root, x, name, 1.0, (), (note,))

        chain = [x]
        while (up := self._up(chain[-1])) is not None:
            chain.append(up)
        head = chain[-1]
        factors = [self._local(chain[i + 1], chain[i]) for i in range(len(chain) - 1)]
        lines: list[Line] = []
        later: list[Line] = []
        if head is root:
            folded = 0
            while folded < len(factors) and self._identity(factors[-1 - folded]):
                folded += 1
            if folded and len(factors) - folded >= 2:
                below = factors[-1 - folded]
                edges = [e for f in factors[len(factors) - 1 - folded :] for e in f.edges]
                merged = self._d(root, below.wrt, below.value, "local", edges)
                factors = [*factors[: len(factors) - 1 - folded], merged]
        else:
            head_line, later = self._sum(head)
            if head is x:
                lines.append(head_line)
            else:
                factors.append(self._d(root, head, head_line.value, "gradient"))
                later = [head_line, *later]
        if head is not x:
            value = math.prod(f.value for f in factors)
            note = ""
            if len(factors) == 1 and len(factors[0].edges) > 1:
                note = (
                    f"{self.names[x]} enters {self.names[factors[0].of]} "
                    f"{_times(len(factors[0].edges))}: the local derivatives recorded on "
                    f"{'both' if len(factors[0].edges) == 2 else 'all'} edges add up"
                )
            elif len(factors) == 1:
                f = factors[0]
                note = (
                    f"the local derivative of {printable(f.of.op)} recorded on the edge "
                    f"from {self.names[x]} to {self.names[f.of]}"
                )
            lhs = self._d(root, x, value, "result")
            lines.append(Line(lhs, (tuple(reversed(factors)),), value, note))
        lines.extend(later)
        value = lines[0].value
        return Derivation(root, x, name, value, tuple(lines), self._check(x, value))

    def forward(self, node: Value | str) -> ForwardDerivation:
        """∂root/∂node by forward mode: one sweep of tangents from the inputs to the root.

        The seed is a tangent of 1 on ``node`` and 0 on every other leaf; each
        node computed from others then gets Σ over its edges of the local
        derivative recorded there × the parent's tangent, in topological
        order (as ``forward_mode.tangents`` adds them). A ``node`` computed
        from others is where the sweep starts: what it is computed from is
        held still. Where backward() has been run, the result carries
        ∂root/∂node as reverse mode derives it, for the two to be compared.
        """
        x = self._find(node)
        root, names = self.root, self.names
        if x not in self.index:
            absent = self._absent(x)  # 0 and why, or a ValueError naming x
            return ForwardDerivation(root, x, absent.name, 0.0, (), (), {}, 0, None, absent.notes)
        wrt = names[x]
        tangent: dict[Value, float] = {}
        seeds = [(x, wrt, 1.0)]
        lines: list[TangentLine] = []
        for v in self.order:
            if v is x or not v.parents:
                tangent[v] = 1.0 if v is x else 0.0
                if v is not x:
                    seeds.append((v, names[v], 0.0))
                continue
            terms = tuple(
                TangentTerm(
                    (v, k), f"∂{names[v]}/∂{names[p]}", d, f"d{names[p]}/d{wrt}", tangent[p]
                )
                for k, (d, p) in enumerate(zip(v.local_grads, v.parents))
            )
            tangent[v] = sum([t.local * t.tangent for t in terms], 0.0)
            lines.append(TangentLine(v, f"d{names[v]}/d{wrt}", terms, tangent[v]))
        notes: tuple[str, ...] = ()
        if x is root:
            notes = (f"(the root itself: its tangent is the seed, d{wrt}/d{wrt} = 1)",)
        elif x.parents:
            notes = (
                f"({wrt} is computed from others: the sweep starts from it, and what it is "
                f"computed from is held still)",
            )
        # Reverse mode's figure, where backward() has left the gradients it reads.
        backpropagated = not root.parents or root.grad == 1.0
        reverse = self.derivation(x).value if backpropagated else None
        return ForwardDerivation(
            root,
            x,
            f"∂{names[root]}/∂{wrt}",
            tangent[root],
            tuple(seeds),
            tuple(lines),
            tangent,
            len(self.order),
            reverse,
            notes,
        )

    def _sum(self, head: Value) -> tuple[Line, list[Line]]:
        """The line ∂root/∂head = Σ over head's consumers, and the lines expanding its terms."""
        root = self.root
        # head and the nodes computed from it (found forward, through consumers)
        reached = {head}
        todo = [head]
        while todo:
            for consumer in self.consumers[todo.pop()]:
                if consumer not in reached:
                    reached.add(consumer)
                    todo.append(consumer)
        terms: list[tuple[Partial, ...]] = []
        later: list[Line] = []
        for consumer in self.consumers[head]:
            local = self._local(consumer, head)
            summand = self._summand(consumer, reached)
            if summand is None:
                if consumer is root:
                    terms.append((local,))
                else:
                    terms.append((self._d(root, consumer, consumer.grad, "gradient"), local))
                continue
            top, path = summand
            value = consumer.grad * local.value
            term = self._d(top, head, value, "term")
            terms.append((term,))
            if consumer is top:
                continue  # the term is the local derivative itself
            outer = self._d(top, consumer, consumer.grad, "gradient")
            later.append(Line(term, ((outer, local),), value))
            if len(path) > 2:
                steps = [self._local(path[i + 1], path[i]) for i in range(len(path) - 1)]
                later.append(Line(outer, (tuple(reversed(steps)),), consumer.grad))
        value = _total([math.prod(f.value for f in t) for t in terms])
        users = [self.names[c] for c in self.consumers[head]]
        listed = " and ".join([", ".join(users[:-1]), users[-1]]) if len(users) > 1 else users[0]
        note = (
            f"{self.names[head]} feeds {listed}: its gradient is the sum of what flows back "
            f"through each"
        )
        if len(users) > 6:
            note = f"{self.names[head]} feeds {len(users)} nodes: its gradient is the sum over them"
        return Line(self._d(root, head, value, "result"), tuple(terms), value, note), later

    def _summand(self, consumer: Value, reached: set[Value]) -> tuple[Value, list[Value]] | None:
        """The summand of the root that a term through ``consumer`` can be named after.

        Going up from ``consumer`` through nodes that feed one node each, the
        first node that reaches the root through sums' edges of 1 alone is the
        summand, if every node on the way (itself included) is reached from the
        head along that way only. Returns it with the path, or None.
        """
        path = [consumer]
        node = consumer
        while True:
            # One distinct parent among the reached: a gradient comes from head one way only.
            if sum(1 for p in dict.fromkeys(node.parents) if p in reached) != 1:
                return None
            if node is not self.root and self._sums_to_root(node):
                return node, path
            up = self._up(node)
            if up is None:
                return None
            node = up
            path.append(node)

    def _check(self, x: Value, value: float) -> tuple[str, ...]:
        """A note where x.grad is not what this derivation finds."""
        if math.isclose(x.grad, value, rel_tol=1e-9, abs_tol=1e-12):
            return ()
        if math.isnan(x.grad) and math.isnan(value):
            return ()  # nan is never close to nan, yet both say the same: no number

        name = self.names[x]
        if not x.parents:
            return (
                f"(note: {name}.grad holds {x.grad!r}: a leaf's grad adds up over backward() "
                f"calls until it is zeroed; this backward pass contributes {value!r})",
            )
        return (
            f"(note: {name}.grad holds {x.grad!r}, not {value!r}: backward() was run from "
            f"another node since {self.names[self.root]}.backward())",
        )

    def _absent(self, x: Value) -> Derivation:
        """x is not in root's graph: 0 if they are connected, else a ValueError naming x."""
        root = self.root
        theirs = topological_order(x)
        rname = self.names[root]
        xname = printable(x.label) if x.label else f"[{printable(x.op)}]" if x.op else "[leaf]"
        name = f"∂{rname}/∂{xname}"
        if not x.label:
            xname = f"the {xname} Value with data {x.data!r}"
        if root in theirs:
            why = f"{rname} does not depend on {xname}: {xname} is computed from {rname}"
        else:
            shared = {v for v in theirs if v in self.index}
            # Name the shared nodes nearest x: those no other shared node is computed from.
            inner = {p for v in theirs if v in shared for p in v.parents}
            nearest = [v for v in reversed(theirs) if v in shared and v not in inner]
            if not shared:
                raise ValueError(
                    f"explain: {xname} is not in the graph of {rname}: {rname} is not computed "
                    f"from it, and the two share no node"
                )
            some = ", ".join(self.names[v] for v in nearest[:3]) + (
                ", …" if len(nearest) > 3 else ""
            )
            why = (
                f"{rname} does not depend on {xname}: both are computed from {some}, "
                f"but {xname} is not among the {len(self.order)} nodes {rname} is computed from"
            )
        return Derivation(root, x, name, 0.0, (), (f"({why})",))


def _total(values: Sequence[float]) -> float:
    """The sum of ``values``: exactly rounded, or nan / ±inf where backward()'s sum gives them.

    fsum raises on inf − inf and where a partial sum overflows; plain IEEE
    addition, as backward() adds up a gradient, gives nan or ±inf there.
    """
    try:
        return math.fsum(values)
    except (ValueError, OverflowError):
        return sum(values, 0.0)


def _times(n: int) -> str:
    return "twice" if n == 2 else f"{n} times"


def derivation(root: Value, node: Value | str) -> Derivation:
    """∂root/∂node derived as data: the lines of ``explain``, with names, values and edges.

    ``node`` is a Value or the label of exactly one node of the graph.

    >>> from tinygrad_bp import Value
    >>> a = Value(3.0, "a"); y = a * 4.0 + 1.0; y.label = "y"; y.backward()
    >>> d = derivation(y, "a")
    >>> d.value, [(f.name, f.value, f.kind) for f in d.lines[0].terms[0]]
    (4.0, [('∂y/∂[*]', 1.0, 'local'), ('∂[*]/∂a', 4.0, 'local')])
    """
    return Explainer(root).derivation(node)


def forward_derivation(root: Value, node: Value | str) -> ForwardDerivation:
    """∂root/∂node by one forward sweep of tangents, as data: the seed, each node's line.

    ``node`` is a Value or the label of exactly one node of the graph.

    >>> from tinygrad_bp import Value
    >>> x1, x2 = Value(2.0, "x1"), Value(5.0, "x2")
    >>> f = x1.log() + x1 * x2 - x2.sin(); f.label = "f"
    >>> d = forward_derivation(f, "x1")
    >>> d.value, [line.name for line in d.lines]
    (5.5, ['d[log]/dx1', 'd[*]/dx1', 'd[+]/dx1', 'd[sin]/dx1', 'df/dx1'])
    """
    return Explainer(root).forward(node)


def explain_forward(root: Value, node: Value | str, precision: int = 9) -> str:
    """∂root/∂node by forward mode, written out: each node's tangent, with numbers.

    The forward sweep over the same recorded local derivatives that
    ``explain`` reads backward. After ``root.backward()`` the last line
    gives both modes' figures.

    >>> from tinygrad_bp import Value
    >>> x = Value(3.0, "x"); y = Value(4.0, "y")
    >>> z = x * y + x; z.label = "z"; z.backward()
    >>> print(explain_forward(z, "x"))
    Forward mode for ∂z/∂x: one sweep from the inputs, each node's tangent
    d(node)/dx = Σ over its edges of ∂node/∂parent × d(parent)/dx
    seed: dx/dx = 1, and 0 on every other leaf (y)
    <BLANKLINE>
    d[*]/dx = ∂[*]/∂x × dx/dx + ∂[*]/∂y × dy/dx
            = 4 × 1 + 3 × 0 = 4
    <BLANKLINE>
    dz/dx = ∂z/∂[*] × d[*]/dx + ∂z/∂x × dx/dx
          = 1 × 4 + 1 × 1 = 5
    <BLANKLINE>
    ∂z/∂x = dz/dx = 5 by forward mode = 5 by reverse mode (backward)
    """
    return Explainer(root).forward(node).text(precision)


def explain(root: Value, node: Value | str, precision: int = 9) -> str:
    """∂root/∂node written out by the chain rule, as the article does, with numbers.

    Call ``root.backward()`` first: the numbers are the gradients it computed
    and the local derivatives recorded on the edges. A node the root does not
    depend on gets 0 and the reason; a Value that shares nothing with the
    root's graph, or a label no node has, raises ValueError naming it.

    >>> from tinygrad_bp import Value
    >>> a = Value(2.0, "a"); b = Value(5.0, "b")
    >>> c = a * b; c.label = "c"
    >>> d = c + a; d.label = "d"
    >>> d.backward()
    >>> print(explain(d, "a"))
    ∂d/∂a = ∂c/∂a + ∂d/∂a
          = 5 + 1 = 6
            (a feeds c and d: its gradient is the sum of what flows back through each)
    """
    return Explainer(root).derivation(node).text(precision)
