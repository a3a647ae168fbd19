"""Random expression graphs, described once and built in any engine.

A ``Graph`` is data: input values and a list of ``Step``s, each an op name
with arguments that are earlier nodes (``Ref``) or constants (``Const``).
``evaluate`` builds it with the Python operators plus a table of functions,
so the same description becomes tinygrad_bp Values, plain floats (for finite
differences) or PyTorch tensors, and the engines can be compared node by node.
For Values the table (``VALUE_FUNCTIONS``) reaches every op as a user does:
the built-in ops through their methods (``x.sin()``), ``abs()``, ``%`` and
the functions of two arguments (``atan2``, ``hypot``, ``minimum``, ``maximum``).

``random_graph`` draws one from a ``random.Random`` (hypothesis passes its own,
whose draws it can shrink). It uses every op of the engine, reuses earlier
nodes (so there are shared nodes and diamonds), and keeps every op inside its
domain with a margin: log, sqrt, fractional powers and Value ** Value see
only positive bases, division and % only divisors away from zero, asin and
acos only arguments within ±0.9, tan only arguments away from its poles, and
every node stays below ``BOUND`` in size. Kinks and jumps are kept at a
distance too: relu, abs and leaky_relu see arguments away from 0, maximum and
minimum no near-ties, hypot and atan2 no points near the origin, atan2 none
near its cut along the negative x axis, % no dividend near a multiple of its
divisor. Where the node at hand is too close to an edge, a helper node is
built that is safe by its form (``exp(a)``, ``a*a + 0.5``, ``sigmoid(a) +
0.25``, ``0.9 * tanh(a)``).

``op_counts`` counts the graphs each op appears in, for the summary that
says how often the cross-check exercised each op.

>>> import random
>>> g = random_graph(random.Random(3))
>>> values = evaluate(g, list(g.inputs), FLOAT_FUNCTIONS)
>>> len(values) == len(g.inputs) + len(g.steps)
True
"""

from __future__ import annotations

import math
import operator
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

from tinygrad_bp import Value, atan2, hypot, maximum, minimum, total, weighted_sum

# Every op of the engine, by the names used in a Step.
OPS = (
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "neg",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "weighted_sum",
    "total",
    "sqrt",
    "abs",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "sinh",
    "cosh",
    "log1p",
    "expm1",
    "log2",
    "log10",
    "exp2",
    "hypot",
    "minimum",
    "maximum",
    "softplus",
    "leaky_relu",
    "mod",
)
# The ops of two arguments whose arguments are told apart by kind in ops_used.
BINARY = ("add", "sub", "mul", "div", "pow", "mod", "atan2", "hypot", "minimum", "maximum")
BOUND = 50.0  # no node's value grows past this, so differences stay well conditioned
MARGIN = 0.25  # how far a denominator or a log/power base stays from 0
KINK_MARGIN = 0.1  # how far a relu argument stays from 0, and the sides of a max from a tie
JUMP_MARGIN = 0.05  # how far x/c stays from a whole number in x % c, as a fraction of 1
UNIT = 0.9  # the largest |argument| of asin and acos


@dataclass(frozen=True)
class Ref:
    """An earlier node of the graph, by index (inputs first)."""

    index: int

    def __str__(self) -> str:
        return f"n{self.index}"


@dataclass(frozen=True)
class Const:
    """A plain number: the engines give it no edge."""

    value: float

    def __str__(self) -> str:
        return repr(self.value)


Arg = Ref | Const


@dataclass(frozen=True)
class Step:
    op: str
    args: tuple[Arg, ...]

    def __str__(self) -> str:
        a = [str(x) for x in self.args]
        infix = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "mod": "%"}
        if self.op in infix:
            return f"{a[0]} {infix[self.op]} {a[1]}"
        if self.op == "neg":
            return f"-{a[0]}"
        if self.op == "weighted_sum":
            n = (len(a) - 1) // 2
            return f"weighted_sum([{', '.join(a[:n])}], [{', '.join(a[n : 2 * n])}], {a[-1]})"
        if self.op == "total":
            return f"total([{', '.join(a)}])"
        return f"{self.op}({', '.join(a)})"


@dataclass(frozen=True)
class Graph:
    """Inputs n0..n(k-1), then one node per step; the last node is the output."""

    inputs: tuple[float, ...]
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        lines = [f"n{i} = {x!r}  (input)" for i, x in enumerate(self.inputs)]
        k = len(self.inputs)
        lines += [f"n{k + j} = {step}" for j, step in enumerate(self.steps)]
        return "\n".join(lines)

    def ops_used(self) -> set[str]:
        """Op names, with the kinds of ** and constant sides told apart."""
        used = set()
        for step in self.steps:
            used.add(step.op)
            kinds = "".join("v" if isinstance(a, Ref) else "c" for a in step.args)
            if step.op in BINARY or step.op == "leaky_relu":
                used.add(f"{step.op} {kinds}")  # e.g. "pow cv" is number ** Value
        return used


def evaluate(
    graph: Graph,
    leaves: Sequence[Any],
    functions: Mapping[str, Callable[..., Any]],
    nudge: tuple[int, float] | None = None,
) -> list[Any]:
    """Every node of ``graph`` built from ``leaves`` (one per input).

    ``+ - * / **`` and unary minus are Python's operators, so they work on
    Values, floats and tensors alike; the other ops come from ``functions``.
    ``nudge=(k, h)`` adds h to node k as soon as it is computed (floats only):
    the output then moves by about h times the output's gradient at node k.
    """
    if len(leaves) != len(graph.inputs):
        raise ValueError(f"expected {len(graph.inputs)} leaves, got {len(leaves)}")
    nodes = list(leaves)
    if nudge is not None and nudge[0] < len(nodes):
        nodes[nudge[0]] += nudge[1]
    for step in graph.steps:
        args = [nodes[a.index] if isinstance(a, Ref) else a.value for a in step.args]
        nodes.append(_apply(step.op, args, functions))
        if nudge is not None and nudge[0] == len(nodes) - 1:
            nodes[-1] += nudge[1]
    return nodes


def _apply(name: str, args: list[Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    if name == "add":
        return args[0] + args[1]
    if name == "sub":
        return args[0] - args[1]
    if name == "mul":
        return args[0] * args[1]
    if name == "div":
        return args[0] / args[1]
    if name == "pow":
        return args[0] ** args[1]
    if name == "neg":
        return -args[0]
    return functions[name](*args)


def op_counts(graphs: Iterable[Graph]) -> Counter[str]:
    """For each op (and each kind of a binary op), the number of graphs it appears in."""
    counts: Counter[str] = Counter()
    for graph in graphs:
        counts.update(graph.ops_used())
    return counts


class OpTally:
    """The graphs checked so far, counted by op (see ``op_counts``)."""

    def __init__(self) -> None:
        self.graphs = 0
        self.counts: Counter[str] = Counter()

    def add(self, graph: Graph) -> None:
        self.graphs += 1
        self.counts.update(graph.ops_used())

    def __str__(self) -> str:
        return format_op_counts(self.counts, self.graphs)


def format_op_counts(counts: Counter[str], graphs: int) -> str:
    """``op_counts`` as lines "op: n graphs", every op of OPS first, in OPS order."""
    width = max(map(len, counts), default=0)
    names = [*OPS, *sorted(set(counts) - set(OPS))]
    lines = [f"{name:<{width}}  {counts[name]:>5} of {graphs} graphs" for name in names]
    return "\n".join(lines)


def _float_weighted_sum(*wxb: float) -> float:
    n = (len(wxb) - 1) // 2
    out = 0.0
    for w, x in zip(wxb[:n], wxb[n : 2 * n]):
        out += w * x
    return out + wxb[-1]


# Plain floats through the math module: an evaluator that shares nothing with
# the engine's rules, for finite differences and for checking values.
FLOAT_FUNCTIONS: dict[str, Callable[..., float]] = {
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x)),
    "relu": lambda x: x if x > 0.0 else 0.0,
    "weighted_sum": _float_weighted_sum,
    "total": lambda *xs: math.fsum(xs),
    "sqrt": math.sqrt,
    "abs": math.fabs,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "atan2": math.atan2,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "log1p": math.log1p,
    "expm1": math.expm1,
    "log2": math.log2,
    "log10": math.log10,
    "exp2": lambda x: 2.0**x,
    "hypot": math.hypot,
    "minimum": min,
    "maximum": max,
    "softplus": lambda x: math.log1p(math.exp(x)),  # exp(x) is finite: x <= BOUND
    "leaky_relu": lambda x, slope: x if x > 0.0 else slope * x,
    "mod": lambda x, c: x % c,
}


def _value_weighted_sum(*wxb: Any) -> Value:
    n = (len(wxb) - 1) // 2
    return weighted_sum(wxb[:n], wxb[n : 2 * n], wxb[-1])


# The ops of one argument as a user writes them, as methods: ``x.sin()`` is
# the built-in op ``sin`` (tinygrad_bp/functions.py), ``x.exp()`` Value's own.
METHODS = (
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "log1p",
    "expm1",
    "log2",
    "log10",
    "exp2",
    "softplus",
)

# tinygrad_bp: every op as a user reaches it, the built-in ops all. abs and %
# through Python's abs() and operator, leaky_relu as a method with its slope,
# the ops of two arguments as functions, weighted_sum and total as one node each.
VALUE_FUNCTIONS: dict[str, Callable[..., Value]] = {
    **{name: methodcaller(name) for name in METHODS},
    "abs": abs,
    "mod": operator.mod,
    "leaky_relu": lambda x, slope: x.leaky_relu(slope),
    "atan2": atan2,
    "hypot": hypot,
    "minimum": minimum,
    "maximum": maximum,
    "weighted_sum": _value_weighted_sum,
    "total": lambda *xs: total(xs),
}


class _Builder:
    """Grows a graph step by step, knowing every node's float value."""

    def __init__(self, rng: random.Random, inputs: Sequence[float]) -> None:
        self.rng = rng
        self.inputs = tuple(inputs)
        self.values = list(inputs)
        self.steps: list[Step] = []

    # -- choosing operands ------------------------------------------------
    def ref(self, ok: Callable[[float], bool] = lambda v: True) -> Ref | None:
        """An earlier node satisfying ``ok``, recent ones likelier; often a reused one."""
        candidates = [i for i, v in enumerate(self.values) if ok(v)]
        if not candidates:
            return None
        if self.rng.random() < 0.6:  # prefer the last few nodes: deeper chains
            return Ref(candidates[-1 - min(self.rng.randrange(3), len(candidates) - 1)])
        return Ref(self.rng.choice(candidates))

    def const(self) -> Const:
        return Const(round(self.rng.uniform(-3.0, 3.0), 3))

    def arg(self) -> Arg:
        if self.rng.random() < 0.25:
            return self.const()
        ref = self.ref()
        assert ref is not None  # there is always at least one input
        return ref

    def value(self, a: Arg) -> float:
        return self.values[a.index] if isinstance(a, Ref) else a.value

    # -- adding steps -----------------------------------------------------
    def push(self, op: str, *args: Arg) -> Ref | None:
        """Append a step if its value is finite and within BOUND; its Ref, or None."""
        if not any(isinstance(a, Ref) for a in args):
            args = (self.ref() or Ref(0),) + args[1:]
        try:
            v = _apply(op, [self.value(a) for a in args], FLOAT_FUNCTIONS)
        except (ArithmeticError, ValueError):
            return None
        if isinstance(v, complex) or not math.isfinite(v) or abs(v) > BOUND:
            return None
        self.steps.append(Step(op, tuple(args)))
        self.values.append(v)
        return Ref(len(self.values) - 1)

    def positive(self) -> Ref | None:
        """A node at least MARGIN above 0: an existing one, or one positive by its form."""
        choice = self.rng.randrange(4)
        if choice == 0:
            found = self.ref(lambda v: v >= MARGIN)
            if found is not None:
                return found
        a = self.ref()
        assert a is not None
        if choice <= 1 and self.values[a.index] >= math.log(MARGIN):
            return self.push("exp", a)  # e^a >= MARGIN here
        if choice == 2:
            s = self.push("sigmoid", a)
            return None if s is None else self.push("add", s, Const(MARGIN))
        sq = self.push("mul", a, a)  # a*a: a shared node with two edges
        return None if sq is None else self.push("add", sq, Const(0.5))

    def unit(self) -> Ref | None:
        """A node within ±UNIT: an existing one, or UNIT·tanh of one."""
        if self.rng.random() < 0.5:
            found = self.ref(lambda v: abs(v) <= UNIT)
            if found is not None:
                return found
        a = self.ref()
        assert a is not None
        t = self.push("tanh", a)
        return None if t is None else self.push("mul", t, Const(UNIT))

    def two(self) -> tuple[Arg, Arg]:
        """Two arguments, at least one of them a node."""
        a, b = self.arg(), self.arg()
        if not isinstance(a, Ref) and not isinstance(b, Ref):
            a = self.ref() or Ref(0)
        return a, b

    def away_from_zero(self) -> Arg | None:
        if self.rng.random() < 0.2:
            c = self.rng.choice([-2.5, -0.5, 0.75, 1.5, 3.0])
            return Const(c)
        if self.rng.random() < 0.5:
            return self.ref(lambda v: abs(v) >= MARGIN) or self.positive()
        return self.positive()

    # -- one op -----------------------------------------------------------
    def add_op(self, op: str) -> Ref | None:
        rng = self.rng
        if op in ("add", "sub", "mul"):
            return self.push(op, self.arg(), self.arg())
        if op == "div":
            num = self.arg()
            den = self.away_from_zero()
            return None if den is None else self.push("div", num, den)
        if op in ("neg", "tanh", "sigmoid"):
            a = self.ref()
            return None if a is None else self.push(op, a)
        if op == "exp":
            a = self.ref(lambda v: v <= math.log(BOUND))
            return None if a is None else self.push("exp", a)
        if op == "log":
            a = self.positive()
            return None if a is None else self.push("log", a)
        if op == "relu":
            a = self.ref(lambda v: abs(v) >= KINK_MARGIN)
            return None if a is None else self.push("relu", a)
        if op == "pow":
            return self.add_pow()
        if op == "weighted_sum":
            n = rng.randint(1, 3)
            args = [self.arg() for _ in range(2 * n + 1)]
            return self.push("weighted_sum", *args)
        if op == "total":
            return self.push("total", *[self.arg() for _ in range(rng.randint(1, 4))])
        return self.add_math_op(op)

    def add_math_op(self, op: str) -> Ref | None:
        """One of the ops that mirror Python's math module and the piecewise ops."""
        a: Arg | None
        if op in ("sin", "cos", "atan", "softplus"):
            a = self.ref()
        elif op == "tan":  # |cos| >= 0.2: |tan| <= 5 and tan' <= 26
            a = self.ref(lambda v: abs(math.cos(v)) >= 0.2)
        elif op in ("asin", "acos"):
            a = self.unit()
        elif op in ("sqrt", "log2", "log10"):
            a = self.positive()
        elif op == "log1p":
            a = self.ref(lambda v: v >= MARGIN - 1.0) or self.positive()
        elif op in ("sinh", "cosh", "expm1"):
            a = self.ref(lambda v: abs(v) <= math.log(BOUND))
        elif op == "exp2":
            a = self.ref(lambda v: v <= math.log2(BOUND))
        elif op == "abs":
            a = self.ref(lambda v: abs(v) >= KINK_MARGIN)
        else:
            return self.add_math_op2(op)
        return None if a is None else self.push(op, a)

    def add_math_op2(self, op: str) -> Ref | None:
        """The ops of two arguments among them, each kept away from its kinks."""
        if op == "leaky_relu":
            x = self.ref(lambda v: abs(v) >= KINK_MARGIN)
            slope: Arg | None = Const(self.rng.choice([0.01, 0.1, 0.2, -0.5]))
            if self.rng.random() < 0.25:  # a learnable slope, as in PReLU
                slope = self.ref()
            return None if x is None or slope is None else self.push(op, x, slope)
        if op == "mod":
            x = self.const() if self.rng.random() < 0.2 else self.ref()  # also number % Value
            c = self.away_from_zero()
            if x is None or c is None:
                return None
            q = self.value(x) / self.value(c)
            if not JUMP_MARGIN <= q - math.floor(q) <= 1.0 - JUMP_MARGIN:
                return None  # too near a jump of x % c
            return self.push(op, x, c)
        a, b = self.two()
        u, v = self.value(a), self.value(b)
        if op in ("minimum", "maximum") and abs(u - v) < KINK_MARGIN:
            return None  # too near a tie
        if op in ("hypot", "atan2") and math.hypot(u, v) < MARGIN:
            return None  # too near the origin
        if op == "atan2" and v < 0.0 and abs(u) < MARGIN:
            return None  # too near the cut along the negative x axis
        if op not in ("minimum", "maximum", "hypot", "atan2"):
            raise ValueError(f"unknown op {op!r}")
        return self.push(op, a, b)

    def add_pow(self) -> Ref | None:
        kind = self.rng.randrange(4)
        if kind == 0:  # Value ** whole number: any base, away from 0 if negative power
            p = self.rng.choice([2.0, 3.0, -1.0, -2.0])
            base = self.ref() if p > 0 else self.away_from_zero()
            return None if not isinstance(base, Ref) else self.push("pow", base, Const(p))
        if kind == 1:  # Value ** fraction: a positive base
            base = self.positive()
            p = self.rng.choice([0.5, 1.5, -0.5, 2.5])
            return None if base is None else self.push("pow", base, Const(p))
        if kind == 2:  # number ** Value: a positive number
            e = self.ref(lambda v: abs(v) <= 3.0)
            b = self.rng.choice([0.5, 2.0, 3.0, math.e])
            return None if e is None else self.push("pow", Const(b), e)
        base = self.positive()  # Value ** Value: ln(base) must exist
        e = self.ref(lambda v: abs(v) <= 3.0)
        return None if base is None or e is None else self.push("pow", base, e)

    def finish(self) -> Graph:
        """Sum every node nothing else uses, so that every node reaches the output."""
        used = {a.index for s in self.steps for a in s.args if isinstance(a, Ref)}
        sinks = [Ref(i) for i in range(len(self.values)) if i not in used]
        if len(sinks) > 1 or not self.steps:
            self.steps.append(Step("total", tuple(sinks)))
        return Graph(self.inputs, tuple(self.steps))


def random_graph(rng: random.Random, max_inputs: int = 4, max_steps: int = 12) -> Graph:
    """A random expression graph over 1..max_inputs inputs in [-2, 2]."""
    inputs = [round(rng.uniform(-2.0, 2.0), 4) for _ in range(rng.randint(1, max_inputs))]
    builder = _Builder(rng, inputs)
    for _ in range(rng.randint(1, max_steps)):
        builder.add_op(rng.choice(OPS))  # an op that cannot be placed is skipped
    return builder.finish()
