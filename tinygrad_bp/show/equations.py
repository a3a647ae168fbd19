"""A node's equation as the article writes it: ``net_h1 = w1·i1 + w2·i2 + b1``, then in numbers.

The stepper shows one per forward step. Ops written between their operands
are infix (``x + 1``, ``y % x``); every other op is a call by its name
(``sin(x)``, ``atan2(y, x)``). A number the node kept is written out; one it
did not keep stands as ``…``.

>>> from tinygrad_bp import Value
>>> x = Value(3.0, "x")
>>> y = x * 2.5
>>> print(forward_equation(y, {x: "x", y: "y"}, lambda f: f"{f:g}"))
y = x × 2.5
  = 3 × 2.5 = 7.5
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .. import engine
from ..engine import Value, WithNumber
from ..layer import Net
from ..ops import sum_op
from .formatting import printable

MAX_TERMS = 12  # a forward equation lists at most this many terms or arguments

# Ops written between their two operands ("*" is shown as ×); every other op
# is written as a function of its arguments, by its name: sin(x), atan2(y, x).
INFIX = {
    engine.add: "+",
    engine.sub: "-",
    engine.mul: "×",
    engine.div: "/",
    engine.pow: "**",
    engine.mod: "%",
}
# What stands for plain-number arguments, which are constants and get no node.
CONSTANT = "…"
CONSTANT_NOTE = f"({CONSTANT} stands for plain numbers: constants, which are not drawn)"


def forward_equation(v: Value, names: Mapping[Value, str], n: Callable[[float], str]) -> str:
    """``v = how it was made`` and the same with numbers, as the article writes it."""
    symbols, numbers, note = how_made(v, names, n)
    lhs = names[v]
    pad = " " * len(lhs)
    lines = [f"{lhs} = {symbols}", f"{pad} = {numbers} = {n(v.data)}"]
    if note:
        lines.append(f"{pad}   {note}")
    return "\n".join(lines)


def how_made(
    v: Value, names: Mapping[Value, str], n: Callable[[float], str]
) -> tuple[str, str, str]:
    """The right-hand side of ``v``'s equation in names and in numbers, and a note."""
    ps = v.parents
    op = v.creator
    if isinstance(v, Net) and v.b is not None and len(v.w) == len(v.x):
        # Every operand a Value (as a layer makes them): wᵢ·xᵢ pairs and the bias.
        pairs = list(zip(v.w, v.x))
        symbols = joined([*(f"{names[w]}·{names[x]}" for w, x in pairs), names[v.b]], " + ")
        numbers = joined([*(f"{n(w.data)} × {n(x.data)}" for w, x in pairs), n(v.b.data)], " + ")
        return symbols, numbers, ""
    if isinstance(v, WithNumber):
        # An op of a Value and a number keeps both, in the order they came.
        operands = v.args
        symbols_of = [names[a] if isinstance(a, Value) else n(a) for a in operands]
        numbers_of = [n(a.data) if isinstance(a, Value) else n(a) for a in operands]
        if op in INFIX:
            sym = INFIX[op]
            return f" {sym} ".join(symbols_of), f" {sym} ".join(numbers_of), ""
        name = op_name(v)
        return f"{name}({', '.join(symbols_of)})", f"{name}({', '.join(numbers_of)})", ""
    if op in INFIX and len(ps) == 2:
        sym = INFIX[op]
        return (
            f"{names[ps[0]]} {sym} {names[ps[1]]}",
            f"{n(ps[0].data)} {sym} {n(ps[1].data)}",
            "",
        )
    if op is engine.mul and len(ps) == 1:
        # v = p × c: the local derivative recorded on the edge is the constant itself.
        c = n(v.local_grads[0])
        return f"{names[ps[0]]} × {c}", f"{n(ps[0].data)} × {c}", ""
    if (op is engine.add or op is engine.sub) and len(ps) == 1:
        # The sign of the local derivative says on which side the constant was.
        sym = INFIX[op]
        p = ps[0]
        if op is engine.add or v.local_grads[0] > 0:
            return (
                f"{names[p]} {sym} {CONSTANT}",
                f"{n(p.data)} {sym} {CONSTANT}",
                CONSTANT_NOTE,
            )
        return f"{CONSTANT} - {names[p]}", f"{CONSTANT} - {n(p.data)}", CONSTANT_NOTE
    if op is engine.neg and len(ps) == 1:
        return f"-{names[ps[0]]}", f"-({n(ps[0].data)})", ""
    if op is sum_op and sum((p.data for p in ps), 0.0) == v.data:
        return (
            joined([names[p] for p in ps], " + "),
            joined([n(p.data) for p in ps], " + "),
            "",
        )
    # A function of its arguments, by the op's name. A constant is certain
    # where an op has fewer edges than it takes arguments (a plain number
    # gets no edge), and where a sum or a net does not add up without one.
    missing = op is not None and (
        len(ps) < op.least or (op in INFIX and len(ps) < 2) or op is sum_op or isinstance(v, Net)
    )
    tail = [CONSTANT] if missing else []
    name = op_name(v)
    return (
        f"{name}({joined([*(names[p] for p in ps), *tail], ', ')})",
        f"{name}({joined([*(n(p.data) for p in ps), *tail], ', ')})",
        CONSTANT_NOTE if missing else "",
    )


def op_name(v: Value) -> str:
    """The name of the op that made ``v``, as text (a user's op may be named anything)."""
    return printable(v.op or "?")


def joined(items: Sequence[str], sep: str) -> str:
    """``items`` joined by ``sep``; past MAX_TERMS, the middle ones are counted, not listed."""
    if len(items) <= MAX_TERMS:
        return sep.join(items)
    half = MAX_TERMS // 2
    return sep.join([*items[:half], f"⋯ ({len(items) - 2 * half} more)", *items[-half:]])
