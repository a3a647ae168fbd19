"""The templates' expressions over arrays: one value per example, NumPy doing the loop.

A template (``expressions.py``) is written for floats: ``a if c else b``
picks one branch, ``and``/``or``/``not`` test one number. Over a batch each
example may take its own branch, so ``array_code`` rewrites an expression
for arrays: ``a if c else b`` becomes ``where(c, a, b)``, ``and`` becomes
``logical_and`` (and so on), and each function of ``FUNCTIONS`` has its
NumPy twin here (``ARRAY_FUNCTIONS``), under the same name so that the code
reads as the template does. Both branches of a ``where`` are computed for
every example; what the branch not taken gives (an inf, a NaN) is thrown
away, and NumPy's warnings about it are switched off while the code runs.

Where the float code raises (``log(0)``, ``1 / 0``, an overflow), the array
code gives an inf or a NaN instead: the batched trace then runs the batch
again per example, which raises the engine's own error (``batched.py``).

>>> array_code("_z if (_z := 1.0 - y * s) > 0.0 else 0.0")
'where((_z := (1.0 - y * s)) > 0.0, _z, 0.0)'
>>> array_code("0.0 if x < 0.0 or not y >= 1.0 else x")
'where(logical_or(x < 0.0, logical_not(y >= 1.0)), 0.0, x)'
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class NoArrayFormError(Exception):
    """An expression with no array form here (a construct or a function it does not know)."""


def _pow_dx(x: Any, y: Any) -> Any:
    # rules.pow_dx over arrays: y·x^(y−1), 0 where y == 0; NumPy's pow gives the
    # rule's inf (a zero base to a negative power) and ±inf (an overflow) itself.
    return np.where(y == 0.0, 0.0, y * np.power(x, np.subtract(y, 1.0)))


# Each float function of FUNCTIONS and its twin over arrays. The helpers that keep a
# rule's edges (real_pow raises where ** is complex; cosh_or_inf gives inf where
# math.cosh raises) are NumPy's own functions here: the edge is an inf or a NaN,
# which sends the batch to the per-example code, as any inf or NaN does.
ARRAY_FUNCTIONS: dict[str, object] = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "atan2": np.arctan2,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "log2": np.log2,
    "log10": np.log10,
    "hypot": np.hypot,
    "fabs": np.fabs,
    "floordiv": np.floor_divide,
    "copysign": np.copysign,
    "isfinite": np.isfinite,
    "inf": np.inf,
    "nan": np.nan,
    "real_pow": np.power,
    "pow_dx": _pow_dx,
    "cosh_or_inf": np.cosh,
    "sinh_or_inf": np.sinh,
    "exp_or_inf": np.exp,
    "checked_hypot": np.hypot,
}

# What the batched code calls besides the functions: NumPy's own, by these names.
ARRAY_NAMES: dict[str, object] = {
    "where": np.where,
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_not": np.logical_not,
    "array": np.array,
    "zeros": np.zeros,
    "full": np.full,
    "add_at": np.add.at,
}


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


class _ForArrays(ast.NodeTransformer):
    """Rewrites a float expression's branches and tests for arrays (see the module docstring)."""

    ALLOWED = (
        ast.Expression,
        ast.BinOp,
        ast.UnaryOp,
        ast.Constant,
        ast.Name,
        ast.NamedExpr,
        ast.Subscript,
        ast.Slice,
        ast.Tuple,
        ast.Load,
        ast.Store,
        ast.operator,
        ast.USub,
        ast.UAdd,
        ast.cmpop,
        ast.boolop,
        ast.Not,
    )

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        return _call("where", node.test, node.body, node.orelse)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        name = "logical_and" if isinstance(node.op, ast.And) else "logical_or"
        return functools.reduce(lambda a, b: _call(name, a, b), node.values)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return _call("logical_not", node.operand)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) == 1:
            return node
        # a < b < c is (a < b) and (b < c): the middle term is computed twice.
        lefts = [node.left, *node.comparators[:-1]]
        pairs: list[ast.expr] = [
            ast.Compare(left=a, ops=[op], comparators=[b])
            for a, op, b in zip(lefts, node.ops, node.comparators)
        ]
        return functools.reduce(lambda a, b: _call("logical_and", a, b), pairs)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if not isinstance(node.func, ast.Name) or node.func.id not in ARRAY_FUNCTIONS:
            raise NoArrayFormError(f"no array form of the call {ast.unparse(node.func)!r}")
        if node.keywords:
            raise NoArrayFormError("keyword arguments")
        node.args = [self.visit(a) for a in node.args]
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if not isinstance(node, (*self.ALLOWED, ast.IfExp, ast.BoolOp, ast.Compare, ast.Call)):
            raise NoArrayFormError(f"no array form of {type(node).__name__}")
        return super().generic_visit(node)


@functools.lru_cache(maxsize=4096)
def array_code(expression: str) -> str:
    """``expression`` (a template's, on floats) rewritten to run on arrays of examples.

    Raises ``NoArrayFormError`` for what it cannot rewrite: the node is then run per example.

    >>> array_code("1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0")
    'where(x > 0.0, 1.0, where(x < 0.0, -1.0, 0.0))'
    """
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise NoArrayFormError(f"not an expression: {error}") from None
    return ast.unparse(_ForArrays().visit(tree))


def each_rule(
    rule: Callable[..., tuple[float, Sequence[float]]], size: int, *args: Any
) -> tuple[Any, list[Any]]:
    """An op with no array form, run per example: its rule on each example's numbers.

    ``args`` are arrays of ``size`` numbers, or numbers (the same for every
    example). Returns the values and, per argument, the local derivatives,
    each an array.

    >>> from tinygrad_bp.rules import mul
    >>> value, (d0, d1) = each_rule(mul, 2, np.array([1.0, 2.0]), 3.0)
    >>> value.tolist(), d0.tolist(), d1.tolist()
    ([3.0, 6.0], [3.0, 3.0], [1.0, 2.0])
    """
    columns = [np.broadcast_to(np.asarray(a, dtype=float), (size,)).tolist() for a in args]
    values = np.empty(size)
    locals_ = np.empty((len(args), size))
    for n, xs in enumerate(zip(*columns)):
        value, local = rule(*xs)
        values[n] = value
        locals_[:, n] = local
    return values, list(locals_)


def matrix(size: int, *columns: Any) -> Any:
    """The columns (arrays of ``size``, or numbers, the same in each row) side by side.

    >>> matrix(2, np.array([1.0, 2.0]), 5.0).tolist()
    [[1.0, 5.0], [2.0, 5.0]]
    """
    return np.column_stack([np.broadcast_to(np.asarray(c, dtype=float), (size,)) for c in columns])


def columns(examples: Sequence[Any], shape: Sequence[int | None]) -> list[Any]:
    """The examples as arrays, one per argument: a column, or a matrix for a list argument.

    ``shape`` gives, per argument, its length (a list) or None (a number).
    A ragged example, or one holding text, is a ValueError: the batch then
    goes to the per-example code, whose own check says what is wrong.

    >>> [a.tolist() for a in columns([([1, 2], 0), ([3, 4], 1)], [2, None])]
    [[[1.0, 2.0], [3.0, 4.0]], [0.0, 1.0]]
    """
    out = []
    for j, size in enumerate(shape):
        items = examples if len(shape) == 1 else [e[j] for e in examples]
        a = np.array(items)
        if a.dtype.kind not in "fiub" or a.shape != (
            (len(examples),) if size is None else (len(examples), size)
        ):
            raise ValueError(f"argument {j}: not {size or 'one'} number(s) per example")
        out.append(a.astype(float, copy=False))
    return out
