"""A formula written as text, built into a graph of Values: what ``tinygrad-bp draw "…"`` reads.

The language is a small part of Python's expression syntax: numbers, names,
``+ - * / **``, unary minus, parentheses, and calls of the library's ops by
name (``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``, ``abs``, and every
other op the library has: ``functions()`` lists them). A formula may start
with ``NAME =`` to name its result (``f = (x + y) * z``); otherwise the
result is called ``out``.

Each name is a leaf Value, labelled with the name, with its value given
apart (``values``); a name used twice is one node with two edges, as in
Python. The text is parsed with ``ast`` and the tree walked against an
allowlist of node types: nothing in it is evaluated, compiled or imported.
What the walk does not know is refused with a ``FormulaError`` naming it
and what a formula may hold (reading and checking: ``formula_syntax.py``).

Numbers are floats from the start, so arithmetic on numbers alone is float
arithmetic: ``9**9**9`` is a float overflow, refused at once, never an
integer of 370 million digits. Everything that can be refused (syntax,
names, functions, numbers) is refused before the first Value is made.
A value that overflows once the names have their values is refused too,
where it happens: ``x*1e308*10`` with x=1 as ``1e308*10`` is, and as
``exp(x)`` with x=1000 is (every value of a formula is finite; the
engine itself would carry the inf on, as float arithmetic does).

>>> f = build("tanh(x*w + b)", {"x": 2.0, "w": -0.5, "b": 0.25})
>>> f.root.label, round(f.root.data, 6), [v.label for v in f.leaves.values()]
('out', -0.635149, ['x', 'w', 'b'])
>>> f.root.backward(); round(f.leaves["w"].grad, 6)
1.193172
"""

from __future__ import annotations

import ast
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..value import Op, Value
from . import formula_syntax as syntax
from .formula_syntax import MAX_LENGTH, MAX_NESTING, FormulaError, allowed, functions

__all__ = [
    "MAX_LENGTH",
    "MAX_NESTING",
    "Formula",
    "FormulaError",
    "allowed",
    "build",
    "functions",
    "parse_values",
]


@dataclass(frozen=True)
class Formula:
    """A built formula: its ``root`` Value and its named ``leaves`` in order of first use."""

    text: str
    root: Value
    leaves: dict[str, Value] = field(default_factory=dict)
    expression: str = ""  # the text after ``NAME =``, or all of it


# -- NAME=VALUE ------------------------------------------------------------------------------
def identifier(name: str) -> str:
    """``name`` as Python reads it in a formula: NFKC-normalised (ﬁ is fi, ℌ is H).

    The formula's names pass through Python's parser, which normalises them
    so; a name given apart must be normalised the same to meet its use.

    >>> identifier("ﬁ"), identifier("ℌ")
    ('fi', 'H')
    """
    return unicodedata.normalize("NFKC", name)


def parse_values(arguments: Sequence[str]) -> dict[str, float]:
    """``["x=2", "w=-0.5"]`` as ``{"x": 2.0, "w": -0.5}``, each name once, each value finite.

    >>> parse_values(["x1=2", "b=6.8813735870195432"])
    {'x1': 2.0, 'b': 6.881373587019543}
    """
    values: dict[str, float] = {}
    given: dict[str, str] = {}  # each name's NAME=VALUE as typed
    for text in arguments:
        name, equals, number = text.partition("=")
        name = identifier(name.strip())
        if not equals:
            raise FormulaError(f"{text!r} is not NAME=VALUE; give each name a number, as x=2")
        syntax.check_name(name, f"in {text!r}")
        try:
            value = float(number)
        except ValueError:
            raise FormulaError(
                f"{text!r}: {number.strip()!r} is not a number; expected NAME=NUMBER, as x=2"
            ) from None
        if not math.isfinite(value):
            raise FormulaError(f"{text!r}: expected a finite number, got {number.strip()!r}")
        if name in values:
            # ℌ=1 and H=2 name one leaf: show both as given
            raise FormulaError(f"{name} is given twice ({given[name]!r} and {text!r})")
        values[name] = value
        given[name] = text
    return values


# -- reading the formula ---------------------------------------------------------------------
def build(text: str, values: Mapping[str, float]) -> Formula:
    """The graph of ``text`` with each name a leaf of its value in ``values``.

    Raises FormulaError if the text is not a formula, uses a name without a
    value or a function the library does not have, is given a value it does
    not use, or cannot be computed (``log(0)``, ``1/0``, an overflow).
    Backward is not run.

    >>> f = build("f = (x + y) * z", {"x": -2, "y": 5, "z": -4})
    >>> f.root.label, f.root.data
    ('f', -12.0)
    """
    if not isinstance(text, str):
        raise TypeError(f"formula: expected a str, got {type(text).__name__}")
    for name in values:
        syntax.check_name(name, "a value")
    text = text.strip()
    result_name, expression = syntax.parse(text)
    ops = functions()
    nodes = syntax.checked_nodes(text, expression, ops)
    used = syntax.names(text, nodes, ops)
    missing = [n for n in used if n not in values]
    if missing:
        shown = " ".join(f"{n}=NUMBER" for n in missing)
        raise FormulaError(
            f"the formula uses {_listed(missing)} but gives {'it' if len(missing) == 1 else 'them'}"
            f" no value; add {shown}"
        )
    unused = [n for n in values if n not in used]
    if unused:
        raise FormulaError(
            f"{_listed([f'{n}={values[n]!r}' for n in unused])} "
            f"{'is' if len(unused) == 1 else 'are'} given, but the formula does not use "
            f"{_listed(unused)}; every value given must appear in the formula"
        )
    if result_name is not None and result_name in values:
        raise FormulaError(f"{result_name} names the result and is also given a value")
    syntax.check_arities(text, nodes, ops)
    leaves = {name: Value(values[name], name) for name in used}
    result = _compute(text, nodes, leaves, ops)
    if isinstance(result, Value) and result.parents:
        result.label = result_name or _free_name("out", leaves)
    elif not isinstance(result, Value):  # a formula of numbers alone
        result = Value(result, result_name or _free_name("out", leaves))
    expression_text = ast.get_source_segment(text, expression) or text
    return Formula(text, result, leaves, expression_text)


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _free_name(base: str, taken: Mapping[str, object]) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}{k}"
    return name


Operand = Value | float


def _compute(
    text: str, nodes: Sequence[ast.AST], leaves: Mapping[str, Value], ops: Mapping[str, Op]
) -> Operand:
    """The formula's value: a Value, or a float for numbers alone, children before parents.

    Numbers combine as floats, as they do in Python before a Value meets
    them; wherever a Value is involved the op makes a node.
    """
    results: dict[int, Operand] = {}
    for node in reversed(nodes):  # children come after their parents in ``nodes``
        try:
            result = results[id(node)] = _one(text, node, results, leaves, ops)
        except FormulaError:
            raise
        except (ArithmeticError, ValueError, TypeError) as e:
            raise FormulaError(f"cannot compute {syntax.segment(text, node)}: {e}") from None
        if isinstance(result, Value) and not math.isfinite(result.data):
            # Every operand is finite (the leaves, the numbers and each node before it are):
            # this node overflowed, as exp(1000) would, and is refused as exp(1000) is.
            raise FormulaError(_overflow(text, node, results, result.data))
    return results[id(nodes[0])]


def _overflow(text: str, node: ast.AST, results: Mapping[int, Operand], r: float) -> str:
    """The message for a node whose value overflowed: its operands and what they gave."""
    if isinstance(node, ast.BinOp):
        a, b = (results[id(n)] for n in (node.left, node.right))
        a, b = (x.data if isinstance(x, Value) else x for x in (a, b))
        how = f"{a!r} {syntax.OPERATORS[type(node.op)]} {b!r} is {r!r}"
    else:
        how = f"it is {r!r}"
    return (
        f"{syntax.segment(text, node)} is too large for a float ({how}); every value in a "
        "formula must be finite, at most about 1.8e308"
    )


def _one(
    text: str,
    node: ast.AST,
    results: Mapping[int, Operand],
    leaves: Mapping[str, Value],
    ops: Mapping[str, Op],
) -> Operand:
    if isinstance(node, ast.Constant):
        return syntax.number(text, node)
    if isinstance(node, ast.Name):
        return leaves.get(node.id, 0.0)  # 0.0: a called function's name, never used
    if isinstance(node, ast.UnaryOp):
        return -results[id(node.operand)]
    if isinstance(node, ast.Call):
        return ops[node.func.id](*(results[id(a)] for a in node.args))  # type: ignore[attr-defined]
    assert isinstance(node, ast.BinOp)
    a, b = results[id(node.left)], results[id(node.right)]
    kind = type(node.op)
    if isinstance(a, Value) or isinstance(b, Value):
        if kind is ast.Add:
            return a + b
        if kind is ast.Sub:
            return a - b
        if kind is ast.Mult:
            return a * b
        if kind is ast.Div:
            return a / b
        return a**b
    return _fold(text, node, kind, a, b)


def _fold(text: str, node: ast.AST, kind: type[ast.AST], a: float, b: float) -> float:
    """Two numbers combined as Python combines floats; what is not a finite real is refused."""
    try:
        if kind is ast.Add:
            r = a + b
        elif kind is ast.Sub:
            r = a - b
        elif kind is ast.Mult:
            r = a * b
        elif kind is ast.Div:
            r = a / b
        else:
            r = a**b
    except OverflowError:
        raise FormulaError(
            f"{syntax.segment(text, node)} is too large for a float "
            f"({a!r} {syntax.OPERATORS[kind]} {b!r})"
        ) from None
    except ZeroDivisionError:
        raise FormulaError(f"{syntax.segment(text, node)} divides by zero") from None
    if isinstance(r, complex):
        raise FormulaError(
            f"{syntax.segment(text, node)} has no real value ({a!r} ** {b!r}: "
            "a negative number to a fractional power)"
        )
    if not math.isfinite(r):
        raise FormulaError(f"{syntax.segment(text, node)} is too large for a float ({r!r})")
    return r
