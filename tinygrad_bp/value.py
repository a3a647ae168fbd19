"""The Value: a scalar that records the graph it is computed by, and backward() along it.

An op's result remembers the op that made it (``creator``), its parents in
argument order, and beside each parent the local derivative with respect to
it, computed when the node is made: data on every edge. ``backward()`` is
then the chain rule, node by node in reverse topological order::

    parent.grad += local * node.grad

The ops themselves, each a rule on floats (``rules.py``) with its derivative
written as an expression, are the op table (``ops.py``); ``Op`` here is what
calling one does: run the rule on the floats, record the node.

>>> a, b = Value(2.0, "a"), Value(3.0, "b")
>>> c = a * b + a
>>> c.backward()
>>> c.data, a.grad, b.grad
(8.0, 4.0, 2.0)
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn, Union

from . import checks, grad_mode
from .checks import to_float

if TYPE_CHECKING:  # for type hints only: the table's module imports this one
    from .expressions import Template

Operand = Union["Value", float, int]
Rule = Callable[..., tuple[float, Sequence[float]]]

# The op table, by name: ops.py fills it in as it defines the built-in ops.
# Value's operators find their op here, so ``a * b`` is ``OPS["*"](a, b)``.
OPS: dict[str, Op] = {}


class Value:
    """A scalar node of the computation graph; made directly, a leaf.

    ``data`` is its value, ``grad`` the derivative of the last ``backward()``
    root with respect to it, ``label`` a name for drawings and explanations.
    A node made by an op also has ``creator`` (the ``Op``; ``op`` is its
    name), ``parents`` (the Values among its arguments, in order: ``a * a``
    has ``a`` twice) and ``local_grads`` (∂self/∂parent for each parent).
    ``args`` are the arguments the op was given: its parents, unless there
    were numbers among them (``WithNumbers``).

    ``==`` and ``hash()`` are identity, so Values can be dict keys and set
    members; ``<`` and the other comparisons compare ``.data``.

    >>> x = Value(3.0, "x")
    >>> y = x * x
    >>> y.op, [p.label for p in y.parents], y.local_grads
    ('*', ['x', 'x'], (3.0, 3.0))
    """

    __slots__ = ("_data", "grad", "label", "creator", "parents", "local_grads")
    creator: Op | None
    parents: tuple[Value, ...]
    local_grads: Sequence[float]

    def __init__(self, data: float, label: str = "") -> None:
        self._data = data if type(data) is float else to_float(data, "Value")  # see data
        self.grad = 0.0
        self.label = label if isinstance(label, str) else _label_error(label)
        self.creator = None  # a leaf: made by no op
        self.parents, self.local_grads = (), ()

    def _set_data(self, data: float) -> None:
        self._data = data if type(data) is float else to_float(data, "Value.data", "a number")

    if TYPE_CHECKING:  # what type checkers see: a float to read and to set

        @property
        def data(self) -> float: ...
        @data.setter
        def data(self, value: float) -> None: ...
    else:
        # Read as a field is (no Python runs); set, it stays a float: v.data = 3 keeps
        # 3.0, and v.data = "3" is a TypeError, not a wrong number or a hang later.
        data = property(operator.attrgetter("_data"), _set_data, doc="The value: a float.")

    @property
    def op(self) -> str:
        """The name of the op that made this node ('' for a leaf)."""
        return "" if self.creator is None else self.creator.name

    @property
    def args(self) -> tuple[Operand, ...]:
        """The arguments the op was given: here its parents (``WithNumbers`` keeps numbers too)."""
        return self.parents

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

    # -- arithmetic: each an op of the table, with plain numbers on either side
    def __add__(self, other: Operand) -> Value:
        return OPS["+"](self, other)

    def __radd__(self, other: Operand) -> Value:
        return OPS["+"](other, self)

    def __sub__(self, other: Operand) -> Value:
        return OPS["-"](self, other)

    def __rsub__(self, other: Operand) -> Value:
        return OPS["-"](other, self)

    def __mul__(self, other: Operand) -> Value:
        return OPS["*"](self, other)

    def __rmul__(self, other: Operand) -> Value:
        return OPS["*"](other, self)

    def __truediv__(self, other: Operand) -> Value:
        return OPS["/"](self, other)

    def __rtruediv__(self, other: Operand) -> Value:
        return OPS["/"](other, self)

    def __pow__(self, other: Operand) -> Value:
        return OPS["**"](self, other)

    def __rpow__(self, other: Operand) -> Value:
        return OPS["**"](other, self)

    def __mod__(self, other: Operand) -> Value:
        return OPS["%"](self, other)

    def __rmod__(self, other: Operand) -> Value:
        return OPS["%"](other, self)

    def __neg__(self) -> Value:
        return OPS["neg"](self)

    def __abs__(self) -> Value:
        return OPS["abs"](self)

    # -- the article's functions; the table gives the other ops their methods
    def exp(self) -> Value:
        return OPS["exp"](self)

    def log(self) -> Value:
        return OPS["log"](self)

    def tanh(self) -> Value:
        return OPS["tanh"](self)

    def sigmoid(self) -> Value:
        return OPS["sigmoid"](self)

    def relu(self) -> Value:
        return OPS["relu"](self)

    # -- backpropagation ---------------------------------------------------------
    def backward(self) -> None:
        """Fill in ``grad`` of every node this one depends on: the chain rule, in a loop.

        The root's grad is 1; every other node's is summed from zero over
        the edges out of it. Leaves (parameters, inputs) ACCUMULATE, as in
        PyTorch: backward twice doubles their ``grad``, so zero them between
        training steps (``zero_grad()``).

        >>> w = Value(0.5)
        >>> y = w * 4.0
        >>> y.backward(); y.backward()
        >>> w.grad
        8.0
        """
        order = walk(self)
        # A leaf's earlier grad is put aside and added back once at the end, so
        # two identical calls give exactly twice the gradient, to the last bit.
        earlier = [(node, node.grad) for node in order if node.creator is None]
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # each node after every node that reads it
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad
        for leaf, g in earlier:
            leaf.grad += g


def walk(root: Value) -> list[Value]:
    """Every node ``root`` depends on, once each, parents first (a topological order).

    Depth first with a stack of its own, so a graph a million nodes deep
    needs no recursion. A node is met twice: first its parents go on the
    stack above it (the first argument on top, so the order follows the
    arguments'), then, once they are placed, it is placed itself.

    >>> a = Value(2.0, "a")
    >>> [n.label or n.op for n in walk(a * a + 1)]
    ['a', '*', '+']
    """
    placed: dict[Value, None] = {}  # an ordered set: the nodes, in the order placed
    stack = [(root, False)]
    while stack:
        node, parents_placed = stack.pop()
        if parents_placed:
            placed[node] = None
        elif node not in placed:
            stack.append((node, True))
            stack += [(p, False) for p in reversed(node.parents) if p not in placed]
    return list(placed)


class WithNumbers(Value):
    """A node of an op given numbers as well as Values (``x * 2``, ``2 ** x``): a number is a
    constant, so it gets no edge; the node keeps every argument in ``args``, for the trace
    and the equations, and its parents are the Values among them.

    >>> x = Value(3.0, "x")
    >>> y = 2.0 * x
    >>> y.args, y.parents == (x,), y.local_grads
    ((2.0, Value(data=3.0, grad=0.0, label='x')), True, (2.0,))
    """

    __slots__ = ("args",)
    args: tuple[Operand, ...]

    def __init__(
        self, op: Op, data: float, args: tuple[Operand, ...], local: Sequence[float]
    ) -> None:
        self._data, self.grad, self.label = data, 0.0, ""
        self.creator, self.args = op, args
        self.local_grads = tuple([d for a, d in zip(args, local) if isinstance(a, Value)])

    @property  # computed, not kept: a tuple fewer for each such node
    def parents(self) -> tuple[Value, ...]:  # type: ignore[override]
        return tuple([a for a in self.args if isinstance(a, Value)])


class Op:
    """An op on Values: a named rule on plain floats (``rules.py``), and how to write it.

    Calling it runs the rule on the arguments' floats and returns the node
    for the result, with an edge to each argument that is a Value (numbers
    are constants). ``name`` is what drawings and explanations show;
    ``template`` writes the value and the local derivatives as Python
    expressions (what ``trace`` inlines); ``infix`` is the symbol written
    between two operands (``*``), if any. A user's rule is ``checked`` on
    every call (``extend.op``); a built-in one is trusted, and tested. The
    name defaults to the rule's.

    >>> from tinygrad_bp import Value
    >>> OPS["*"](Value(3.0), 2.0).local_grads
    (2.0,)
    """

    def __init__(
        self,
        rule: Rule,
        name: str | None = None,
        template: Template | None = None,
        *,
        infix: str | None = None,
        checked: bool = True,
    ) -> None:
        if not callable(rule):
            raise TypeError(
                f"op: the rule must be callable, got {type(rule).__name__} {rule!r:.40}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"op: name must be a str, got {type(name).__name__} {name!r:.40}")
        self.rule, self.template, self.infix, self.checked = rule, template, infix, checked
        self.name: str = name or str(getattr(rule, "__name__", "op"))
        self.least, self.most = checks.arity(rule)  # how many arguments it takes
        # What a call runs: the rule itself, or for a user's rule the rule with
        # its result checked, so that a mistake is named where it happens.
        self.run: Rule = functools.partial(checks.run_checked, self) if checked else rule
        functools.update_wrapper(self, rule)

    def __call__(self, *args: Operand) -> Value:
        """The op on Values and numbers: the node of its result, with its edges."""
        if not self.least <= len(args) <= self.most:
            raise TypeError(checks.arity_error(self.name, (self.least, self.most), len(args)))
        xs = [a.data if isinstance(a, Value) else to_float(a, self.name) for a in args]
        data, local = self.run(*xs)
        if not grad_mode.enabled:
            return Value(data)
        parents = tuple([a for a in args if isinstance(a, Value)])
        if len(parents) < len(args):  # numbers among them: constants, with no edge
            return WithNumbers(self, data, args, local)
        node = Value(data)
        node.creator, node.parents, node.local_grads = self, parents, local
        return node

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def _number(x: object) -> float:  # what a comparison compares: a Value's data, or x
    return x.data if isinstance(x, Value) else to_float(x, "comparison")


def _label_error(label: object) -> NoReturn:
    raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
