"""Writing a graph out as Python: names from labels, one statement per node, the chain rule.

``tracer.py`` walks a graph and ``compiled.py`` asks this module for the code: safe, unique
identifiers made from the nodes' labels (``identifier``), constants as
exact float literals (``literal``), each node's forward statement from its
op's template (or a call of its rule), and the backward pass in reverse,
one ``g_`` gradient per node. Nothing here compiles or runs code.

>>> identifier("x); __import__('os').system('id'); (")
'x_import_os_system_id'
>>> literal(-0.5)
'(-0.5)'
"""

from __future__ import annotations

import ast
import functools
import keyword
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import checks
from ..expressions import FUNCTIONS, Template, literal
from ..ops import weighted_sum_op
from ..value import Op, Operand, Value, walk


class TraceError(Exception):
    """The traced graph cannot be replayed as it is: it changed, or it cannot be traced."""


# Names of the generated code's own: the arguments and the sums it keeps.
RESERVED = (
    *("leaves", "examples", "seed", "terms", "outputs", "steps", "lr", "done", "_"),
    *("zip", "range", "reversed"),
)
# Up to this many leaves, each is read and written back in a statement of its
# own; past it, in one (compiling costs by the statement, not by the name).
SPELLED_OUT = 16


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


@functools.lru_cache(maxsize=1024)
def _binds_tighter_than_times(expression: str) -> bool:
    """Whether ``expression * g`` multiplies the whole expression by g."""
    tree = ast.parse(expression, mode="eval").body
    if isinstance(tree, ast.BinOp):
        return isinstance(tree.op, (ast.Mult, ast.Div))  # (a * b) * g, left to right
    return isinstance(tree, (ast.Name, ast.Constant, ast.Call, ast.UnaryOp, ast.Subscript))


def times(d: str, g: str) -> str:
    """Source for d · g, as the engine multiplies: 1 · g is g, -1 · g is -g exactly."""
    if g == "1.0":
        return d
    if d == "1.0":
        return g
    if d == "-1.0":
        return f"-{g}"
    return f"{d} * {g}" if _binds_tighter_than_times(d) else f"({d}) * {g}"


# -- reading the graph ---------------------------------------------------------------------


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


def graph_nodes(roots: Sequence[Value]) -> tuple[list[Value], list[Value], list[list[Value]]]:
    """The op nodes of all ``roots``, parents first, and their leaves, each once; and
    each root's own ``walk`` order (the order of its backward pass)."""
    order: list[Value] = []
    leaves: list[Value] = []
    walks: list[list[Value]] = []
    seen: set[Value] = set()
    for root in roots:
        nodes = walk(root)
        walks.append([n for n in nodes if n.creator is not None])
        for n in nodes:
            if n not in seen:
                seen.add(n)
                (order if n.creator is not None else leaves).append(n)
    return order, leaves, walks


def gated_nodes(order: Sequence[Value]) -> set[Value]:
    """The nodes whose every reader gates: a relu or a rule call, whose derivative is often 0."""
    readers: dict[Value, list[Value]] = {}
    for n in order:
        for a in n.args:
            if isinstance(a, Value):
                readers.setdefault(a, []).append(n)

    def gates(reader: Value) -> bool:
        template = reader.creator.template if reader.creator is not None else None
        return template is None or template.gates

    return {n for n in order if n in readers and all(map(gates, readers[n]))}


# -- writing the code ----------------------------------------------------------------------


class Writer:
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
        return self.name_of[x] if isinstance(x, Value) else literal(checks.to_float(x, "trace"))

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
        operands = node.args
        template = op.template
        constant = not any(isinstance(a, Value) for a in operands)
        fallback = identifier(str(getattr(op.rule, "__name__", "")), identifier(op.name, "t"))
        if op is weighted_sum_op:
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


def name_graph(
    writer: Writer, inputs: Iterable[Value], leaves: Iterable[Value], order: Iterable[Value]
) -> None:
    """Name the example's inputs, the leaves, then every op node (in ``order``) for ``writer``."""
    for v in inputs:
        writer.name(v, "x")
    for leaf in leaves:
        writer.name(leaf, "v")
    for n in order:
        writer.step(n)


class Backward:
    """The backward pass's statements, each gradient defined before it is added to."""

    def __init__(self, writer: Writer, needs: set[Value], defined: set[str]) -> None:
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
                written = times(d, g)
            self.add(parent, written, block)
        if block:
            # Nothing flows back through a net whose gradient is 0: adding 0 · d, d finite
            # (the net's value is), would change no gradient's bits, so skip the work.
            self.lines.append(f"if {g} != 0.0 or not isfinite({step.name}):")
            self.lines += ["    " + line for line in block]


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def without_dead_stores(lines: list[str], names: set[str]) -> list[str]:
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


def called_rules(writer: Writer) -> list[str]:
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


def indent(lines: Iterable[str], level: int) -> list[str]:
    return ["    " * level + line for line in lines]


# -- the traced program --------------------------------------------------------------------


@dataclass
class Parts:
    """A pass's source in pieces, for the function (or loop) around it."""

    loads: list[str]  # the leaves' values into local variables
    body: list[str]  # forward and backward: once, per example, or per step
    penalty: list[str]  # the penalty's forward and backward, once
    defined: set[str]  # the gradient variables defined by the end
    index: dict[Value, int]  # each leaf's place in ``leaves``
