"""The Value: a scalar that records the graph it was computed by.

Every op result remembers its parents as an ordered tuple and, next to them,
the local derivative of its value with respect to each parent, computed at
forward time. ``backward()`` is then the chain rule as one loop over a
topological order::

    parent.grad += local * node.grad

An op is made from a rule on plain floats (see ``rules.py``) by ``op``; the
built-in operators below are made the same way.

>>> a, b = Value(2.0, "a"), Value(3.0, "b")
>>> c = a * b + a
>>> c.backward()
>>> c.data, a.grad, b.grad
(8.0, 4.0, 2.0)
"""

from __future__ import annotations

import functools
import numbers
import reprlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import overload

from . import rules

RuleResult = tuple[float, Sequence[float]]
Rule = Callable[..., RuleResult]

# While False (inside ``no_grad()``), ops compute values but record no graph.
_grad_enabled = True


def _to_float(x: object, where: str) -> float:
    """``x`` as a float, or a TypeError that names ``where`` and what came."""
    if isinstance(x, numbers.Real):
        return float(x)
    raise TypeError(
        f"{where}: expected a Value or a real number, got {type(x).__name__} {reprlib.repr(x)}"
    )


class Value:
    """A scalar node of the computation graph.

    ``data`` is its value, ``grad`` the derivative of the last ``backward()``
    root with respect to it, ``label`` a name for drawings and explanations.
    A node made by an op also has ``op`` (the op's name), ``parents`` (the
    Values it was computed from, in argument order: ``a * a`` has ``a``
    twice) and ``local_grads`` (∂self/∂parent for each parent, recorded when
    the node was made).

    >>> x = Value(3.0, "x")
    >>> y = x * x
    >>> y.op, [p.label for p in y.parents], y.local_grads
    ('*', ['x', 'x'], (3.0, 3.0))
    """

    # Slots keep a node small: no per-instance __dict__.
    __slots__ = ("data", "grad", "label", "op", "parents", "local_grads")

    data: float
    grad: float
    label: str
    op: str
    parents: tuple[Value, ...]
    local_grads: tuple[float, ...]

    def __init__(self, data: float, label: str = "") -> None:
        if type(data) is not float:
            data = _to_float(data, "Value")
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.data = data
        self.grad = 0.0
        self.label = label
        self.op = ""
        self.parents = ()
        self.local_grads = ()

    def __repr__(self) -> str:
        extra = "".join(
            f", {name}={value!r}"
            for name, value in (("label", self.label), ("op", self.op))
            if value
        )
        return f"Value(data={self.data!r}, grad={self.grad!r}{extra})"

    # -- arithmetic: each is one op, with plain numbers on either side --------
    def __add__(self, other: Operand) -> Value:
        return _add(self, other)

    def __radd__(self, other: Operand) -> Value:
        return _add(other, self)

    def __sub__(self, other: Operand) -> Value:
        return _sub(self, other)

    def __rsub__(self, other: Operand) -> Value:
        return _sub(other, self)

    def __mul__(self, other: Operand) -> Value:
        return _mul(self, other)

    def __rmul__(self, other: Operand) -> Value:
        return _mul(other, self)

    def __truediv__(self, other: Operand) -> Value:
        return _div(self, other)

    def __rtruediv__(self, other: Operand) -> Value:
        return _div(other, self)

    def __pow__(self, other: Operand) -> Value:
        return _pow(self, other)

    def __rpow__(self, other: Operand) -> Value:
        return _pow(other, self)

    def __neg__(self) -> Value:
        return _neg(self)

    # -- functions -------------------------------------------------------------
    def exp(self) -> Value:
        """e ** self."""
        return _exp(self)

    def log(self) -> Value:
        """The natural logarithm; ValueError for self <= 0."""
        return _log(self)

    def tanh(self) -> Value:
        return _tanh(self)

    def sigmoid(self) -> Value:
        """The logistic function 1 / (1 + e^-self), overflow-free for any input."""
        return _sigmoid(self)

    def relu(self) -> Value:
        return _relu(self)

    # -- backpropagation -------------------------------------------------------
    def backward(self) -> None:
        """Fill in ``grad`` of every node this one depends on.

        The root is seeded with 1 and every intermediate (non-leaf) node's
        gradient is recomputed from zero. Leaves (Values not made by an op:
        parameters and inputs) ACCUMULATE, as in PyTorch: calling backward
        twice doubles their ``grad``, so zero them between training steps
        (``Module.zero_grad()``).

        >>> w = Value(0.5)
        >>> y = w * 4.0
        >>> y.backward(); y.backward()
        >>> w.grad
        8.0
        """
        if not self.parents:  # a leaf as root: d self/d self = 1, accumulated
            self.grad += 1.0
            return
        order = topological_order(self)
        # This pass's gradients are summed from zero everywhere; a leaf's
        # earlier grad is added back once at the end. So the second of two
        # identical calls adds exactly what the first did: exactly twice.
        earlier = []
        for node in order:
            if node.grad != 0.0 and not node.parents:
                earlier.append((node, node.grad))
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            g = node.grad
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * g
        for leaf, g in earlier:
            leaf.grad += g


Operand = Value | float | int


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every node ``root`` depends on, once each, every node after its parents.

    The walk is iterative (an explicit stack), so a graph a million nodes
    deep needs no recursion. With ``leaves=False`` only nodes made by ops are
    listed (the root always is): that is all backward needs.

    >>> a = Value(1.0, "a"); b = a + 1; c = a * b
    >>> [n.label or n.op for n in topological_order(c)]
    ['a', '+', '*']
    """
    order: list[Value] = []
    seen: set[Value] = set()  # Values hash by identity: __eq__ is not overridden
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:  # all of its parents are already in order
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        # Reversed, so that parents come out in argument order.
        for parent in reversed(node.parents):
            if parent not in seen and (leaves or parent.parents):
                stack.append((parent, False))
    return order


def _apply(name: str, rule: Rule, args: Sequence[object], checked: bool) -> Value:
    """Run ``rule`` on the floats of ``args`` and record the node it makes.

    Plain numbers among ``args`` are constants: they get no edge, so
    ``v * 2`` is one node with one parent.
    """
    xs = [a.data if isinstance(a, Value) else _to_float(a, name) for a in args]
    result = rule(*xs)
    data, local = _checked_result(name, result, len(xs)) if checked else result
    if not _grad_enabled:
        return Value(data)
    node = Value.__new__(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.op = name
    parents = tuple(a for a in args if isinstance(a, Value))
    if len(parents) == len(args):
        node.parents = parents
        node.local_grads = tuple(local)
    else:
        node.parents = parents
        node.local_grads = tuple(d for a, d in zip(args, local) if isinstance(a, Value))
    return node


def _checked_result(name: str, result: object, n: int) -> tuple[float, tuple[float, ...]]:
    """Validate what a user's rule returned; say what was wrong and what came."""
    wanted = f"(value, local_derivatives) with one local derivative per input ({n})"
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"op {name!r} must return {wanted}; it returned {reprlib.repr(result)}")
    value, local = result
    if not isinstance(value, numbers.Real):
        raise TypeError(
            f"op {name!r} returned a non-numeric value {reprlib.repr(value)} "
            f"({type(value).__name__}); expected a real number"
        )
    if not isinstance(local, (tuple, list)) or len(local) != n:
        raise TypeError(
            f"op {name!r} must return {wanted}; it returned local derivatives "
            f"{reprlib.repr(local)} for {n} input(s)"
        )
    for i, d in enumerate(local):
        if not isinstance(d, numbers.Real):
            raise TypeError(
                f"op {name!r} returned a non-numeric local derivative {reprlib.repr(d)} "
                f"for input {i}; expected a real number"
            )
    return float(value), tuple(float(d) for d in local)


class Op:
    """An op on Values, made from a rule on plain floats (see ``op``)."""

    def __init__(self, rule: Rule, name: str | None = None, *, checked: bool = True) -> None:
        self.rule = rule
        self.name: str = name or str(getattr(rule, "__name__", "op"))
        self._checked = checked
        functools.update_wrapper(self, rule)

    def __call__(self, *args: Operand) -> Value:
        return _apply(self.name, self.rule, args, self._checked)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


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
    if rule is None:
        return lambda r: Op(r, name)
    return Op(rule, name)


# The built-in ops: the same mechanism, with rules that are tested rather
# than checked on every call.
_add = Op(rules.add, "+", checked=False)
_sub = Op(rules.sub, "-", checked=False)
_mul = Op(rules.mul, "*", checked=False)
_div = Op(rules.div, "/", checked=False)
_neg = Op(rules.neg, "neg", checked=False)
_pow = Op(rules.pow, "**", checked=False)
_exp = Op(rules.exp, "exp", checked=False)
_log = Op(rules.log, "log", checked=False)
_tanh = Op(rules.tanh, "tanh", checked=False)
_sigmoid = Op(rules.sigmoid, "sigmoid", checked=False)
_relu = Op(rules.relu, "relu", checked=False)
_weighted_sum = Op(rules.weighted_sum, "Σwx+b", checked=False)
_total = Op(rules.total, "Σ", checked=False)


def weighted_sum(w: Sequence[Operand], x: Sequence[Operand], b: Operand = 0.0) -> Value:
    """A neuron's total net input Σ wᵢ·xᵢ + b as ONE node.

    It has one edge per weight, input and bias that is a Value (plain numbers
    get none), in the order w..., x..., b; the edge from wᵢ carries xᵢ and the
    edge from xᵢ carries wᵢ. This is how the article draws net_h1, and it
    keeps a network's graph about ten times smaller than one node per * and +.

    >>> w1, w2, b1 = Value(0.15), Value(0.20), Value(0.35)
    >>> net_h1 = weighted_sum([w1, w2], [0.05, 0.10], b1)
    >>> round(net_h1.data, 9), net_h1.local_grads
    (0.3775, (0.05, 0.1, 1.0))
    """
    if len(w) != len(x):
        raise ValueError(
            f"weighted_sum: expected one weight per input, got {len(w)} weights and {len(x)} inputs"
        )
    return _weighted_sum(*w, *x, b)


def total(values: Sequence[Operand]) -> Value:
    """Σ values as ONE node, with an edge (local derivative 1) per Value.

    >>> a, b = Value(1.0), Value(2.0)
    >>> s = total([a, b, 3.0])
    >>> s.data, len(s.parents)
    (6.0, 2)
    """
    return _total(*values)


def grad(root: Value, wrt: Sequence[Value]) -> list[float]:
    """∂root/∂v for each v in ``wrt``, returned, leaving every ``.grad`` as it is.

    >>> x = Value(3.0)
    >>> grad(x * x, [x]), x.grad
    ([6.0], 0.0)
    """
    grads: dict[Value, float] = {root: 1.0}
    for node in reversed(topological_order(root, leaves=False)):
        g = grads.get(node, 0.0)
        for parent, local in zip(node.parents, node.local_grads):
            grads[parent] = grads.get(parent, 0.0) + local * g
    return [grads.get(v, 0.0) for v in wrt]


@contextmanager
def no_grad() -> Iterator[None]:
    """A context in which ops compute values but record no graph.

    Use it for evaluation and for parameter updates. Not thread-safe: it
    switches graph recording off for the whole interpreter.

    >>> w = Value(1.0)
    >>> with no_grad():
    ...     y = w * 2
    >>> y.data, y.parents
    (2.0, ())
    """
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = False
    try:
        yield
    finally:
        _grad_enabled = previous
