"""One example's traced graph, run over the whole batch at once: NumPy arrays, one row an example.

The per-example trace repeats every statement for every example. Here each
statement runs once over the batch: a node that depends on the example is
an array with a number per example, a node of the parameters alone stays a
number, computed once. The graph of one example already says more:

- the weighted sums that read the same inputs (a layer's nets) are ONE
  matrix product, ``net = x @ W.T + b``, with W and b gathered from the
  leaves; backward, ``∂W = g_net.T @ x``, ``∂b`` the column sums of
  ``g_net``, and ``∂x = g_net @ W``;
- the same op applied to each of a layer's nets (the activations) is one
  operation on the layer's matrix, from the op's template rewritten for
  arrays (``arrays.py``);
- any other node is a column: its template over arrays, or, for an op
  with no template (or none this can rewrite), its rule called per example.

The numbers are the per-example trace's to about 1e-15 relative: the same
IEEE operations, but sums in another order (a matrix product, the batch's
total), and NumPy's exp, log and tanh, which may differ from the math
module's in the last bit. Where anything comes out inf or NaN (a rule
would raise there: ``log(0)``, an overflow) the batch runs again through
the per-example code, which raises the engine's error, or gives the same
inf or NaN; nothing is written to the leaves before that.

>>> from tinygrad_bp import Value, weighted_sum, trace
>>> w, b = [Value(0.5, "w1"), Value(-1.0, "w2")], Value(0.25, "b")
>>> t = trace(lambda x, y: (weighted_sum(w, x, b) - y) ** 2, [1.0, 2.0], 0.0)
>>> t.batched([([1.0, 2.0], 0.0), ([3.0, 1.0], 1.0)]), w[0].grad
(1.625, -4.0)
"""

from __future__ import annotations

import functools
import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..expressions import Template
from ..ops import weighted_sum_op
from ..sums import net_parts
from ..value import Operand, Value
from .arrays import (
    ARRAY_FUNCTIONS,
    ARRAY_NAMES,
    NoArrayFormError,
    array_code,
    columns,
    each_rule,
    matrix,
)
from .codegen import (
    RESERVED,
    Backward,
    TraceError,
    Writer,
    called_rules,
    identifier,
    name_graph,
    times,
)
from .compiled import batch_and_seed, compile_function

if TYPE_CHECKING:  # type hints only: tracer.py imports this module when asked
    from .tracer import Traced

# The batched code's own names, beside the per-example code's.
BATCH_RESERVED = (
    *RESERVED,
    *("values", "data", "grad", "B", "columns", "each_rule", "matrix", "float", "len"),
    *ARRAY_NAMES,
)


@dataclass(eq=False)
class Group:
    """Nodes computed together as the columns of one matrix (B rows, one column a node)."""

    name: str
    nodes: list[Value]
    kind: str  # "input" (an argument's list), "product" (weighted sums), "elementwise"
    # A product's shared inputs, and the names of its weight matrix, of the matrix of its
    # inputs, and of the leaves' places in W and b (None: the biases are numbers).
    x: tuple[Operand, ...] = ()
    W: str = ""
    X: str = ""
    W_index: str = ""
    b_index: str | None = None


class _Plan:
    """Where each node of the traced graph lives in the batched code.

    A node is a number (``scalar``: it does not depend on the example), a
    column of an array (one value per example), or a column of a group's
    matrix (``lane``: the group and the column).
    """

    def __init__(self, t: Traced) -> None:
        self.t = t
        self.lane: dict[Value, tuple[Group, int]] = {}
        self.inputs: list[Group | Value] = []
        for k, item in enumerate(t.example or ()):
            if isinstance(item, Value):
                self.inputs.append(item)
            else:
                group = Group(f"input{k}", list(item), "input")
                self.inputs.append(group)
                for i, v in enumerate(item):
                    self.lane[v] = (group, i)
        batched = set(t.inputs)
        for n in t.order:
            if any(isinstance(a, Value) and a in batched for a in n.args):
                batched.add(n)
        self.batched = batched
        self.leaf_index = {leaf: k for k, leaf in enumerate(t.leaves)}
        self.groups: list[Group] = []
        self._products()
        self._elementwise()

    def is_leaf(self, a: Operand) -> bool:
        return isinstance(a, Value) and a in self.leaf_index

    def _products(self) -> None:
        """Weighted sums of leaf weights that read the same inputs: one matrix product."""
        by_inputs: dict[tuple[Any, ...], Group] = {}
        for n in self.t.order:
            if n.creator is not weighted_sum_op or n not in self.batched:
                continue
            w, x, b = net_parts(n)
            if not w or not all(map(self.is_leaf, w)):
                continue
            if not (self.is_leaf(b) or not isinstance(b, Value)):
                continue
            key = (
                tuple(("v", id(a)) if isinstance(a, Value) else ("c", repr(a)) for a in x),
                isinstance(b, Value),
            )
            group = by_inputs.get(key)
            if group is None:
                group = by_inputs[key] = Group("", [], "product", x)
                self.groups.append(group)
            self.lane[n] = (group, len(group.nodes))
            group.nodes.append(n)

    def _elementwise(self) -> None:
        """The same op on the same columns of the same groups: one operation on a matrix.

        Found again until none is incomplete: a candidate that does not cover
        every column of its source once becomes columns, and so may its readers.
        """
        columns_only: set[Value] = set()
        fixed = dict(self.lane)
        while True:
            lane = dict(fixed)
            found: dict[tuple[Any, ...], Group] = {}
            for n in self.t.order:
                if n in lane or n not in self.batched or n in columns_only:
                    continue
                if n.creator is weighted_sum_op or not _array_template(n):
                    continue
                signature: list[Any] = []
                index = size = None
                for a in n.args:
                    if isinstance(a, Value) and a in lane:
                        group, i = lane[a]
                        if index not in (None, i) or size not in (None, len(group.nodes)):
                            break
                        index, size = i, len(group.nodes)
                        signature.append(("lane", id(group)))
                    elif isinstance(a, Value):
                        signature.append(("node", id(a)))
                    else:
                        signature.append(("number", repr(a)))
                else:
                    if index is None or size is None or size < 2:
                        continue
                    key = (id(n.creator), tuple(signature))
                    found_group = found.get(key)
                    if found_group is None:
                        found_group = Group("", [None] * size, "elementwise")  # type: ignore[list-item]
                        found[key] = found_group
                    if found_group.nodes[index] is not None:  # two nodes for one column
                        columns_only.add(n)
                        continue
                    found_group.nodes[index] = n
                    lane[n] = (found_group, index)
            incomplete = [g for g in found.values() if any(n is None for n in g.nodes)]
            if not incomplete:
                self.lane = lane
                self.groups += found.values()
                return
            for g in incomplete:
                columns_only.update(n for n in g.nodes if n is not None)


def _template(n: Value) -> Template:
    """The template of ``n``'s op (one that ``_array_template`` accepted)."""
    assert n.creator is not None and n.creator.template is not None
    return n.creator.template


def _array_template(n: Value) -> bool:
    """Whether ``n``'s op has a template that can be written over arrays."""
    template = n.creator.template if n.creator is not None else None
    return template is not None and _has_array_form(template, len(n.args))


@functools.lru_cache(maxsize=1024)
def _has_array_form(template: Template, arity: int) -> bool:
    """Whether every expression of ``template`` (for ``arity`` arguments) has an array form:
    the same answer for every node of an op, so asked once per op and arity."""
    names = [f"a{k}" for k in range(arity)]
    try:
        array_code(template.value_code(names, "out"))
        for d in template.local_code(names, "out"):
            array_code(d)
        for k in range(arity):
            written = template.grad_code(k, names, "out", "g")
            if written is not None:
                array_code(written)
    except (NoArrayFormError, IndexError, KeyError, ValueError):
        return False
    return True


# An expression that may be another array, or a view of one: never a gradient's own array.
_VIEW = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?")


def _span(names: Sequence[str]) -> str:
    """Names for a comment: all of a few, the first and the last of many."""
    return ", ".join(names) if len(names) <= 4 else f"{names[0]} … {names[-1]}"


def _base(names: Sequence[str]) -> str:
    """A group's name from its columns': net_h1_1, net_h1_2 -> net_h1; relu1, relu2 -> relu."""
    if not names:
        return "m"
    bases = {re.sub(r"_?\d+$", "", name) or name for name in names}
    return bases.pop() if len(bases) == 1 else re.sub(r"_?\d+$", "", names[0]) or names[0]


class BatchWriter:
    """The batched pass's source: forward over the batch, then the chain rule over it."""

    def __init__(self, t: Traced) -> None:
        self.t = t
        self.plan = plan = _Plan(t)
        self.w = w = Writer(BATCH_RESERVED)
        name_graph(w, t.inputs, t.leaves, t.order)
        for group in [*[g for g in plan.inputs if isinstance(g, Group)], *plan.groups]:
            names = [w.name_of[n] for n in group.nodes]
            if group.kind == "product" and len(names) == 1:  # one net: the matrix is its own
                w.names.used.discard(names[0])
                group.name = w.reserve(names[0])
            else:
                group.name = w.reserve(identifier(_base(names), "m"))
        # What needs a gradient: every node on a path to a leaf.
        needs: set[Value] = set(t.leaves)
        for n in t.order:
            if any(isinstance(a, Value) and a in needs for a in n.args):
                needs.add(n)
        self.needs = needs
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}  # index arrays, by name, for the namespace
        self.scalar_leaves: set[Value] = set()  # leaves read by name (not only gathered)
        self.column_grads: set[str] = set()
        self.group_grads: set[str] = set()
        self.back = Backward(w, needs, set())
        self.back_lines: list[str] = []

    # -- how an operand is written, in the code of a column or of a group
    def ref(self, a: Operand, in_group: bool) -> str:
        if not isinstance(a, Value):
            return self.w.code(a)
        if a in self.plan.lane:
            group, i = self.plan.lane[a]
            return group.name if in_group else f"{group.name}[:, {i}]"
        if a in self.plan.leaf_index:
            self.scalar_leaves.add(a)
        name = self.w.name_of[a]
        return f"{name}[:, None]" if in_group and a in self.plan.batched else name

    def constant(self, base: str, value: Any) -> str:
        name = self.w.reserve(base)
        self.constants[name] = value
        return name

    # -- the units of the forward pass, in an order where each follows what it reads
    def units(self) -> list[Any]:
        plan = self.plan
        unit_of: dict[Value, Any] = {}
        for group in plan.groups:
            for n in group.nodes:
                unit_of[n] = group
        order: list[Any] = []
        seen: set[int] = set()
        position: dict[int, int] = {}
        for k, n in enumerate(self.t.order):
            unit = unit_of.get(n, n)
            position.setdefault(id(unit), k)
            if id(unit) not in seen:
                seen.add(id(unit))
                order.append(unit)
        # Kahn's order, the earliest first: a group goes after every node any column reads.
        readers: dict[int, list[Any]] = {}
        waiting: dict[int, int] = {}
        for unit in order:
            members = unit.nodes if isinstance(unit, Group) else [unit]
            deps = {
                id(unit_of.get(a, a))
                for n in members
                for a in n.args
                if isinstance(a, Value) and a.creator is not None
            } - {id(unit)}
            waiting[id(unit)] = len(deps)
            for d in deps:
                readers.setdefault(d, []).append(unit)
        ready = [(position[id(u)], id(u), u) for u in order if not waiting[id(u)]]
        heapq.heapify(ready)
        result: list[Any] = []
        while ready:
            _, _, unit = heapq.heappop(ready)
            result.append(unit)
            for r in readers.get(id(unit), ()):
                waiting[id(r)] -= 1
                if not waiting[id(r)]:
                    heapq.heappush(ready, (position[id(r)], id(r), r))
        if len(result) != len(order):  # pragma: no cover - groups keep the graph acyclic
            raise TraceError("the batched plan has a cycle")
        return result

    # -- forward
    def forward(self, unit: Any) -> None:
        w, lines = self.w, self.lines
        if isinstance(unit, Group):
            if unit.kind == "product":
                self.forward_product(unit)
                return
            first = unit.nodes[0]
            template = _template(first)
            args = [self.ref(a, True) for a in first.args]
            lines.append(
                f"# {first.op} of each column: {_span([w.name_of[n] for n in unit.nodes])}"
            )
            lines.append(f"{unit.name} = {array_code(template.value_code(args, unit.name))}")
            return
        n: Value = unit
        step = w.steps[n]
        if n not in self.plan.batched:
            for a in n.args:
                if isinstance(a, Value) and a in self.plan.leaf_index:
                    self.scalar_leaves.add(a)
            lines.append(w.forward(step, self.needs))
            return
        args = [self.ref(a, False) for a in n.args]
        if _array_template(n):
            template = _template(n)
            lines.append(f"{step.name} = {array_code(template.value_code(args, step.name))}")
            return
        rule = w.rule_name(step.op)
        d = w.reserve(f"d_{step.name}")
        step.locals = [f"{d}[{k}]" for k in range(len(n.args))]
        lines.append(f"# {n.op} has no array form: its rule runs per example")
        lines.append(f"{step.name}, {d} = each_rule({rule}, B, {', '.join(args)})")

    def forward_product(self, group: Group) -> None:
        plan, w = self.plan, self.w
        parts = [net_parts(n) for n in group.nodes]
        rows = [[plan.leaf_index[v] for v in p[0]] for p in parts]  # type: ignore[index]
        W = w.reserve(f"W_{group.name}")
        index = self.constant(f"{W}_index", np.array(rows, dtype=np.intp))
        group.W, group.W_index = W, index
        x = group.x
        source = self.whole_group(x)
        if source is None:
            source = w.reserve(f"x_{group.name}")
            cols = ", ".join(self.ref(a, False) for a in x)
            self.lines.append(f"{source} = matrix(B, {cols})")
        group.X = source
        biases = [p[2] for p in parts]
        count = len(group.nodes)
        sums = "a weighted sum" if count == 1 else f"{count} weighted sums of the same inputs"
        self.lines.append(f"# {_span([w.name_of[n] for n in group.nodes])}: {sums}")
        self.lines.append(f"{W} = data[{index}]")
        if isinstance(biases[0], Value):
            places = [plan.leaf_index[b] for b in biases if isinstance(b, Value)]
            b_index = self.constant(f"b_{group.name}_index", np.array(places))
            group.b_index = b_index
            bias = f"data[{b_index}]"
        else:
            group.b_index = None
            bias = self.constant(f"b_{group.name}", np.array(biases, dtype=float))
        self.lines.append(f"{group.name} = {source} @ {W}.T + {bias}")

    def whole_group(self, x: Sequence[Operand]) -> str | None:
        """The name of the matrix whose columns are exactly ``x``, in order, if there is one."""
        if not x or not all(isinstance(a, Value) and a in self.plan.lane for a in x):
            return None
        group, first = self.plan.lane[x[0]]  # type: ignore[index]
        if first != 0 or len(group.nodes) != len(x):
            return None
        if all(self.plan.lane[a] == (group, i) for i, a in enumerate(x)):  # type: ignore[index]
            return group.name
        return None

    # -- backward
    def grad_name(self, target: Any) -> str:
        return f"g_{target.name}" if isinstance(target, Group) else self.w.grad(target)

    def add(self, target: Value, expression: str, shape: str) -> None:
        """Add ``expression`` (over a column ``"col"`` or a group ``"group"``) to ∂/∂target."""
        plan, out = self.plan, self.back_lines
        if target not in self.needs:
            return
        if target in plan.lane:
            group, i = plan.lane[target]
            g = self.group_grad(group)
            summed = f"({expression}).sum(axis=1)" if shape == "group" else expression
            out.append(f"{g}[:, {i}] += {summed}")
        elif target in plan.batched:
            g = self.w.grad(target)
            summed = f"({expression}).sum(axis=1)" if shape == "group" else expression
            if g in self.column_grads:
                out.append(f"{g} = {g} + {summed}")
            else:
                out.append(f"{g} = {summed}")
                self.column_grads.add(g)
        else:  # a number: the examples' contributions summed
            self.back.lines = out
            self.back.add(target, f"float(({expression}).sum())")

    def group_grad(self, group: Group) -> str:
        g = f"g_{group.name}"
        if g not in self.group_grads:
            # A group's gradient starts at 0 and is only ever added to in place; it
            # is never another's array, so no other gradient changes with it.
            self.back_lines.append(f"{g} = zeros((B, {len(group.nodes)}))")
            self.group_grads.add(g)
        return g

    def add_whole(self, group: Group, expression: str) -> None:
        """Add ``expression``, a matrix the shape of ``group``'s, to the group's gradient."""
        g = f"g_{group.name}"
        if g not in self.group_grads and not _VIEW.fullmatch(expression):
            # A new array (an operation's result), the first added: it is the gradient.
            self.back_lines.append(f"{g} = {expression}")
            self.group_grads.add(g)
        else:
            self.back_lines.append(f"{self.group_grad(group)} += {expression}")

    def has_grad(self, unit: Any) -> bool:
        if isinstance(unit, Group):
            return f"g_{unit.name}" in self.group_grads
        g = self.w.grad(unit)
        return g in self.column_grads or g in self.back.defined

    def backward(self, unit: Any) -> None:
        if not self.has_grad(unit):
            return
        if isinstance(unit, Group):
            if unit.kind == "product":
                self.backward_product(unit)
            else:
                self.backward_elementwise(unit)
            return
        n: Value = unit
        if n not in self.plan.batched:
            self.backward_number(n)
            return
        step = self.w.steps[n]
        g = self.w.grad(n)
        args = [self.ref(a, False) for a in n.args]
        template = _template(n) if _array_template(n) else None
        local = template.local_code(args, step.name) if template is not None else step.locals
        for k, a in enumerate(n.args):
            if isinstance(a, Value) and a in self.needs:
                written = template.grad_code(k, args, step.name, g) if template else None
                expression = written if written is not None else times(local[k], g)
                self.add(a, array_code(expression), "col")

    def backward_number(self, n: Value) -> None:
        """A node of the parameters alone: the per-example code's chain rule, on numbers.

        A rule's derivatives that come as one tuple (many edges), all to
        leaves, go to ``grad`` in one statement instead of one per leaf.
        """
        step = self.w.steps[n]
        edges = [a for a in n.args if isinstance(a, Value) and a in self.needs]
        tuple_of_locals = step.template is None and len(step.locals) > 4
        if tuple_of_locals and all(a in self.plan.leaf_index for a in edges):
            d = step.locals[0].partition("[")[0]
            places = [self.plan.leaf_index[a] if isinstance(a, Value) else -1 for a in n.args]
            wanted = [k for k, a in enumerate(n.args) if isinstance(a, Value) and a in self.needs]
            index = self.constant(f"{d}_leaves", np.array([places[k] for k in wanted]))
            picked = d if len(wanted) == len(n.args) else f"[{d}[k] for k in {wanted}]"
            self.back_lines.append(self.scatter(index, f"array({picked}) * {self.w.grad(n)}"))
            return
        self.back.lines = self.back_lines
        self.back.node(step)

    def backward_elementwise(self, group: Group) -> None:
        first = group.nodes[0]
        template = _template(first)
        g = f"g_{group.name}"
        args = [self.ref(a, True) for a in first.args]
        local = template.local_code(args, group.name)
        for k, a in enumerate(first.args):
            if not isinstance(a, Value):
                continue
            written = template.grad_code(k, args, group.name, g)
            expression = array_code(written if written is not None else times(local[k], g))
            if a in self.plan.lane:  # the same column of the group it reads: the whole matrix
                source, _ = self.plan.lane[a]
                if any(n.args[k] in self.needs for n in group.nodes):
                    self.add_whole(source, expression)
            else:
                self.add(a, expression, "group")

    def backward_product(self, group: Group) -> None:
        out = self.back_lines
        g = f"g_{group.name}"
        W, X = group.W, group.X
        out.append(f"# {group.name}: ∂W = ∂net.T @ x, ∂b = Σ ∂net over the batch, ∂x = ∂net @ W")
        out.append(self.scatter(group.W_index, f"{g}.T @ {X}"))
        if group.b_index is not None:
            out.append(self.scatter(group.b_index, f"{g}.sum(axis=0)"))
        if not any(isinstance(a, Value) and a in self.needs for a in group.x):
            return
        whole = self.whole_group(group.x)
        if whole is not None:
            source, _ = self.plan.lane[group.x[0]]  # type: ignore[index]
            self.add_whole(source, f"{g} @ {W}")
            return
        gx = self.w.reserve(f"g_x_{group.name}")
        out.append(f"{gx} = {g} @ {W}")
        for j, a in enumerate(group.x):
            if isinstance(a, Value):
                self.add(a, f"{gx}[:, {j}]", "col")

    def scatter(self, index: str, expression: str) -> str:
        """grad[index] += expression, where a leaf may stand at more than one place."""
        idx = self.constants[index]
        if len(np.unique(idx)) == idx.size:
            return f"grad[{index}] += {expression}"
        return f"add_at(grad, {index}, {expression})"

    # -- the function
    def source(self) -> tuple[str, dict[str, Any]]:
        t, w, plan = self.t, self.w, self.plan
        units = self.units()
        for unit in units:
            self.forward(unit)
        forward = self.lines
        root = t.root
        terms = self.value_column(root)
        outputs = [self.value_column(r) for r in t.roots[1:]]
        pen = self.ref(t.penalty, False) if t.penalty is not None else "0.0"
        # The seeds: each example's term weighs seed; the penalty once.
        if root in self.needs and root in plan.batched:
            self.add(root, "full(B, seed)", "col")
        elif root in self.needs:  # the same number for every example
            self.back.lines = self.back_lines
            self.back.add(root, "seed * B")
        if t.penalty is not None and t.penalty in self.needs:
            self.back.lines = self.back_lines
            self.back.add(t.penalty, "1.0")
        for unit in reversed(units):
            self.backward(unit)
        leaves_by_name = [
            (plan.leaf_index[leaf], w.grad(leaf))
            for leaf in t.leaves
            if w.grad(leaf) in self.back.defined
        ]
        lines = [*called_rules(w), "# The leaves' values now, one array of them"]
        lines.append("values = [leaf.data for leaf in leaves]")
        lines.append("data = array(values)")
        read = [leaf for leaf in t.leaves if leaf in self.scalar_leaves]
        if len(read) == len(t.leaves) and read:
            lines.append(f"{', '.join(w.name_of[leaf] for leaf in read)}, = values")
        elif read:
            names = ", ".join(w.name_of[leaf] for leaf in read)
            places = ", ".join(f"values[{plan.leaf_index[leaf]}]" for leaf in read)
            lines.append(f"{names}, = {places},")
        shape = [len(g.nodes) if isinstance(g, Group) else None for g in plan.inputs]
        targets = [g.name if isinstance(g, Group) else w.name_of[g] for g in plan.inputs]
        shape_name = self.constant("shape", shape)
        lines.append("# The examples, one row each")
        lines.append(f"{', '.join(targets)}, = columns(examples, {shape_name})")
        lines.append("B = len(examples)")
        lines.append("# The forward pass over the batch, parents first")
        lines += forward
        lines.append(f"# The backward pass: g_x is ∂{w.name_of[root]}/∂x, summed over the batch")
        lines.append("grad = zeros(len(leaves))")
        lines += self.back_lines
        if leaves_by_name:
            places = self.constant("read", np.array([k for k, _ in leaves_by_name]))
            grads = ", ".join(g for _, g in leaves_by_name)
            lines.append("# The gradients of the leaves read by name")
            lines.append(f"grad[{places}] += array([{grads}])")
        out = f"[{', '.join(outputs)}]"
        lines.append(f"return {terms}, {pen}, {out}, grad")
        name = w.reserve(identifier(t.fn_name or w.name_of[root], "root") + "_batch")
        source = "\n".join([f"def {name}(leaves, examples, seed):", *("    " + x for x in lines)])
        namespace = {**ARRAY_FUNCTIONS, **ARRAY_NAMES, **self.constants}
        namespace.update(columns=columns, each_rule=each_rule, matrix=matrix)
        namespace.update(w.rules)
        return source + "\n", {"name": name, "namespace": namespace}

    def value_column(self, node: Value) -> str:
        if node in self.plan.lane:
            group, i = self.plan.lane[node]
            return f"{group.name}[:, {i}]"
        name = self.ref(node, False)  # a leaf read by name is loaded
        return name if node in self.plan.batched else f"full(B, {name})"


class Batched:
    """A trace of a function, run over a batch of examples at once (see the module docstring).

    Made by ``Traced.batched``; called as the trace is, with the same
    result: the sum (or with ``mean=True`` the mean) of the function's
    values over the examples plus the penalty, the gradients added into the
    leaves' ``.grad``, further outputs in ``outputs``. ``source`` is the
    generated code; ``fell_back`` counts the calls that went per example.
    """

    def __init__(self, traced: Traced) -> None:
        if traced.example is None:
            raise TraceError(
                "a batched trace runs a function over examples; this trace is of one graph"
            )
        self.traced = traced
        writer = BatchWriter(traced)
        self.source, made = writer.source()
        self.outputs: list[Any] = []
        self.fell_back = 0
        # NumPy's C code imports its own modules on first use, through the
        # builtins of the frame that calls it: the generated code's.
        builtins = {"float": float, "len": len, "__import__": __import__}
        self._function = compile_function(self.source, made["name"], made["namespace"], builtins)

    def __call__(self, examples: Iterable[Any], *, mean: bool = False) -> float:
        batch, seed = batch_and_seed(examples, mean)
        n = len(batch)
        try:
            with np.errstate(all="ignore"):
                terms, penalty, outputs, grad = self._function(self.traced.leaves, batch, seed)
                total = float(terms.sum())
                penalty = float(penalty)
                finite = np.isfinite(total + penalty) and bool(np.isfinite(grad).all())
        except (ArithmeticError, ValueError, TypeError, IndexError):
            finite = False
        if not finite:  # a rule would raise here, or the numbers are inf or NaN: per example
            self.fell_back += 1
            result = self.traced(batch, mean=mean)
            self.outputs = self.traced.outputs
            return result
        for leaf, g in zip(self.traced.leaves, grad.tolist()):
            leaf.grad += g
        if len(outputs) == 1:
            self.outputs = np.asarray(outputs[0], dtype=float).tolist()
        else:
            self.outputs = [tuple(row) for row in zip(*(np.asarray(o).tolist() for o in outputs))]
        data = total / n if mean else total
        return data + penalty if self.traced.penalty is not None else data
