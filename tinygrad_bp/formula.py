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
and what a formula may hold.

Numbers are floats from the start, so arithmetic on numbers alone is float
arithmetic: ``9**9**9`` is a float overflow, refused at once, never an
integer of 370 million digits. Everything that can be refused (syntax,
names, functions, numbers) is refused before the first Value is made.

>>> f = build("tanh(x*w + b)", {"x": 2.0, "w": -0.5, "b": 0.25})
>>> f.root.label, round(f.root.data, 6), [v.label for v in f.leaves.values()]
('out', -0.635149, ['x', 'w', 'b'])
>>> f.root.backward(); round(f.leaves["w"].grad, 6)
1.193172
"""

from __future__ import annotations

import ast
import importlib
import keyword
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType

from . import engine
from .engine import Op, Value

# Long enough for any formula typed on a command line; past it the text is not read.
MAX_LENGTH = 10_000
# Python's own parser gives up at 200 nested brackets with a message about
# "parentheses"; this says so sooner and in the formula's terms.
MAX_NESTING = 100

_OPERATORS: dict[type[ast.AST], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}

# What the refused syntax is called in a message, by node type (anything else: its class name).
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "conditional expressions (... if ... else ...)",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.JoinedStr: "f-strings",
    ast.Starred: "starred arguments (*x)",
    ast.List: "lists",
    ast.Tuple: "tuples (a comma makes one)",
    ast.Set: "sets",
    ast.Dict: "dictionaries",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
    ast.Mod: "the operator %",
    ast.FloorDiv: "the operator //",
    ast.MatMult: "the operator @",
    ast.LShift: "the operator <<",
    ast.RShift: "the operator >>",
    ast.BitAnd: "the operator &",
    ast.BitOr: "the operator |",
    ast.BitXor: "the operator ^ (for a power, write **)",
    ast.UAdd: "unary plus",
    ast.Not: "not",
    ast.Invert: "the operator ~",
}


class FormulaError(ValueError):
    """A formula that cannot be built; the message names what is wrong and what is allowed."""


@dataclass(frozen=True)
class Formula:
    """A built formula: its ``root`` Value and its named ``leaves`` in order of first use."""

    text: str
    root: Value
    leaves: dict[str, Value] = field(default_factory=dict)
    expression: str = ""  # the text after ``NAME =``, or all of it


# -- the functions a formula may call -----------------------------------------------------
def functions() -> dict[str, Op]:
    """Every op a formula may call, by name: the library's ops whose names are Python names.

    Looked up each time from the engine, the package's exports and
    ``tinygrad_bp.functions`` (where the math module's functions live), so
    an op added there is callable in a formula without touching this file.

    >>> [name for name in ("exp", "log", "tanh", "sigmoid", "relu") if name in functions()]
    ['exp', 'log', 'tanh', 'sigmoid', 'relu']
    """
    found: dict[str, Op] = {}
    for module in _op_modules():
        for value in vars(module).values():
            if isinstance(value, Op) and _callable_name(value.name):
                found.setdefault(value.name, value)
    return dict(sorted(found.items()))


def _op_modules() -> Iterable[ModuleType]:
    yield engine
    package = sys.modules.get(__package__ or "tinygrad_bp")
    if package is not None:
        yield package
    try:
        yield importlib.import_module(f"{__package__}.functions")
    except ModuleNotFoundError as e:
        if e.name != f"{__package__}.functions":
            raise  # the module is there but broken: that is worth seeing


def _callable_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")


def allowed(names: Iterable[str] | None = None) -> str:
    """What a formula may hold, for the end of a refusal."""
    calls = ", ".join(names if names is not None else functions())
    return (
        "a formula has numbers, names given a value as NAME=VALUE, + - * / **, unary minus, "
        f"parentheses and calls of {calls}"
    )


# -- NAME=VALUE ------------------------------------------------------------------------------
def parse_values(arguments: Sequence[str]) -> dict[str, float]:
    """``["x=2", "w=-0.5"]`` as ``{"x": 2.0, "w": -0.5}``, each name once, each value finite.

    >>> parse_values(["x1=2", "b=6.8813735870195432"])
    {'x1': 2.0, 'b': 6.881373587019543}
    """
    values: dict[str, float] = {}
    for text in arguments:
        name, equals, number = text.partition("=")
        name = name.strip()
        if not equals:
            raise FormulaError(f"{text!r} is not NAME=VALUE; give each name a number, as x=2")
        _check_name(name, f"in {text!r}")
        try:
            value = float(number)
        except ValueError:
            raise FormulaError(
                f"{text!r}: {number.strip()!r} is not a number; expected NAME=NUMBER, as x=2"
            ) from None
        if not math.isfinite(value):
            raise FormulaError(f"{text!r}: expected a finite number, got {number.strip()!r}")
        if name in values:
            raise FormulaError(f"{name} is given twice ({name}={values[name]!r} and {text!r})")
        values[name] = value
    return values


def _check_name(name: str, where: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise FormulaError(f"{where}: {name!r} is not a name; a name is letters, digits and _")
    if name.startswith("__"):
        raise FormulaError(f"{where}: names starting with __ are not allowed ({name})")
    if name in functions():
        raise FormulaError(f"{where}: {name} is a function; give the value another name")


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
        _check_name(name, "a value")
    text = text.strip()
    result_name, expression = _parse(text)
    ops = functions()
    nodes = _checked_nodes(text, expression, ops)
    used = _names(text, nodes, ops)
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
    _check_arities(text, nodes, ops)
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


def _parse(text: str) -> tuple[str | None, ast.expr]:
    """The result's name (or None) and the expression, parsed but not yet checked."""
    if not text.strip():
        raise FormulaError(f"the formula is empty; {allowed()}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"the formula is {len(text):,} characters long; at most {MAX_LENGTH:,} are read"
        )
    depth = deepest = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise FormulaError(
            f"the formula nests brackets {deepest} deep; at most {MAX_NESTING} are allowed"
        )
    try:
        tree = ast.parse(text, mode="exec")
    except SyntaxError as e:
        if "integer string conversion" in str(e.msg):
            raise FormulaError(
                "a number in the formula has thousands of digits; numbers are floats "
                "(at most about 1.8e308)"
            ) from None
        where = f" at column {e.offset}" if e.offset and "\n" not in text else ""
        raise FormulaError(f"not a formula: {e.msg}{where}; {allowed()}") from None
    except (RecursionError, MemoryError):
        raise FormulaError(
            "the formula is nested too deeply for Python's parser to read; "
            "split it or use fewer operators in a row"
        ) from None
    except ValueError as e:  # a NUL character
        raise FormulaError(f"not a formula: {e}") from None
    if len(tree.body) != 1:
        raise FormulaError(f"expected one formula, got {len(tree.body)} statements; {allowed()}")
    statement = tree.body[0]
    if isinstance(statement, ast.Expr):
        return None, statement.value
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        name = statement.targets[0].id
        _check_name(name, "the result's name")
        return name, statement.value
    kind = type(statement).__name__.lower()
    article = "an" if kind[0] in "aeiou" else "a"
    raise FormulaError(
        f"{article} {kind} statement ({_segment(text, statement)}) is not a formula; "
        f"{allowed()}, optionally after NAME = to name the result"
    )


def _segment(text: str, node: ast.AST, limit: int = 60) -> str:
    """The part of ``text`` that ``node`` was read from, cut short if long."""
    part = ast.get_source_segment(text, node) or type(node).__name__
    part = " ".join(part.split())
    return part if len(part) <= limit else part[: limit - 3] + "..."


def _checked_nodes(text: str, expression: ast.expr, ops: Mapping[str, Op]) -> list[ast.AST]:
    """Every node of the expression, parents before children, each one of the allowed types.

    An explicit stack, not recursion: a formula of a thousand terms is fine.
    """
    nodes: list[ast.AST] = []
    stack: list[ast.AST] = [expression]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _OPERATORS:
                _refuse(text, node, node.op, ops)
            stack += (node.right, node.left)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub):
                _refuse(text, node, node.op, ops)
            stack.append(node.operand)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                _refuse(text, node.func, node.func, ops)
            if not isinstance(node.func, ast.Name):
                raise FormulaError(
                    f"only a function is called, by its name ({_segment(text, node)}); "
                    f"the functions are {', '.join(ops)}"
                )
            if node.keywords:
                raise FormulaError(
                    f"keyword arguments ({_segment(text, node.keywords[0])}) are not allowed; "
                    f"pass arguments in order, as {node.func.id}(x)"
                )
            name = node.func.id
            if name not in ops:
                raise FormulaError(
                    f"unknown function {name}() in {_segment(text, node)}; "
                    f"the functions are {', '.join(ops)}"
                )
            stack += reversed(node.args)
        elif isinstance(node, ast.Name):
            pass
        elif isinstance(node, ast.Constant):
            _number(text, node)
        else:
            _refuse(text, node, node, ops)
    return nodes


def _refuse(text: str, node: ast.AST, kind: ast.AST, ops: Mapping[str, Op]) -> None:
    what = _REFUSED.get(type(kind), type(kind).__name__)
    raise FormulaError(f"not allowed: {what}, in {_segment(text, node)}; {allowed(ops)}")


def _number(text: str, node: ast.Constant) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "complex number" if isinstance(value, complex) else type(value).__name__
        raise FormulaError(f"{_segment(text, node)} is a {kind}, not a real number; {allowed()}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise FormulaError(
            f"the number {_segment(text, node, 20)} is too large for a float "
            "(at most about 1.8e308)"
        )
    return number


def _names(text: str, nodes: Sequence[ast.AST], ops: Mapping[str, Op]) -> list[str]:
    """The names the formula reads, in order of first use (left to right)."""
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    found: list[tuple[int, int, str]] = []
    for node in nodes:
        if isinstance(node, ast.Name) and id(node) not in called:
            name = node.id
            if name.startswith("__"):
                raise FormulaError(
                    f"names starting with __ are not allowed ({name}); {allowed(ops)}"
                )
            if name in ops:
                raise FormulaError(f"{name} is a function: call it, as {name}(x)")
            found.append((node.lineno, node.col_offset, name))
    return list(dict.fromkeys(name for *_, name in sorted(found)))


def _check_arities(text: str, nodes: Sequence[ast.AST], ops: Mapping[str, Op]) -> None:
    for node in nodes:
        if isinstance(node, ast.Call):
            op = ops[node.func.id]  # type: ignore[attr-defined]
            n = len(node.args)
            if not op.least <= n <= op.most:
                count = str(op.least) if op.least == op.most else f"{op.least} to {op.most}"
                s = "" if count == "1" else "s"
                raise FormulaError(
                    f"{op.name} takes {count} argument{s}, got {n} in {_segment(text, node)}"
                )


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
            results[id(node)] = _one(text, node, results, leaves, ops)
        except FormulaError:
            raise
        except (ArithmeticError, ValueError, TypeError) as e:
            raise FormulaError(f"cannot compute {_segment(text, node)}: {e}") from None
    return results[id(nodes[0])]


def _one(
    text: str,
    node: ast.AST,
    results: Mapping[int, Operand],
    leaves: Mapping[str, Value],
    ops: Mapping[str, Op],
) -> Operand:
    if isinstance(node, ast.Constant):
        return _number(text, node)
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
            f"{_segment(text, node)} is too large for a float ({a!r} {_OPERATORS[kind]} {b!r})"
        ) from None
    except ZeroDivisionError:
        raise FormulaError(f"{_segment(text, node)} divides by zero") from None
    if isinstance(r, complex):
        raise FormulaError(
            f"{_segment(text, node)} has no real value ({a!r} ** {b!r}: "
            "a negative number to a fractional power)"
        )
    if not math.isfinite(r):
        raise FormulaError(f"{_segment(text, node)} is too large for a float ({r!r})")
    return r
