"""Gradients of gradients: the backward pass built as a graph, to be differentiated again.

``backward()`` multiplies floats: the local derivatives recorded on the
edges. ``grad(root, wrt, create_graph=True)`` runs the same chain rule on
Values instead, each local derivative made by ops from its op's template
(the expression the trace inlines, ``ops.py``), so that every gradient it
returns is a node of a graph that leads back to the inputs. Differentiate
it again for the second derivative, and again for the third; ``hessian``
and ``hvp`` are built on it.

>>> from tinygrad_bp import Value
>>> x = Value(2.0, "x")
>>> (dy,) = grad_graph(x**3, [x])      # 3x² = 12, as a Value
>>> (d2y,) = grad_graph(dy, [x])       # 6x = 12
>>> (d3y,) = grad_graph(d2y, [x])      # 6
>>> dy.data, d2y.data, d3y.data
(12.0, 12.0, 6.0)
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Sequence
from types import CodeType

from . import ops
from .value import Operand, Value, walk

Grad = Value | float  # a gradient so far: a node, or a constant (no graph yet)


def _value_of(x: Operand) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _pow_dx(x: Operand, y: Operand) -> Operand:
    # y·x^(y-1), as rules.pow_dx, but of Values: 0 at y == 0; inf (a constant) where
    # x^(y-1) divides by zero, at x == 0 with y < 1. At y == 0 the derivative is 0,
    # but a Value exponent still moves it (∂/∂y of y·x^(y-1) is 1/x there): built
    # by ops wherever x^(y-1) is finite.
    if _value_of(y) == 0.0:
        return y * x ** (y - 1.0) if isinstance(y, Value) and _value_of(x) != 0.0 else 0.0
    if _value_of(x) == 0.0 and _value_of(y) < 1.0:
        return math.inf
    return y * x ** (y - 1.0)


# What a template's expressions call, as ops on Values: the same names as the
# trace's floats (FUNCTIONS), so one expression serves both. A test holds the
# two tables to the same names. Where a float helper guards an edge of a
# float (an overflow), the op itself is used: it raises there.
VALUE_FUNCTIONS: dict[str, object] = {
    "exp": ops.exp,
    "log": ops.log,
    "tanh": ops.tanh,
    "sqrt": ops.sqrt,
    "sin": ops.sin,
    "cos": ops.cos,
    "tan": ops.tan,
    "asin": ops.asin,
    "acos": ops.acos,
    "atan": ops.atan,
    "atan2": ops.atan2,
    "sinh": ops.sinh,
    "cosh": ops.cosh,
    "log1p": ops.log1p,
    "expm1": ops.expm1,
    "log2": ops.log2,
    "log10": ops.log10,
    "hypot": ops.hypot,
    "fabs": ops.abs,
    # ⌊x/c⌋ is a step: a constant, whose own derivative is 0 (as %'s in c).
    "floordiv": lambda x, c: _value_of(x) // _value_of(c),
    # Edges whose result is a constant: the sign of an infinite slope, a test.
    "copysign": lambda x, y: math.copysign(_value_of(x), _value_of(y)),
    "isfinite": lambda x: math.isfinite(_value_of(x)),
    "inf": math.inf,
    "nan": math.nan,
    "real_pow": lambda x, y: x**y,
    "pow_dx": _pow_dx,
    "cosh_or_inf": ops.cosh,
    "sinh_or_inf": ops.sinh,
    "exp_or_inf": ops.exp,
    "checked_hypot": ops.hypot,
}


@functools.lru_cache(maxsize=4096)
def _compiled(expression: str) -> CodeType:
    # The op table's own expressions (or an op author's template), never text
    # from a file a user loads: the trace compiles the same ones.
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(o, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) for o in node.ops
        ):
            # On Values == is identity (they are dict keys), so x == 0.0 is always
            # False: a template that tests so would choose wrongly here, silently.
            raise ValueError(
                f"create_graph: the template expression {expression!r} compares with == or "
                "!=, which on Values is identity; write the test with <, <=, > and >= "
                "(0.0 <= x <= 0.0 for x == 0.0), as the built-in templates do"
            )
    return compile(tree, "<template>", "eval")


def local_values(node: Value) -> list[Operand]:
    """∂node/∂parent for each parent of ``node``, as Values made by ops (or constants).

    Evaluates the node's op's template with its arguments and itself bound
    to the template's names, so each local derivative is a node that leads
    back to the graph. An op without a template (a user's rule on floats
    alone) cannot give one: a TypeError naming it.
    """
    op = node.creator
    if op is None:
        return []
    if op.template is None:
        raise TypeError(
            f"create_graph: op {op.name!r} gives its local derivatives as floats only (its "
            "rule); give it a template, op(..., template=Template(...)), to differentiate "
            "through it again"
        )
    names = [f"_a{k}" for k in range(len(node.args))]
    env: dict[str, object] = {**VALUE_FUNCTIONS, **dict(zip(names, node.args)), "_out": node}
    local = [
        eval(_compiled(code), {"__builtins__": {}}, env)  # noqa: S307  (see _compiled)
        for code in op.template.local_code(names, "_out")
    ]
    return [d for a, d in zip(node.args, local) if isinstance(a, Value)]


def _times(d: Operand, g: Grad) -> Grad:
    """d · g, leaving out a multiplication by the constant 1 (no node for it)."""
    if isinstance(g, float) and g == 1.0:
        return d if isinstance(d, Value) else float(d)
    if not isinstance(d, Value) and d == 1.0:
        return g
    return d * g


def grad_graph(root: Value, wrt: Sequence[Value]) -> list[Value]:
    """∂root/∂v for each v in ``wrt``, each a Value of a graph built by ops (see the module).

    The same chain rule as ``backward()``, node by node in reverse
    topological order, on Values: ``g[parent] += local · g[node]``. No
    ``.grad`` is touched. A Value the root does not depend on gets a leaf 0.
    Each gradient is labelled ``d<root>/d<v>`` for drawings and explanations.
    """
    g: dict[Value, Grad] = {root: 1.0}
    for node in reversed(walk(root)):
        if node.creator is None or node not in g:
            continue
        for parent, d in zip(node.parents, local_values(node)):
            term = _times(d, g[node])
            g[parent] = g[parent] + term if parent in g else term
    name = root.label or "root"
    out = []
    for v in wrt:
        found = g.get(v, 0.0)
        node = found if isinstance(found, Value) else Value(found)
        if not node.label:
            node.label = f"d{name}/d{v.label or 'x'}"
        out.append(node)
    return out


def _inputs(primals: Sequence[float], where: str) -> list[Value]:
    if isinstance(primals, (str, bytes)) or not isinstance(primals, Sequence) or not primals:
        raise TypeError(f"{where}: primals must be a non-empty list of numbers")
    return [Value(p, f"x{i}") for i, p in enumerate(primals)]


def _root(f: Callable[..., Value], xs: list[Value], where: str) -> Value:
    y = f(*xs)
    if not isinstance(y, Value):
        raise TypeError(f"{where}: f must return a Value, it returned {type(y).__name__}")
    return y


def hessian(f: Callable[..., Value], primals: Sequence[float]) -> list[list[float]]:
    """The matrix of second derivatives ∂²f/∂xᵢ∂xⱼ at ``primals``, as lists of floats.

    Row i is the gradient of ∂f/∂xᵢ, built as a graph by ``grad_graph``.

    >>> hessian(lambda x, y: x * x * y, [3.0, 2.0])
    [[4.0, 6.0], [6.0, 0.0]]
    """
    xs = _inputs(primals, "hessian")
    first = grad_graph(_root(f, xs, "hessian"), xs)
    return [[d.data for d in grad_graph(g, xs)] for g in first]


def hvp(f: Callable[..., Value], primals: Sequence[float], v: Sequence[float]) -> list[float]:
    """The Hessian of ``f`` at ``primals`` times the vector ``v``, without the Hessian.

    One backward pass built as a graph, Σᵢ (∂f/∂xᵢ)·vᵢ, then one backward
    pass through it: two passes, whatever the number of inputs.

    >>> hvp(lambda x, y: x * x * y, [3.0, 2.0], [1.0, 0.0])
    [4.0, 6.0]
    """
    xs = _inputs(primals, "hvp")
    if len(v) != len(xs):
        raise ValueError(f"hvp: v must have one number per input ({len(xs)}), got {len(v)}")
    first = grad_graph(_root(f, xs, "hvp"), xs)
    directional = ops.total_op(*[g * float(c) for g, c in zip(first, v)])
    return [d.data for d in grad_graph(directional, xs)]


__all__ = ["VALUE_FUNCTIONS", "grad_graph", "hessian", "hvp", "local_values"]
