"""Making your own op, and a sum of many terms as one node.

An op is a rule on plain floats (``rules.py``) that returns its value and
one local derivative per input; ``engine.Op`` runs it on Values and records
the node. ``op`` makes a user's rule into an op, checked on every call.

>>> from tinygrad_bp import Value
>>> a, b = Value(1.0), Value(2.0)
>>> s = total([a, b, 3.0])
>>> s.data, s.local_grads
(6.0, (1.0, 1.0))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import overload

from . import rules
from .engine import Op, Operand, Rule, Value

# A sum of many terms as one node, with an edge of local derivative 1 per term.
sum_op = Op(rules.total, "Σ", checked=False)


@overload
def op(rule: Rule, *, name: str | None = None) -> Op: ...
@overload
def op(rule: None = None, *, name: str | None = None) -> Callable[[Rule], Op]: ...
def op(rule: Rule | None = None, *, name: str | None = None) -> Callable[[Rule], Op] | Op:
    """Make an op on Values from a rule on plain floats.

    The rule takes floats and returns ``(value, local_derivatives)``, one
    local derivative per input. The op takes Values or numbers (numbers get
    no edge) and returns a Value whose ``op`` is ``name`` (by default the
    rule's name). A rule that returns the wrong number of local derivatives
    or a non-number raises a TypeError naming the op and what it returned.

    >>> import math
    >>> @op
    ... def softplus(x):
    ...     return math.log1p(math.exp(x)), (1 / (1 + math.exp(-x)),)
    >>> y = softplus(Value(0.0))
    >>> y.op, round(y.data, 6), y.local_grads
    ('softplus', 0.693147, (0.5,))
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(f"op: name must be a str, got {type(name).__name__} {name!r:.40}")
    if rule is None:
        return lambda r: Op(r, name)
    return Op(rule, name)


def total(values: Sequence[Operand]) -> Value:
    """Σ values as ONE node, with an edge (local derivative 1) per Value.

    >>> a, b = Value(1.0), Value(2.0)
    >>> s = total([a, b, 3.0])
    >>> s.data, len(s.parents)
    (6.0, 2)
    """
    return sum_op(*values)
