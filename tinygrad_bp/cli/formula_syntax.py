"""A formula's text read and checked against what a formula may hold, before any Value is made.

What a formula may hold: numbers, names, ``+ - * / **``, unary minus,
parentheses and calls of the library's ops by name (``functions()``). The
text is parsed with ``ast`` and every node of the tree checked against
that allowlist; nothing is evaluated, compiled or imported. What is not
allowed is refused with a ``FormulaError`` that names it. ``formula.py``
builds the graph from a tree that passed.

>>> name, expression = parse("f = x * 2")
>>> name, [type(n).__name__ for n in checked_nodes("x * 2", expression, functions())]
('f', ['BinOp', 'Name', 'Constant'])
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Iterable, Mapping, Sequence

from ..value import OPS, Op

# Long enough for any formula typed on a command line; past it the text is not read.
MAX_LENGTH = 10_000
# Python's own parser gives up at 200 nested brackets with a message about
# "parentheses"; this says so sooner and in the formula's terms.
MAX_NESTING = 100

OPERATORS: dict[type[ast.AST], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}

# What the refused syntax is called in a message, by node type (anything else: its class name).
REFUSED: dict[type[ast.AST], str] = {
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


# -- the functions a formula may call -----------------------------------------------------
def functions() -> dict[str, Op]:
    """Every op a formula may call, by name: the op table's ops whose names are Python names.

    Read from the table (``OPS``) each time, so an op added there is
    callable in a formula without touching this file.

    >>> [name for name in ("exp", "log", "tanh", "sigmoid", "relu") if name in functions()]
    ['exp', 'log', 'tanh', 'sigmoid', 'relu']
    """
    return {name: op for name, op in sorted(OPS.items()) if _callable_name(name)}


def _callable_name(name: str) -> bool:
    # ASCII names only: Σ (total) is an identifier to Python, but not a formula's function.
    return (
        name.isascii()
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
    )


def allowed(names: Iterable[str] | None = None) -> str:
    """What a formula may hold, for the end of a refusal."""
    calls = ", ".join(names if names is not None else functions())
    return (
        "a formula has numbers, names given a value as NAME=VALUE, + - * / **, unary minus, "
        f"parentheses and calls of {calls}"
    )


def check_name(name: str, where: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise FormulaError(f"{where}: {name!r} is not a name; a name is letters, digits and _")
    if name.startswith("__"):
        raise FormulaError(f"{where}: names starting with __ are not allowed ({name})")
    if name in functions():
        raise FormulaError(f"{where}: {name} is a function; give the value another name")


def parse(text: str) -> tuple[str | None, ast.expr]:
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
        check_name(name, "the result's name")
        return name, statement.value
    kind = type(statement).__name__.lower()
    article = "an" if kind[0] in "aeiou" else "a"
    raise FormulaError(
        f"{article} {kind} statement ({segment(text, statement)}) is not a formula; "
        f"{allowed()}, optionally after NAME = to name the result"
    )


def segment(text: str, node: ast.AST, limit: int = 60) -> str:
    """The part of ``text`` that ``node`` was read from, cut short if long."""
    part = ast.get_source_segment(text, node) or type(node).__name__
    part = " ".join(part.split())
    return part if len(part) <= limit else part[: limit - 3] + "..."


def checked_nodes(text: str, expression: ast.expr, ops: Mapping[str, Op]) -> list[ast.AST]:
    """Every node of the expression, parents before children, each one of the allowed types.

    An explicit stack, not recursion: a formula of a thousand terms is fine.
    """
    nodes: list[ast.AST] = []
    stack: list[ast.AST] = [expression]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.BinOp):
            if type(node.op) not in OPERATORS:
                refuse(text, node, node.op, ops)
            stack += (node.right, node.left)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub):
                refuse(text, node, node.op, ops)
            stack.append(node.operand)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                refuse(text, node.func, node.func, ops)
            if not isinstance(node.func, ast.Name):
                raise FormulaError(
                    f"only a function is called, by its name ({segment(text, node)}); "
                    f"the functions are {', '.join(ops)}"
                )
            if node.keywords:
                raise FormulaError(
                    f"keyword arguments ({segment(text, node.keywords[0])}) are not allowed; "
                    f"pass arguments in order, as {node.func.id}(x)"
                )
            name = node.func.id
            if name not in ops:
                raise FormulaError(
                    f"unknown function {name}() in {segment(text, node)}; "
                    f"the functions are {', '.join(ops)}"
                )
            stack += reversed(node.args)
        elif isinstance(node, ast.Name):
            pass
        elif isinstance(node, ast.Constant):
            number(text, node)
        else:
            refuse(text, node, node, ops)
    return nodes


def refuse(text: str, node: ast.AST, kind: ast.AST, ops: Mapping[str, Op]) -> None:
    what = REFUSED.get(type(kind), type(kind).__name__)
    raise FormulaError(f"not allowed: {what}, in {segment(text, node)}; {allowed(ops)}")


def number(text: str, node: ast.Constant) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "complex number" if isinstance(value, complex) else type(value).__name__
        raise FormulaError(f"{segment(text, node)} is a {kind}, not a real number; {allowed()}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise FormulaError(
            f"the number {segment(text, node, 20)} is too large for a float (at most about 1.8e308)"
        )
    return number


def names(text: str, nodes: Sequence[ast.AST], ops: Mapping[str, Op]) -> list[str]:
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


def check_arities(text: str, nodes: Sequence[ast.AST], ops: Mapping[str, Op]) -> None:
    for node in nodes:
        if isinstance(node, ast.Call):
            op = ops[node.func.id]  # type: ignore[attr-defined]
            n = len(node.args)
            if not op.least <= n <= op.most:
                count = str(op.least) if op.least == op.most else f"{op.least} to {op.most}"
                s = "" if count == "1" else "s"
                raise FormulaError(
                    f"{op.name} takes {count} argument{s}, got {n} in {segment(text, node)}"
                )
