"""A node's equation as the article writes it: ``net_h1 = w1·i1 + w2·i2 + b1``, then in numbers.

The stepper shows one per forward step. Ops written between their operands
are infix (``x + 1``, ``y % x``); every other op is a call by its name
(``sin(x)``, ``atan2(y, x)``). A number among the arguments (a constant, not
drawn) is written out.

>>> from tinygrad_bp import Value
>>> x = Value(3.0, "x")
>>> y = x * 2.5
>>> print(forward_equation(y, {x: "x", y: "y"}, lambda f: f"{f:g}"))
y = x × 2.5
  = 3 × 2.5 = 7.5
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .. import ops
from ..value import Value
from .formatting import printable

MAX_TERMS = 12  # a forward equation lists at most this many terms or arguments

# Ops written between their two operands, by the op table's symbol ("*" shown
# as the article's ×); every other op is written as a function of its
# arguments, by its name: sin(x), atan2(y, x).
SHOWN_AS = {"*": "×"}


def infix(op: object) -> str | None:
    """The symbol ``op`` is written with between its operands, as shown; None for a call."""
    symbol = getattr(op, "infix", None)
    return None if symbol is None else SHOWN_AS.get(symbol, symbol)


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
    op = v.creator
    if op is ops.weighted_sum_op:
        # wᵢ·xᵢ pairs and the bias, as the article writes net_h1; numbers written out.
        half = (len(v.args) - 1) // 2
        pairs = list(zip(v.args[:half], v.args[half : 2 * half]))
        bias = v.args[-1]
        symbols = [f"{shown(w, names, n)}·{shown(x, names, n)}" for w, x in pairs]
        numbers = [f"{value(w, n)} × {value(x, n)}" for w, x in pairs]
        return (
            joined([*symbols, shown(bias, names, n)], " + "),
            joined([*numbers, value(bias, n)], " + "),
            "",
        )
    # Every argument as it came, in order: a Value by its name, a number written out.
    symbols_of = [shown(a, names, n) for a in v.args]
    numbers_of = [value(a, n) for a in v.args]
    symbol = infix(op)
    if symbol is not None and len(v.args) == 2:
        return f" {symbol} ".join(symbols_of), f" {symbol} ".join(numbers_of), ""
    if op is ops.neg:
        return f"-{symbols_of[0]}", f"-({numbers_of[0]})", ""
    if op is ops.total_op:
        return joined(symbols_of, " + "), joined(numbers_of, " + "), ""
    name = op_name(v)
    return f"{name}({joined(symbols_of, ', ')})", f"{name}({joined(numbers_of, ', ')})", ""


def shown(a: object, names: Mapping[Value, str], n: Callable[[float], str]) -> str:
    """An argument in an equation's first line: a Value's name, a number written out."""
    return names[a] if isinstance(a, Value) else n(float(a))  # type: ignore[arg-type]


def value(a: object, n: Callable[[float], str]) -> str:
    """An argument's number, in an equation's second line."""
    return n(a.data) if isinstance(a, Value) else n(float(a))  # type: ignore[arg-type]


def op_name(v: Value) -> str:
    """The name of the op that made ``v``, as text (a user's op may be named anything)."""
    return printable(v.op or "?")


def joined(items: Sequence[str], sep: str) -> str:
    """``items`` joined by ``sep``; past MAX_TERMS, the middle ones are counted, not listed."""
    if len(items) <= MAX_TERMS:
        return sep.join(items)
    half = MAX_TERMS // 2
    return sep.join([*items[:half], f"⋯ ({len(items) - 2 * half} more)", *items[-half:]])
