"""Backprop written out as code: trace a graph once, replay it as straight-line Python.

A graph is a program: one statement per node for the forward pass, then,
node by node in reverse, the chain rule for the backward pass. ``trace``
writes that program out, named from the nodes' labels, compiles it once, and
runs it as often as asked: every node recomputed from the leaves' current
``.data``, every leaf's ``.grad`` accumulated exactly as ``backward()``
accumulates it. It reads like the article's derivation and runs faster
than the interpreted engine (no node objects, no walk) and than the same
network written with lists of floats (no lists, no loops over weights).

>>> from tinygrad_bp import Value
>>> a, b = Value(2.0, "a"), Value(3.0, "b")
>>> c = a * b + a
>>> c.label = "c"
>>> traced = trace(c)
>>> print(traced.source, end="")
def c_pass(leaves):
    # The values of the leaves now
    a = leaves[0].data
    b = leaves[1].data
    # The forward pass, parents first
    mul1 = a * b
    c = mul1 + a
    # The backward pass: g_x is ∂c/∂x, its children first
    g_c = 1.0
    g_mul1 = 1.0
    g_a = 1.0
    g_a += b
    g_b = a
    # The leaves accumulate, as backward() does
    leaves[0].grad += g_a
    leaves[1].grad += g_b
    return c
>>> a.data = 5.0
>>> traced(), a.grad, b.grad
(20.0, 4.0, 5.0)

What a trace cannot see: the graph's SHAPE is fixed when it is traced,
as with ``jax.jit``. Python control flow on ``.data`` (an ``if x.data > 0``
in a model, a loop whose length depends on a value) took one branch while
the graph was built, and the trace replays that branch for every input.
Control flow inside an op's rule is not frozen (a ReLU that switches, a
hinge term that comes and goes): each rule's decisions are made again on
every call. The nodes of the traced graph keep the values of the pass that
built them; only the leaves are read and given gradients.

Built-in ops are written inline from their templates (``templates.py``);
any other op, a user's ``@op`` included, is called through its rule. The
only code ever compiled is generated here from those templates: labels
become identifiers made of letters, digits and underscores, constants are
``repr`` float literals, and rules are passed in by reference, never by name.
"""

from __future__ import annotations

import ast
import functools
import inspect
import keyword
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import contract, grad_mode, rules
from .engine import Op, Operand, Value
from .layer import Net
from .templates import FUNCTIONS, TEMPLATES, Template
from .walk import walk

__all__ = ["trace", "Traced", "TraceError"]

# Names of the generated code's own: the arguments and the sums it keeps.
RESERVED = (
    *("leaves", "examples", "seed", "terms", "outputs", "steps", "lr", "done", "_"),
    *("zip", "range", "reversed"),
)
# Up to this many leaves, each is read and written back in a statement of its
# own; past it, in one (compiling costs by the statement, not by the name).
SPELLED_OUT = 16


class TraceError(Exception):
    """The traced graph cannot be replayed as it is: it changed, or it cannot be traced."""


# -- names -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def identifier(text: str, fallback: str = "v") -> str:
    """``text`` as a harmless Python identifier: letters, digits and underscores only.

    >>> identifier("net_h1"), identifier("x); __import__('os').system('id'); (")
    ('net_h1', 'x_import_os_system_id')
    >>> identifier("½(t−o)²", "op"), identifier("for"), identifier("1st")
    ('t_o', 'for_', 'v1st')
    """
    name = re.sub(r"[^0-9A-Za-z_]+", "_", text).strip("_")[:40].strip("_")
    name = re.sub(r"__+", "_", name)
    if not name:
        return fallback
    if name[0].isdigit():
        name = "v" + name
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name += "_"
    return name


class _Names:
    """Unique identifiers: a label's own, or with _2, _3 ... appended."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self.used = set(reserved)
        self.counts: dict[str, int] = {}

    def new(self, base: str) -> str:
        name, k = base, 1
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name

    def numbered(self, base: str) -> str:
        """``base`` with the first free number: mul1, mul2 ..."""
        k = self.counts.get(base, 0)
        while True:
            k += 1
            name = f"{base}{k}" if base[-1].isalpha() else f"{base}_{k}"
            if name not in self.used:
                self.counts[base] = k
                self.used.add(name)
                return name


def literal(x: float) -> str:
    """A float as exact source text: ``repr``, negative ones in parentheses.

    >>> literal(0.1), literal(-2.0), literal(float("-inf")), literal(float("nan"))
    ('0.1', '(-2.0)', '(-inf)', 'nan')
    """
    text = repr(float(x))  # inf and nan are names the generated code is given
    return f"({text})" if text.startswith("-") else text


@functools.lru_cache(maxsize=1024)
def _binds_tighter_than_times(expression: str) -> bool:
    """Whether ``expression * g`` multiplies the whole expression by g."""
    tree = ast.parse(expression, mode="eval").body
    if isinstance(tree, ast.BinOp):
        return isinstance(tree.op, (ast.Mult, ast.Div))  # (a * b) * g, left to right
    return isinstance(tree, (ast.Name, ast.Constant, ast.Call, ast.UnaryOp, ast.Subscript))


def _times(d: str, g: str) -> str:
    """Source for d · g, as the engine multiplies: 1 · g is g, -1 · g is -g exactly."""
    if g == "1.0":
        return d
    if d == "1.0":
        return g
    if d == "-1.0":
        return f"-{g}"
    return f"{d} * {g}" if _binds_tighter_than_times(d) else f"({d}) * {g}"


# -- reading the graph ---------------------------------------------------------------------


def _operands(node: Value) -> tuple[Operand, ...]:
    """The arguments the node's op was called with, constants included, in order."""
    if isinstance(node, Net):
        if node.args is not None:
            return node.args
        inputs: tuple[Operand, ...] = node.x if node.x else node.dw  # Values, or their floats
        return (*node.w, *inputs, node.b)  # type: ignore[arg-type]
    if node.args is not None:
        return node.args
    return node.parents


@dataclass
class _Step:
    """One op node: how the generated code computes it and passes its gradient on."""

    node: Value
    name: str
    op: Op
    operands: tuple[Operand, ...]
    args: list[str]  # the operands' code: names and literals
    template: Template | None
    constant: bool  # an op of constants only: its value, written as a literal
    locals: list[str] = field(default_factory=list)  # a rule call's derivative variables


def _graph(roots: Sequence[Value]) -> tuple[list[Value], list[Value], list[list[Value]]]:
    """The op nodes of all ``roots``, parents first, and their leaves, each once; and
    each root's own ``walk`` order (the order of its backward pass)."""
    order: list[Value] = []
    leaves: list[Value] = []
    walks: list[list[Value]] = []
    seen: set[Value] = set()
    for root in roots:
        o, lv = walk(root)
        walks.append(o)
        for n in o:
            if n not in seen:
                seen.add(n)
                order.append(n)
        for n in lv:
            if n not in seen:
                seen.add(n)
                leaves.append(n)
    return order, leaves, walks


def _gated(order: Sequence[Value]) -> set[Value]:
    """The nodes whose every reader gates: a relu or a rule call, whose derivative is often 0."""
    readers: dict[Value, list[Value]] = {}
    for n in order:
        for a in _operands(n):
            if isinstance(a, Value):
                readers.setdefault(a, []).append(n)

    def gates(reader: Value) -> bool:
        template = TEMPLATES.get(reader.creator.rule) if reader.creator is not None else None
        return template is None or template.gates

    return {n for n in order if n in readers and all(map(gates, readers[n]))}


# -- writing the code ----------------------------------------------------------------------


class _Writer:
    """Source text for one pass over a traced graph."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self.names = _Names([*reserved, *FUNCTIONS])
        self.name_of: dict[Value, str] = {}
        self.grad_of: dict[Value, str] = {}
        self.rules: dict[str, Callable[..., Any]] = {}  # name -> rule, for the namespace
        self.rule_names: dict[int, str] = {}
        self.called: list[tuple[str, str]] = []  # (name, op name) of each rule called
        self.steps: dict[Value, _Step] = {}

    def reserve(self, base: str) -> str:
        return self.names.new(base)

    def name(self, node: Value, fallback: str) -> str:
        """The node's label as a name; unlabelled, its op's name numbered: mul1, tanh2."""
        if node not in self.name_of:
            if node.label and identifier(node.label, ""):
                self.name_of[node] = self.names.new(identifier(node.label))
            else:
                self.name_of[node] = self.names.numbered(fallback)
        return self.name_of[node]

    def grad(self, node: Value) -> str:
        if node not in self.grad_of:
            self.grad_of[node] = self.names.new("g_" + self.name_of[node])
        return self.grad_of[node]

    def code(self, x: Operand) -> str:
        return self.name_of[x] if isinstance(x, Value) else literal(contract.to_float(x, "trace"))

    def rule_name(self, op: Op) -> str:
        key = id(op.rule)
        if key not in self.rule_names:
            base = identifier(str(getattr(op.rule, "__name__", "")), identifier(op.name, "rule"))
            name = self.names.new(base)
            self.rule_names[key] = name
            self.rules[name] = op.rule
            self.called.append((name, op.name))
        return self.rule_names[key]

    def step(self, node: Value) -> _Step:
        """Name ``node`` and describe how it is computed (its parents named already)."""
        op = node.creator
        assert op is not None
        operands = _operands(node)
        template = TEMPLATES.get(op.rule)
        constant = not any(isinstance(a, Value) for a in operands)
        fallback = identifier(str(getattr(op.rule, "__name__", "")), identifier(op.name, "t"))
        if op.rule is rules.weighted_sum:
            fallback = "net"
        if template is None and not constant:
            self.rule_name(op)  # named before its nodes: the call reads as the rule
        name = self.name(node, fallback)
        step = _Step(node, name, op, operands, [self.code(a) for a in operands], template, constant)
        self.steps[node] = step
        return step

    def forward(self, step: _Step, needs: set[Value]) -> str:
        """The statement computing ``step``'s node (and a rule's local derivatives)."""
        if step.constant:
            return f"{step.name} = {literal(step.node.data)}"
        if step.template is not None:
            return f"{step.name} = {step.template.value_code(step.args, step.name)}"
        rule = self.rule_name(step.op)
        call = f"{rule}({', '.join(step.args)})"
        edges = [a for a in step.operands if isinstance(a, Value)]
        wanted = [isinstance(a, Value) and a in needs for a in step.operands]
        if not any(wanted):
            return f"{step.name}, _ = {call}"
        if len(edges) > 4:  # many derivatives: one tuple, read by index
            d = self.names.new(f"d_{step.name}")
            step.locals = [f"{d}[{k}]" for k in range(len(step.operands))]
            return f"{step.name}, {d} = {call}"
        targets = []
        for a, want in zip(step.operands, wanted):
            if want:
                assert isinstance(a, Value)
                targets.append(self.names.new(f"d{step.name}_d{self.name_of[a]}"))
            else:
                targets.append("_")
        step.locals = targets
        inner = ", ".join(targets) + ("," if len(targets) == 1 else "")
        return f"{step.name}, ({inner}) = {call}"


class _Backward:
    """The backward pass's statements, each gradient defined before it is added to."""

    def __init__(self, writer: _Writer, needs: set[Value], defined: set[str]) -> None:
        self.w = writer
        self.needs = needs
        self.defined = set(defined)  # gradient variables that exist at this point
        self.gated: set[Value] = set()  # nodes whose gradient often is exactly 0
        # Gradients known to be exactly 1.0 (the seed, through + and Σ): d · 1.0
        # is d to the last bit, so the multiplication is left out.
        self.ones: set[str] = set()
        self.lines: list[str] = []

    def add(self, target: Value, expression: str, block: list[str] | None = None) -> None:
        """``g_target += expression``, into ``block`` (an if's body) or at the top level."""
        g = self.w.grad(target)
        if g in self.defined:
            line = f"{g} += {expression}"
            self.ones.discard(g)
        elif block is None:
            line = f"{g} = {expression}"
            self.defined.add(g)
            if expression == "1.0":
                self.ones.add(g)
        else:  # first defined inside an if: start it at 0 before the if
            self.lines.append(f"{g} = 0.0")
            self.defined.add(g)
            line = f"{g} += {expression}"
        (self.lines if block is None else block).append(line)

    def node(self, step: _Step) -> None:
        """``step``'s node passes its gradient on to the parents that need one."""
        if step.constant:
            return
        g = self.w.grad(step.node)
        edges = [
            (k, a) for k, a in enumerate(step.operands) if isinstance(a, Value) and a in self.needs
        ]
        if not edges:
            return
        one = g in self.ones
        if one:
            g = "1.0"
        template = step.template
        local = template.local_code(step.args, step.name) if template is not None else None
        skip = template is not None and template.skip_zero and step.node in self.gated and not one
        block: list[str] | None = [] if skip else None
        for k, parent in edges:
            written = template.grad_code(k, step.args, step.name, g) if template else None
            if written is None:
                d = local[k] if local is not None else step.locals[k]
                written = _times(d, g)
            self.add(parent, written, block)
        if block:
            # Nothing flows back through a net whose gradient is 0, as in Net.backprop.
            self.lines.append(f"if {g} != 0.0 or not isfinite({step.name}):")
            self.lines += ["    " + line for line in block]


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _without_dead_stores(lines: list[str], names: set[str]) -> list[str]:
    """``lines`` without the assignments to ``names`` that no other line reads."""
    code = [line for line in lines if not line.lstrip().startswith("#")]
    uses = Counter(n for line in code for n in _NAME.findall(line))
    kept = list(lines)
    while True:
        dead = []
        for k, line in enumerate(kept):
            target, eq, _ = line.strip().partition(" = ")
            if eq and target in names and uses[target] == 1:
                dead.append(k)
        if not dead:
            return kept
        for k in dead:
            uses.subtract(_NAME.findall(kept[k]))
        kept = [line for k, line in enumerate(kept) if k not in set(dead)]


def _called(writer: _Writer) -> list[str]:
    """A comment naming the ops whose rules are called, not written out."""
    if not writer.called:
        return []
    # An op's name goes into the comment only if no character of it can end
    # the comment's line (str.isprintable is False for every line break).
    shown = [
        f"{name} (op {op})" if op != name and op.isprintable() and len(op) <= 40 else name
        for name, op in writer.called
    ]
    return [f"# Called through their rules, as the engine calls them: {', '.join(shown)}"]


def _indent(lines: Iterable[str], level: int) -> list[str]:
    return ["    " * level + line for line in lines]


# -- the traced program --------------------------------------------------------------------


@dataclass
class _Parts:
    """A pass's source in pieces, for the function (or loop) around it."""

    loads: list[str]  # the leaves' values into local variables
    body: list[str]  # forward and backward: once, per example, or per step
    penalty: list[str]  # the penalty's forward and backward, once
    defined: set[str]  # the gradient variables defined by the end
    index: dict[Value, int]  # each leaf's place in ``leaves``


class Traced:
    """A graph's forward and backward pass as generated Python, compiled once.

    Made by ``trace``. ``source`` is the code; calling the object runs it.
    ``leaves`` are the Values it reads (``.data``) and accumulates into
    (``.grad``); for a trace of a function, ``inputs`` are the Values that
    stood for the example, which each example replaces.

    The graph's shape is frozen (see the module docstring): Python control
    flow on ``.data`` is replayed as it went while tracing. ``check()``
    says whether the graph still has the shape that was traced.
    """

    def __init__(
        self,
        roots: Sequence[Value],
        inputs: Sequence[Sequence[Value] | Value] | None = None,
        penalty: Value | None = None,
        fn_name: str = "",
    ) -> None:
        self.root = roots[0]
        self._roots = tuple(roots)
        self._penalty = penalty
        self._example = inputs  # the example's structure: a Value or a list per argument
        flat: list[Value] = []
        for item in inputs or ():
            flat += [item] if isinstance(item, Value) else list(item)
        self.inputs: tuple[Value, ...] = tuple(flat)
        self.outputs: list[Any] = []  # a function's extra outputs, one per example, last call
        order, leaves, walks = _graph([*roots, *([penalty] if penalty is not None else [])])
        self._term_order = walks[0]
        self._pen_order = walks[-1] if penalty is not None else []
        in_roots = {n for w in walks[: len(roots)] for n in w}
        self._main = [n for n in order if n in in_roots]  # computed once per example
        is_input = set(self.inputs)
        if penalty is not None:
            pen_leaves = walk(penalty)[1] if not self._pen_order else []
            reads = {a for n in self._pen_order for a in _operands(n) if isinstance(a, Value)}
            if is_input & (reads | set(pen_leaves) | {penalty}):
                raise TraceError(
                    "the penalty depends on the example; it must be of the parameters alone"
                )
        # The leaves in the order the forward pass first reads them.
        first_read = [a for n in order for a in _operands(n) if isinstance(a, Value)]
        ordered = dict.fromkeys(a for a in [*first_read, *leaves] if a.creator is None)
        self.leaves: tuple[Value, ...] = tuple(n for n in ordered if n not in is_input)
        self._order = order
        self._shape = self._structure(order)
        self._fn_name = fn_name
        self._generated: tuple[str, Callable[..., Any]] | None = None  # made when first needed
        self._sgd: dict[tuple[tuple[Value, ...], bool], tuple[str, Callable[..., Any]]] = {}

    # -- the structure, to tell whether the graph changed
    @staticmethod
    def _structure(order: list[Value]) -> list[tuple[Any, ...]]:
        return [(n, n.creator, _operands(n)) for n in order]

    def check(self) -> None:
        """Raise TraceError if the graph is no longer the one traced.

        Walks the graph again: a parent replaced, a node's op or constants
        changed, a leaf swapped for another. Cheap next to building a graph,
        but a walk: call it when something may have changed the graph.
        """
        roots = [*self._roots, *([self._penalty] if self._penalty is not None else [])]
        now = self._structure(_graph(roots)[0])
        if len(now) != len(self._shape):
            raise TraceError(
                f"the graph has changed since it was traced: {len(now)} nodes, "
                f"traced with {len(self._shape)}; trace it again"
            )
        for k, (a, b) in enumerate(zip(now, self._shape)):
            if a[0] is not b[0] or a[1] is not b[1] or not _same(a[2], b[2]):
                what = a[0].label or a[0].op
                raise TraceError(
                    f"the graph has changed since it was traced, at node {k} ({what!r}): "
                    "trace it again"
                )

    # -- generating
    def _write(self, writer: _Writer, sgd: Sequence[Value] | None = None) -> _Parts:
        """The pass's pieces; with ``sgd``, only those parameters get gradients."""
        per_example = self._example is not None
        index = {leaf: k for k, leaf in enumerate(self.leaves)}
        for v in self.inputs:
            writer.name(v, "x")
        for leaf in self.leaves:
            writer.name(leaf, "v")
        for n in self._order:
            writer.step(n)
        # Which nodes need a gradient: those that lead to a leaf that wants one.
        wanted = set(sgd) if sgd is not None else set(self.leaves)
        needs: set[Value] = set(wanted)
        for n in self._order:
            if any(isinstance(a, Value) and a in needs for a in _operands(n)):
                needs.add(n)
        names = [writer.name_of[leaf] for leaf in self.leaves]
        if len(names) <= SPELLED_OUT:
            loads = [f"{name} = leaves[{k}].data" for k, name in enumerate(names)]
        else:  # one statement: compiling costs by the statement
            loads = [f"{', '.join(names)} = [leaf.data for leaf in leaves]"]
        body = ["# The forward pass, parents first"]
        body += [writer.forward(writer.steps[n], needs) for n in self._main]
        root = writer.name_of[self.root]
        if per_example:
            body.append(f"terms.append({root})")
            extra = [writer.name_of[r] for r in self._roots[1:]]
            if len(extra) == 1:
                body.append(f"outputs.append({extra[0]})")
            elif extra:
                body.append(f"outputs.append(({', '.join(extra)}))")
        # Summed over the examples, a leaf's gradient is defined before the loop.
        leaf_grads = {writer.grad(leaf) for leaf in self.leaves if leaf in wanted}
        back = _Backward(writer, needs, leaf_grads if per_example else set())
        back.gated = gated = _gated(self._order)
        back.lines.append(f"# The backward pass: g_x is ∂{root}/∂x, its children first")
        if self.root in needs:
            back.add(self.root, "seed" if per_example else "1.0")
            for n in reversed(self._term_order):
                if n in needs:
                    back.node(writer.steps[n])
        body += back.lines
        penalty: list[str] = []
        defined = back.defined
        if self._penalty is not None:
            # Before the examples, as backward() meets it first in the batch's graph.
            pen_order = self._pen_order
            penalty.append("# The terms of the parameters alone, once, first")
            penalty += [writer.forward(writer.steps[n], needs) for n in pen_order]
            pb = _Backward(writer, needs, leaf_grads)
            pb.gated = gated
            if self._penalty in needs:
                pb.add(self._penalty, "1.0")
                for n in reversed(pen_order):
                    if n in needs:
                        pb.node(writer.steps[n])
            penalty += pb.lines
            defined = defined | pb.defined
        return _Parts(loads, body, penalty, defined, index)

    def _loop_target(self, writer: _Writer) -> str:
        parts = []
        for item in self._example or ():
            if isinstance(item, Value):
                parts.append(writer.name_of[item])
            else:
                inner = ", ".join(writer.name_of[v] for v in item)
                parts.append(f"({inner}{',' if len(item) == 1 else ''})")
        if len(parts) == 1 and parts[0].startswith("("):
            return parts[0][1:-1].rstrip(",") or "()"
        return ", ".join(parts)

    def _generate(self) -> tuple[str, Callable[..., Any]]:
        writer = _Writer(RESERVED)
        parts = self._write(writer)
        root = writer.name_of[self.root]
        name = writer.reserve(identifier(self._fn_name or root, "root") + "_pass")
        lines = [*_called(writer), "# The values of the leaves now", *parts.loads]
        if self._example is None:
            lines += parts.body
        else:
            zeros = [writer.grad(leaf) for leaf in self.leaves]
            if zeros:
                lines.append(" = ".join([*zeros, "0.0"]))
            lines += parts.penalty
            lines += ["terms = []", "outputs = []"]
            lines.append(
                "# The last example first, as backward() meets them in the graph of the batch"
            )
            lines.append(f"for {self._loop_target(writer)} in reversed(examples):")
            lines += _indent(parts.body, 1)
        lines.append("# The leaves accumulate, as backward() does")
        grads = [writer.grad(leaf) for leaf in self.leaves]
        if len(grads) <= SPELLED_OUT:
            lines += [f"leaves[{k}].grad += {g}" for k, g in enumerate(grads) if g in parts.defined]
        else:
            defined = [g if g in parts.defined else "0.0" for g in grads]
            lines.append(f"for _leaf, _g in zip(leaves, ({', '.join(defined)})):")
            lines.append("    _leaf.grad += _g")
        if self._example is None:
            lines.append(f"return {root}")
            signature = "leaves"
        else:
            pen = writer.name_of[self._penalty] if self._penalty is not None else "0.0"
            lines.append(f"return terms, {pen}, outputs")
            signature = "leaves, examples, seed"
        source = "\n".join([f"def {name}({signature}):", *_indent(lines, 1)]) + "\n"
        return source, _compile(source, name, writer.rules)

    @property
    def source(self) -> str:
        """The generated Python: the forward pass, then the backward pass."""
        return self._compiled()[0]

    def _compiled(self) -> tuple[str, Callable[..., Any]]:
        if self._generated is None:
            self._generated = self._generate()
        return self._generated

    # -- the SGD loop
    def sgd_source(self, parameters: Sequence[Value]) -> str:
        """The generated training loop ``sgd`` runs for these parameters (see ``sgd``)."""
        return self._sgd_function(parameters)[0]

    def _sgd_function(
        self, parameters: Sequence[Value], checked: bool = False
    ) -> tuple[str, Callable[..., Any]]:
        """The loop for these parameters: checked, it tests every step's gradients."""
        if self._example is not None:
            raise TraceError("sgd() trains the trace of a graph; call a function's trace instead")
        params = tuple(dict.fromkeys(parameters))
        if (params, checked) in self._sgd:
            return self._sgd[params, checked]
        is_leaf = set(self.leaves)
        for k, p in enumerate(params):
            if p not in is_leaf:
                label = f" {p.label!r}" if isinstance(p, Value) and p.label else ""
                raise TraceError(
                    f"parameter {k}{label} is not a leaf of the traced graph (replaced since "
                    "the trace?); trace the graph again"
                )
        writer = _Writer(RESERVED)
        parts = self._write(writer, sgd=params)
        root = writer.name_of[self.root]
        name = writer.reserve(identifier(self._fn_name or root, "root") + "_sgd")
        grads = [writer.grad(p) for p in params]
        values = [writer.name_of[p] for p in params]
        # What nothing reads is left out of the loop: a gradient's store (g_E_o1 =
        # 1.0), a value no gradient needs (E_total), where computing it cannot raise.
        pure = {
            step.name
            for step in writer.steps.values()
            if step.template is not None and not step.template.raises
        }
        dead = (set(writer.grad_of.values()) | pure) - set(grads) - set(values)
        body = _without_dead_stores(parts.body, dead)
        update = ["# Every parameter at once: p⁺ = p − lr·∂/∂p"]
        update += [f"{p} -= lr * {g}" for p, g in zip(values, grads)]
        if checked:
            finite = " + ".join(f"{g} * 0.0" for g in grads)
            update[:0] = [
                "# An inf or NaN gradient: stop before the update, as SGD.step does",
                f"if {finite} != 0.0:",
                "    break",
            ]
        lines = [
            *_called(writer),
            "# The values of the leaves: the parameters change, the rest are constants",
            *parts.loads,
            "done = 0",
            "for done in range(steps):",
            *_indent([*body, *update], 1),
            "else:",
            "    done = steps",
        ]
        if not checked:
            # An inf or NaN gradient leaves an inf or NaN parameter behind: once
            # NaN, always NaN, and p − lr·(±inf) is ∓inf. Then nothing is written
            # back, and the checked loop runs again from the same leaves.
            finite = " + ".join(f"{x} * 0.0" for x in [*values, *grads])
            lines += [f"if {finite} != 0.0:", "    return -1"]
        lines.append("# The parameters, and their gradients at the last step")
        places = [str(parts.index[p]) for p in params]
        if len(params) <= SPELLED_OUT:
            for place, value, g in zip(places, values, grads):
                lines += [f"leaves[{place}].data = {value}", f"leaves[{place}].grad = {g}"]
        else:
            lines += [
                f"for _k, _p, _g in zip(({', '.join(places)}), ({', '.join(values)}), "
                f"({', '.join(grads)})):",
                "    leaves[_k].data = _p",
                "    leaves[_k].grad = _g",
            ]
        lines.append("return done")
        source = "\n".join([f"def {name}(leaves, steps, lr):", *_indent(lines, 1)]) + "\n"
        result = (source, _compile(source, name, writer.rules))
        self._sgd[params, checked] = result
        return result

    def sgd(self, parameters: Sequence[Value], lr: float, steps: int) -> int:
        """``steps`` updates of plain SGD, p⁺ = p − lr·∂root/∂p, in the generated loop.

        The same numbers as ``steps`` times zero_grad(), ``root.backward()``
        and ``SGD(parameters, lr).step()`` on a graph rebuilt each time:
        afterwards each parameter holds its ``.data`` after the updates and
        the ``.grad`` of the last step. Only the parameters are read back
        and written; the other leaves are constants of the loop (their
        ``.grad`` is left alone). Returns the number of updates made: an inf
        or NaN gradient stops the loop before that update, with the
        gradients of that step in ``.grad``, as ``SGD.step`` refuses it.
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"sgd: steps must be a whole number >= 0, got {steps!r}")
        if steps == 0:
            return 0
        leaves = self.leaves
        try:
            done = self._sgd_function(parameters)[1](leaves, steps, lr)
            if done < 0:  # an inf or NaN on the way: the checked loop stops where SGD would
                done = self._sgd_function(parameters, checked=True)[1](leaves, steps, lr)
        except (ArithmeticError, ValueError, TypeError) as error:
            # The loop's state went with the error (nothing was written back):
            # take the steps again one at a time, to stop where a rule fails.
            checked = self._sgd_function(parameters, checked=True)[1]
            for made in range(steps):
                try:
                    if checked(leaves, 1, lr) == 0:
                        return made
                except (ArithmeticError, ValueError, TypeError):
                    self._diagnose()
                    raise error from None
            raise
        return int(done)

    # -- calling
    def __call__(self, examples: Iterable[Any] | None = None, *, mean: bool = False) -> float:
        """Recompute, backpropagate, accumulate into ``.grad``; return the root's value.

        A trace of a graph takes no arguments. A trace of a function takes
        the examples (each what the traced example was: the tuple of the
        function's arguments, or its one argument) and returns the sum of
        the function's values over them, or their mean with ``mean=True``
        (each example's gradient then weighs 1/n, as in ``total(terms) / n``),
        plus the penalty; the gradients of every example are summed into the
        leaves. The function's further outputs, if it returned any, are in
        ``outputs``, one per example.
        """
        if self._example is None:
            if examples is not None:
                raise TypeError("this trace is of one graph: call it without examples")
            try:
                return float(self._compiled()[1](self.leaves))
            except (ArithmeticError, ValueError, TypeError):
                self._diagnose()
                raise
        if examples is None:
            raise TypeError("this trace is of a function: call it with the examples")
        batch = examples if isinstance(examples, (list, tuple)) else list(examples)
        n = len(batch)
        if n == 0:
            raise ValueError("no examples: expected at least one")
        seed = 1.0 / n if mean else 1.0
        try:
            result = self._compiled()[1](self.leaves, batch, seed)
        except (ArithmeticError, ValueError, TypeError):
            self._diagnose(batch)
            raise
        terms, penalty, outputs = result
        terms.reverse()
        outputs.reverse()
        self.outputs = outputs
        total = sum(terms, 0.0)  # as total(terms): left to right
        data = total / n if mean else total
        return float(data + penalty) if self._penalty is not None else float(data)

    # -- errors
    def _diagnose(self, batch: Sequence[Any] | None = None) -> None:
        """Say which op failed, as the engine would: run the rules node by node.

        The generated code raises the math module's error ("math domain
        error"); the rules name the op and its arguments. Raises the rule's
        error if one fails; returns (the caller re-raises) if none does.
        """
        if batch is None:
            self._replay({})
            return
        for k, example in enumerate(batch):
            self._replay(self._bind(example, k))

    def _bind(self, example: Any, k: int) -> dict[Value, float]:
        structure = self._example or ()
        args = (example,) if len(structure) == 1 else tuple(example)
        if len(args) != len(structure):
            raise ValueError(
                f"example {k}: expected {len(structure)} arguments, as traced, got {len(args)}"
            )
        values: dict[Value, float] = {}
        for j, (item, arg) in enumerate(zip(structure, args)):
            where = f"example {k}, argument {j}"
            if isinstance(item, Value):
                values[item] = contract.to_float(arg, where)
                continue
            numbers = list(arg)
            if len(numbers) != len(item):
                raise ValueError(
                    f"{where}: expected {len(item)} numbers, as traced, got {len(numbers)}"
                )
            for v, x in zip(item, numbers):
                values[v] = contract.to_float(x, where)
        return values

    def _replay(self, values: dict[Value, float]) -> None:
        for node in self._order:
            op = node.creator
            assert op is not None
            xs = [
                (values[a] if a in values else a.data) if isinstance(a, Value) else float(a)
                for a in _operands(node)
            ]
            run = contract.run_checked if op.checked else contract.run_trusted
            values[node] = run(op.rule, op.name, xs)[0]


def _same(a: tuple[Operand, ...], b: tuple[Operand, ...]) -> bool:
    return len(a) == len(b) and all(
        x is y or (not isinstance(x, Value) and not isinstance(y, Value) and x == y)
        for x, y in zip(a, b)
    )


# Compiled code by its source: the same shape traced again is not compiled again.
_compiled: dict[str, Any] = {}


def forget_compiled() -> None:
    """Empty the cache of compiled code (to time a trace from scratch)."""
    _compiled.clear()


def _compile(source: str, name: str, rules: dict[str, Callable[..., Any]]) -> Callable[..., Any]:
    """Compile source that ``_Writer`` generated; the namespace holds only what it calls."""
    code = _compiled.get(source)
    if code is None:
        code = compile(source, f"<trace {name}>", "exec")
        if len(_compiled) > 256:
            _compiled.clear()
        _compiled[source] = code
    namespace: dict[str, Any] = {
        "__builtins__": {"range": range, "zip": zip, "reversed": reversed},
        **FUNCTIONS,
        **rules,
    }
    exec(code, namespace)  # noqa: S102 -- source generated above from templates only
    function: Callable[..., Any] = namespace[name]
    return function


# -- tracing -------------------------------------------------------------------------------


def trace(
    graph: Value | Callable[..., Any],
    *example: Any,
    penalty: Value | None = None,
) -> Traced:
    """Trace a graph, or a function of one example, into generated Python.

    ``trace(root)``: the graph already built under ``root``. Calling the
    result recomputes it from the leaves' current ``.data``, accumulates
    every leaf's gradient into ``.grad`` as ``root.backward()`` does, and
    returns the root's new value.

    ``trace(fn, *example)``: calls ``fn`` once on the example, with each
    number (and each number of a list) made a Value labelled by ``fn``'s
    parameter, and traces the graph it returns: a Value (the example's
    term of a loss), or a tuple of the term and further Values to report
    (a score). Calling the result on many examples loops over them inside
    the generated code: what it compiles does not grow with the data.
    ``penalty``: a graph of the parameters alone (a regularizer), added
    once per call.

    The graph's shape is frozen: Python control flow on ``.data`` while it
    was built is replayed as it went, for every call and every example.

    >>> from tinygrad_bp import Value
    >>> w = Value(0.5, "w")
    >>> traced = trace(lambda x, y: (w * x - y) * (w * x - y), 1.0, 2.0)
    >>> traced([(1.0, 2.0), (2.0, 1.0)]), w.grad
    (2.25, -3.0)
    """
    if isinstance(graph, Value):
        if example or penalty is not None:
            raise TypeError("trace(root) takes no example: the graph is built already")
        return Traced([graph])
    if not callable(graph):
        raise TypeError(f"trace: expected a Value or a function, got {type(graph).__name__}")
    if not example:
        raise TypeError("trace(fn, *example): give one example to call fn with")
    if not grad_mode.enabled:
        raise TraceError("trace(fn, ...) inside no_grad(): fn would build no graph to trace")
    names = _parameter_names(graph, len(example))
    inputs: list[Value | list[Value]] = []
    for name, arg in zip(names, example):
        if isinstance(arg, (int, float)) and not isinstance(arg, bool):
            inputs.append(Value(arg, name))
        elif isinstance(arg, Sequence) and not isinstance(arg, (str, bytes)):
            inputs.append([Value(x, f"{name}{k + 1}") for k, x in enumerate(arg)])
        else:
            raise TypeError(
                f"trace: an example's arguments must be numbers or lists of numbers, "
                f"got {type(arg).__name__}"
            )
    result = graph(*inputs)
    roots = list(result) if isinstance(result, tuple) else [result]
    for k, r in enumerate(roots):
        if not isinstance(r, Value):
            raise TypeError(f"trace: fn must return Values, got {type(r).__name__} at {k}")
    return Traced(roots, inputs, penalty, identifier(getattr(graph, "__name__", ""), ""))


def _parameter_names(fn: Callable[..., Any], n: int) -> list[str]:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = names[:n] + [f"x{k}" for k in range(len(names), n)]
    return names
