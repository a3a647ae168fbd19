"""The math module's functions and the piecewise ops, as ops on Values and as methods.

Each is an ``Op`` made from its rule (``math_rules.py``, ``rules.py``), by
the same mechanism as the operators and a user's ``@op``, and named as a
reader writes it: a node made by ``sin`` has ``op == "sin"``. Those of one
argument are also methods of Value, added by ``ops.add_method`` as a
user's op is (``x.sin()`` is ``sin(x)``), and so is ``abs`` (``x.abs()``,
besides Python's ``abs(x)``).

- One argument: sqrt, sin, cos, tan, asin, acos, atan, sinh, cosh, log1p,
  expm1, log2, log10, exp2, softplus; and ``leaky_relu(x, slope=0.01)``.
- Two arguments, as functions only: ``atan2(y, x)``, ``hypot(x, y)``,
  ``minimum(a, b)``, ``maximum(a, b)``.

Type checkers (mypy) do not see the methods added this way: ``x.sin()``
runs, but mypy reports that Value has no attribute ``sin``. In typed code,
call the function (``sin(x)``), which is typed: it takes Values or numbers
and returns a Value.

>>> from tinygrad_bp import Value
>>> b = Value(0.5, "b")
>>> y = (3 * b).sin()
>>> y.op, y.creator is sin, round(y.data, 6)
('sin', True, 0.997495)
>>> y.backward()
>>> round(b.grad, 6)  # 3·cos(1.5)
0.212212
"""

from __future__ import annotations

from . import engine, math_rules, rules
from .engine import Op, Operand, Value
from .ops import add_method

sqrt = Op(math_rules.sqrt, "sqrt", checked=False)
sin = Op(math_rules.sin, "sin", checked=False)
cos = Op(math_rules.cos, "cos", checked=False)
tan = Op(math_rules.tan, "tan", checked=False)
asin = Op(math_rules.asin, "asin", checked=False)
acos = Op(math_rules.acos, "acos", checked=False)
atan = Op(math_rules.atan, "atan", checked=False)
sinh = Op(math_rules.sinh, "sinh", checked=False)
cosh = Op(math_rules.cosh, "cosh", checked=False)
log1p = Op(math_rules.log1p, "log1p", checked=False)
expm1 = Op(math_rules.expm1, "expm1", checked=False)
log2 = Op(math_rules.log2, "log2", checked=False)
log10 = Op(math_rules.log10, "log10", checked=False)
exp2 = Op(math_rules.exp2, "exp2", checked=False)
softplus = Op(rules.softplus, "softplus", checked=False)
# The op of two arguments; ``leaky_relu`` below gives the slope its default.
leaky_relu_op = Op(rules.leaky_relu, "leaky_relu", checked=False)

atan2 = Op(math_rules.atan2, "atan2", checked=False)
hypot = Op(math_rules.hypot, "hypot", checked=False)
minimum = Op(rules.minimum, "minimum", checked=False)
maximum = Op(rules.maximum, "maximum", checked=False)


def leaky_relu(x: Operand, slope: Operand = 0.01) -> Value:
    """x for x > 0, slope·x otherwise (``rules.leaky_relu``); the slope 0.01 by default.

    A number as the slope is a constant, as in
    ``torch.nn.functional.leaky_relu``; a Value is a learnable slope with
    its own edge, as in ``torch.prelu``. The node's op is ``leaky_relu_op``.

    >>> leaky_relu(Value(-2.0)).data, Value(-2.0).leaky_relu(0.5).data
    (-0.02, -1.0)
    """
    return leaky_relu_op(x, slope)


# The methods, each under its op's name: ``x.sqrt()``, ..., ``x.leaky_relu(0.2)``.
for _method in (
    sqrt, sin, cos, tan, asin, acos, atan, sinh, cosh, log1p, expm1, log2, log10, exp2,
    softplus, leaky_relu, engine.abs,
):  # fmt: skip
    add_method(_method)
del _method
