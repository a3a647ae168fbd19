"""The Value: a scalar that records the graph it was computed by.

An op result remembers its parents, in order, and beside each the local
derivative with respect to it, computed at forward time. ``backward()`` is
then the chain rule, node by node in reverse topological order:
``parent.grad += local_grad * node.grad``. Each way a node keeps its edges is
a class with its own step of it (``backprop``): ``Value`` (a leaf), ``Unary``,
``Binary``, ``Nary`` and ``Net`` (layer.py). An ``Op`` makes every node from
a rule on plain floats (``rules.py``).

>>> a, b = Value(2.0, "a"), Value(3.0, "b")
>>> c = a * b + a
>>> c.backward()
>>> c.data, a.grad, b.grad
(8.0, 4.0, 2.0)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from math import isfinite

from . import contract, grad_mode, rules
from .contract import to_float
from .walk import backprop, walk


class Value:
    """A scalar node of the computation graph; made directly, a leaf.

    ``data`` is its value, ``grad`` the derivative of the last ``backward()``
    root with respect to it, ``label`` a name for drawings and explanations.
    A node made by an op also has ``creator`` (the ``Op``), ``op`` (its name),
    ``parents`` (the Values it was computed from, in argument order: ``a * a``
    has ``a`` twice) and ``local_grads`` (∂self/∂parent for each parent).

    ``==`` and ``hash()`` are identity, so Values can be dict keys and set
    members; ``<`` and the other comparisons compare ``.data``.

    >>> x = Value(3.0, "x")
    >>> y = x * x
    >>> y.op, [p.label for p in y.parents], y.local_grads
    ('*', ['x', 'x'], (3.0, 3.0))
    """

    __slots__ = ("data", "grad", "label", "creator")
    args: tuple[Operand, ...] | None = None  # an op's arguments, where some were numbers
    data: float
    grad: float
    label: str

    def __init__(self, data: float, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.data = data if type(data) is float else to_float(data, "Value")
        self.grad = 0.0
        self.label = label
        self.creator: Op | None = None  # the op that made this node; None for a leaf

    @property
    def op(self) -> str:
        """The name of the op that made this node ('' for a leaf)."""
        return "" if self.creator is None else self.creator.name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in argument order."""
        return ()

    @property
    def local_grads(self) -> tuple[float, ...]:
        """∂self/∂parent for each of ``parents``, recorded when self was made."""
        return ()

    def backprop(self) -> None:
        """Pass ``self.grad`` on to the parents: this node's step of the chain rule."""

    def unplaced_parents(self, placed: set[Value], complete: set[int]) -> Sequence[Value]:
        """The parents not in ``placed``, last first (see ``walk``; ``complete``: see ``Net``)."""
        return tuple(p for p in reversed(self.parents) if p not in placed)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in (("label", self.label), ("op", self.op)) if v)
        return f"Value(data={self.data!r}, grad={self.grad!r}{extra})"

    __eq__ = object.__eq__  # identity, on purpose: see the class docstring
    __hash__ = object.__hash__

    # Comparisons compare the numbers and give a bool: no node (no derivative).
    def __lt__(self, other: Operand) -> bool:
        return self.data < _number(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _number(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _number(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _number(other)

    # -- arithmetic: each is one op, with plain numbers on either side --------
    def __add__(self, other: Operand) -> Value:
        return add.binary(self, other)

    def __radd__(self, other: Operand) -> Value:
        return add.binary(other, self)

    def __sub__(self, other: Operand) -> Value:
        return sub.binary(self, other)

    def __rsub__(self, other: Operand) -> Value:
        return sub.binary(other, self)

    def __mul__(self, other: Operand) -> Value:
        return mul.binary(self, other)

    def __rmul__(self, other: Operand) -> Value:
        return mul.binary(other, self)

    def __truediv__(self, other: Operand) -> Value:
        return div.binary(self, other)

    def __rtruediv__(self, other: Operand) -> Value:
        return div.binary(other, self)

    def __pow__(self, other: Operand) -> Value:
        return pow.binary(self, other)

    def __rpow__(self, other: Operand) -> Value:
        return pow.binary(other, self)

    def __mod__(self, other: Operand) -> Value:
        return mod.binary(self, other)

    def __rmod__(self, other: Operand) -> Value:
        return mod.binary(other, self)

    def __neg__(self) -> Value:
        return neg(self)

    def __abs__(self) -> Value:
        return abs(self)

    # -- the article's functions; the math module's are in functions.py ------
    def exp(self) -> Value:
        return exp(self)

    def log(self) -> Value:
        return log(self)

    def tanh(self) -> Value:
        return tanh(self)

    def sigmoid(self) -> Value:
        return sigmoid(self)

    def relu(self) -> Value:
        return relu(self)

    # -- backpropagation -------------------------------------------------------
    def backward(self) -> None:
        """Fill in ``grad`` of every node this one depends on.

        The root's grad is 1, every op node's is summed from zero. Leaves
        (parameters, inputs) ACCUMULATE, as in PyTorch: backward twice doubles
        their ``grad``, so zero them between training steps (``zero_grad()``).

        >>> w = Value(0.5)
        >>> y = w * 4.0
        >>> y.backward(); y.backward()
        >>> w.grad
        8.0
        """
        order, leaves = walk(self)
        # The pass sums every gradient from zero; a leaf's earlier grad is
        # added back once at the end. So the second of two identical calls
        # adds exactly what the first did: exactly twice, to the last bit.
        earlier = [(leaf, leaf.grad) for leaf in leaves if leaf.grad != 0.0]
        backprop(self, order, leaves)
        for leaf, g in earlier:
            leaf.grad += g


Operand = Value | float | int
Args = tuple[Operand, ...] | None  # see Value.args
Parents = tuple[Value, ...]
Locals = tuple[float, ...]


class Unary(Value):
    """A node of one parent ``x``, with ∂self/∂x in ``dx``: ``-a``, ``a.exp()``, ``a * 2``."""

    __slots__ = ("x", "dx")

    def __init__(self, creator: Op, data: float, x: Value, dx: float) -> None:
        self.data = data
        self.grad = 0.0
        self.label = ""
        self.creator = creator
        self.x = x
        self.dx = dx

    @property
    def parents(self) -> tuple[Value, ...]:
        return (self.x,)

    @property
    def local_grads(self) -> tuple[float, ...]:
        return (self.dx,)

    def backprop(self) -> None:
        self.x.grad += self.dx * self.grad

    def unplaced_parents(self, placed: set[Value], complete: set[int]) -> Sequence[Value]:
        return () if self.x in placed else (self.x,)


class WithNumber(Unary):
    """A ``Unary`` of an op of a Value and a number (``a * 2``, ``2 ** a``): the number
    has no edge, and the node keeps the two arguments (``first``, ``second``) for replays."""

    __slots__ = ("first", "second")
    first: Operand
    second: Operand

    @classmethod
    def of(cls, op: Op, data: float, x: Value, dx: float, first: Operand, second: Operand) -> Unary:
        node = cls(op, data, x, dx)
        node.first, node.second = first, second
        return node

    @property
    def args(self) -> tuple[Operand, ...]:  # type: ignore[override]
        return (self.first, self.second)


class Binary(Value):
    """A node of two parents ``x`` and ``y``, with ∂self/∂x and ∂self/∂y: ``a * b``."""

    __slots__ = ("x", "dx", "y", "dy")

    def __init__(self, creator: Op, data: float, x: Value, dx: float, y: Value, dy: float) -> None:
        self.data = data
        self.grad = 0.0
        self.label = ""
        self.creator = creator
        self.x = x
        self.dx = dx
        self.y = y
        self.dy = dy

    @property
    def parents(self) -> tuple[Value, ...]:
        return (self.x, self.y)

    @property
    def local_grads(self) -> tuple[float, ...]:
        return (self.dx, self.dy)

    def backprop(self) -> None:
        g = self.grad
        self.x.grad += self.dx * g
        self.y.grad += self.dy * g

    def unplaced_parents(self, placed: set[Value], complete: set[int]) -> Sequence[Value]:
        x, y = self.x, self.y
        if x in placed:
            return () if y in placed else (y,)
        return (x,) if y in placed else (y, x)


class Nary(Value):
    """A node with its edges in two tuples: an op of three or more Values (``total``, a user's
    op), or of Values and numbers mixed in any other way (the arguments kept in ``args``)."""

    __slots__ = ("parents", "local_grads", "args")  # plain fields here, not computed

    def __init__(
        self, creator: Op, data: float, parents: Parents, local: Locals, args: Args
    ) -> None:
        self.data = data
        self.grad = 0.0
        self.label = ""
        self.creator = creator
        self.parents = parents  # type: ignore[misc]
        self.local_grads = local  # type: ignore[misc]
        self.args = args

    def backprop(self) -> None:
        g, local = self.grad, self.local_grads
        # Nothing flows back from a gradient of 0 (a point the hinge loss does
        # not count): every grad of the pass starts at +0.0, and adding 0.0 · d
        # changes no float unless d is inf or NaN, which a finite sum rules out.
        if g == 0.0 and isfinite(sum(local)):
            return
        for parent, d in zip(self.parents, local):
            parent.grad += d * g


class Op:
    """An op on Values, made from a rule on plain floats (see ``ops.op``).

    Calling it runs the rule on the arguments' floats and returns the node
    for the result, with an edge to each argument that is a Value (numbers
    are constants). ``name`` is what drawings and explanations show. A
    user's rule is checked on every call (``checked``); built-in rules are
    trusted, and tested instead.
    """

    def __init__(self, rule: Rule, name: str | None = None, *, checked: bool = True) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"op: name must be a str, got {type(name).__name__} {name!r:.40}")
        self.rule = rule
        self.name: str = name or str(getattr(rule, "__name__", "op"))
        self.checked = checked
        self.least, self.most = contract.arity(rule)  # how many arguments it takes
        functools.update_wrapper(self, rule)

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __get__(self, value: Value | None, owner: type | None = None) -> Callable[..., Value]:
        """An op kept on Value is a method, as a function is: ``x.sin()`` is ``sin(x)``."""
        return self if value is None else functools.partial(self, value)

    def __call__(self, *args: Operand) -> Value:
        """The op on any number of arguments, as its rule takes them."""
        n = len(args)
        if n < self.least or n > self.most:
            raise TypeError(contract.arity_error(self.name, (self.least, self.most), n))
        if not self.checked:  # a built-in rule of one or two arguments: no lists
            if n == 2:
                return self.binary(*args)
            if n == 1 and isinstance(a := args[0], Value):
                data, (dx,) = self.rule(a.data)
                return Unary(self, data, a, dx) if grad_mode.enabled else Value(data)
        return self._apply(args)

    def binary(self, a: Operand, b: Operand) -> Value:
        """The op on two arguments, the count known: what ``+ - * / **`` call."""
        if self.checked:
            return self._apply((a, b))
        if isinstance(a, Value) and isinstance(b, Value):
            data, (dx, dy) = self.rule(a.data, b.data)
            return Binary(self, data, a, dx, b, dy) if grad_mode.enabled else Value(data)
        if isinstance(a, Value):  # the number b gets no edge
            data, (dx, _) = self.rule(a.data, b if type(b) is float else to_float(b, self.name))
            return WithNumber.of(self, data, a, dx, a, b) if grad_mode.enabled else Value(data)
        if isinstance(b, Value):  # the number a gets no edge
            data, (_, dy) = self.rule(a if type(a) is float else to_float(a, self.name), b.data)
            return WithNumber.of(self, data, b, dy, a, b) if grad_mode.enabled else Value(data)
        return self._apply((a, b))

    def _apply(self, args: Sequence[Operand]) -> Value:
        """The op on any arguments: run the rule on their floats, record a node."""
        name = self.name
        xs = [a.data if isinstance(a, Value) else to_float(a, name) for a in args]
        run = contract.run_checked if self.checked else contract.run_trusted
        data, local = run(self.rule, name, xs)  # a user's rule: its result and errors checked
        if not grad_mode.enabled:
            return Value(data)
        # One edge per argument that is a Value: numbers are constants.
        edges = [(a, d) for a, d in zip(args, local) if isinstance(a, Value)]
        if len(edges) == len(args) == 1:
            return Unary(self, data, *edges[0])
        if len(edges) == len(args) == 2:
            return Binary(self, data, *edges[0], *edges[1])
        if len(edges) == 1 and len(args) == 2:
            return WithNumber.of(self, data, *edges[0], *args)
        kept = None if len(edges) == len(args) else tuple(args)  # the numbers among them
        parents, local_grads = tuple(a for a, _ in edges), tuple(d for _, d in edges)
        return Nary(self, data, parents, local_grads, kept)  # (no edges: an op of numbers)


Rule = Callable[..., tuple[float, Sequence[float]]]

# The built-in ops, which Value's operators and methods call: their rules are
# tested rather than checked on every call.
add = Op(rules.add, "+", checked=False)
sub = Op(rules.sub, "-", checked=False)
mul = Op(rules.mul, "*", checked=False)
div = Op(rules.div, "/", checked=False)
neg = Op(rules.neg, "neg", checked=False)
pow = Op(rules.pow, "**", checked=False)
exp = Op(rules.exp, "exp", checked=False)
log = Op(rules.log, "log", checked=False)
tanh = Op(rules.tanh, "tanh", checked=False)
sigmoid = Op(rules.sigmoid, "sigmoid", checked=False)
relu = Op(rules.relu, "relu", checked=False)
mod = Op(rules.mod, "%", checked=False)
abs = Op(rules.abs, "abs", checked=False)


def _number(x: object) -> float:  # what a comparison compares: a Value's data, or x
    return x.data if isinstance(x, Value) else to_float(x, "comparison")
