"""The Value: a scalar that records the graph it was computed by.

Every op result remembers its parents, in order, and next to each the local
derivative of its value with respect to that parent, computed at forward
time. ``backward()`` is then the chain rule as one loop over a topological
order::

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
import inspect
import numbers
import reprlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import compress
from math import isfinite
from operator import countOf
from typing import Any, overload

from . import rules

RuleResult = tuple[float, Sequence[float]]
Rule = Callable[..., RuleResult]

# While False (inside ``no_grad()``), ops compute values but record no graph.
_grad_enabled = True


def _to_float(x: object, where: str) -> float:
    """``x`` as a float, or a TypeError that names ``where`` and what came."""
    # The exact types first: an isinstance check against the numbers ABCs
    # costs ten times more, and constants in ops are usually floats or ints.
    if type(x) is float:
        return x
    if type(x) is int or isinstance(x, numbers.Real):
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

    # How a node keeps its edges. Almost every node has one or two parents,
    # so those live in fields of the node rather than in two tuples: that
    # saves about 100 bytes per node and a zip per node in backward().
    #   no parents (a leaf):  _a is None, _b is None
    #   one parent:           _a, _da (∂self/∂_a); _b is None
    #   two parents:          _a, _da, _b, _db
    #   three or more:        _b is _SEVERAL; _a is the tuple of parents and
    #                         _da the tuple of local derivatives
    #   a neuron's net Σ wᵢ·xᵢ + b (weighted_sum, weighted_sums): _b is a tuple.
    #                         _a: the weights (a tuple); _da: their local
    #                         derivatives, the inputs' data. _b: the inputs that
    #                         are Values (empty when they are plain numbers);
    #                         _db: theirs, the weights' data. _c: the bias, or
    #                         None when it is a plain number.
    # The net's edges are kept in groups because they are shared: every net
    # of one layer call reads the same inputs (one _b and one _da for the
    # whole layer), and a neuron passes the same tuple of weights on every
    # call. The walk then looks at a group once, not at each of its edges.
    # Fields a layout does not use stay unset. ``parents`` and ``local_grads``
    # give the tuples whatever the layout.
    __slots__ = ("data", "grad", "label", "op", "_a", "_b", "_da", "_db", "_c")

    data: float
    grad: float
    label: str
    op: str
    _a: Any  # Value | tuple[Value, ...] | None, as the layout says
    _b: Any  # Value | tuple[Value, ...] | None
    _da: Any  # float | tuple[float, ...]
    _db: Any  # float | tuple[float, ...]
    _c: Value | None

    def __init__(self, data: float, label: str = "") -> None:
        if type(data) is not float:
            data = _to_float(data, "Value")
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.data = data
        self.grad = 0.0
        self.label = label
        self.op = ""
        self._a = None
        self._b = None

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in argument order."""
        b = self._b
        if b is None:
            return () if self._a is None else (self._a,)
        if b is _SEVERAL:
            return self._a  # type: ignore[no-any-return]
        if b.__class__ is tuple:  # a neuron's net: weights, inputs, bias
            return (*self._a, *b) if self._c is None else (*self._a, *b, self._c)
        return (self._a, b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """∂self/∂parent for each of ``parents``, recorded when self was made."""
        b = self._b
        if b is None:
            return () if self._a is None else (self._da,)
        if b is _SEVERAL:
            return self._da  # type: ignore[no-any-return]
        if b.__class__ is tuple:
            return (*self._da, *self._db) if self._c is None else (*self._da, *self._db, 1.0)
        return (self._da, self._db)

    def __repr__(self) -> str:
        extra = "".join(
            f", {name}={value!r}"
            for name, value in (("label", self.label), ("op", self.op))
            if value
        )
        return f"Value(data={self.data!r}, grad={self.grad!r}{extra})"

    # -- arithmetic: each is one op, with plain numbers on either side --------
    def __add__(self, other: Operand) -> Value:
        return _add.binary(self, other)

    def __radd__(self, other: Operand) -> Value:
        return _add.binary(other, self)

    def __sub__(self, other: Operand) -> Value:
        return _sub.binary(self, other)

    def __rsub__(self, other: Operand) -> Value:
        return _sub.binary(other, self)

    def __mul__(self, other: Operand) -> Value:
        return _mul.binary(self, other)

    def __rmul__(self, other: Operand) -> Value:
        return _mul.binary(other, self)

    def __truediv__(self, other: Operand) -> Value:
        return _div.binary(self, other)

    def __rtruediv__(self, other: Operand) -> Value:
        return _div.binary(other, self)

    def __pow__(self, other: Operand) -> Value:
        return _pow.binary(self, other)

    def __rpow__(self, other: Operand) -> Value:
        return _pow.binary(other, self)

    def __neg__(self) -> Value:
        return _neg.unary(self)

    # -- functions -------------------------------------------------------------
    def exp(self) -> Value:
        """e ** self."""
        return _exp.unary(self)

    def log(self) -> Value:
        """The natural logarithm; ValueError for self <= 0."""
        return _log.unary(self)

    def tanh(self) -> Value:
        return tanh.unary(self)

    def sigmoid(self) -> Value:
        """The logistic function 1 / (1 + e^-self), overflow-free for any input."""
        return sigmoid.unary(self)

    def relu(self) -> Value:
        return relu.unary(self)

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
        if self._a is None:  # a leaf as root: d self/d self = 1, accumulated
            self.grad += 1.0
            return
        order, leaves = _walk(self, False)
        # This pass's gradients are summed from zero everywhere; a leaf's
        # earlier grad is added back once at the end. So the second of two
        # identical calls adds exactly what the first did: exactly twice.
        earlier = [(leaf, leaf.grad) for leaf in leaves if leaf.grad != 0.0]
        for leaf in leaves:
            leaf.grad = 0.0
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        several = _SEVERAL
        for node in reversed(order):
            g = node.grad
            b = node._b
            if b is None:
                node._a.grad += node._da * g
            elif b.__class__ is tuple:  # a neuron's net: weights, inputs, bias
                # Nothing flows back through a fused node whose gradient is 0
                # (behind a ReLU that is off, or a point the hinge loss does not
                # count): every grad of this pass starts at +0.0, and adding
                # ±0.0 changes no float. Unless a local derivative is inf or NaN
                # (0·inf is NaN). A net's local derivatives are its inputs and
                # weights, and an inf or NaN among them makes Σ wᵢ·xᵢ + b inf or
                # NaN too: a finite net has finite local derivatives.
                if g == 0.0 and isfinite(node.data):
                    continue
                for parent, d in zip(node._a, node._da):
                    parent.grad += d * g
                for parent, d in zip(b, node._db):
                    parent.grad += d * g
                if node._c is not None:
                    node._c.grad += g
            elif b is several:
                local = node._da
                # As for a net, above; here a finite sum of the local
                # derivatives is what rules out an inf or NaN among them.
                if g == 0.0 and isfinite(sum(local)):
                    continue
                for parent, d in zip(node._a, local):
                    parent.grad += d * g
            else:
                node._a.grad += node._da * g
                b.grad += node._db * g
        for leaf, g in earlier:
            leaf.grad += g


Operand = Value | float | int

# The marker in ``_b`` of a node with three or more parents (never in a graph).
_SEVERAL = Value.__new__(Value)
_new_value = object.__new__


def _walk(root: Value, with_leaves: bool) -> tuple[list[Value], list[Value]]:
    """The nodes ``root`` depends on in topological order, and its leaves.

    A depth-first walk with an explicit stack, so a million-deep graph needs
    no recursion: a node goes into ``order`` once all of its parents have.
    Leaves (nodes without parents) go into ``order`` too when ``with_leaves``,
    else only into the second list: backward() needs them only to reset them.
    """
    if root._a is None:  # a leaf, or an op of constants only: nothing to walk
        return [root], []
    order: list[Value] = []
    leaves: list[Value] = order if with_leaves else []
    done: set[Value] = set()  # the nodes in order or in leaves
    # The ids of groups of parents (a net's weights or inputs, the parents of
    # a node of several) whose members are all done. A neuron's weights are
    # the same tuple in every net it makes, a layer call's inputs the same
    # tuple in all its nets: each is looked into once, not once per net. The
    # tuples live as long as the graph, so no id is reused during the walk.
    complete: set[int] = set()
    stack = [root]
    several = _SEVERAL
    while stack:
        node = stack[-1]
        b = node._b
        if b is None:  # one parent
            a = node._a
            if a not in done:
                ab = a._b
                if a._a is None:
                    done.add(a)
                    leaves.append(a)
                elif (
                    ab.__class__ is tuple
                    and id(a._a) in complete
                    and id(ab) in complete
                    and (a._c is None or a._c in done)
                ):  # a net under its activation, all its parents done: place it now
                    done.add(a)
                    order.append(a)
                else:
                    stack.append(a)  # first place a, then come back here
                    continue
        elif b.__class__ is tuple or b is several:
            # Every parent not done yet is pushed at once, the first on top so
            # the order follows the arguments'; this node is looked at again
            # when they are done. A parent pushed twice this way is passed
            # over the second time: it is done by then.
            pending: list[Value] = []
            groups: tuple[Any, ...] = (node._a,) if b is several else (node._a, b)
            for group in groups:
                if id(group) in complete:
                    continue
                before = len(pending)
                for p in group:
                    if p not in done:
                        if p._a is None:
                            done.add(p)
                            leaves.append(p)
                        else:
                            pending.append(p)
                if len(pending) == before:
                    complete.add(id(group))
            if b is not several:  # a net's bias
                c = node._c
                if c is not None and c not in done:
                    if c._a is None:
                        done.add(c)
                        leaves.append(c)
                    else:
                        pending.append(c)
            if pending:
                stack += reversed(pending)
                continue
        else:  # two parents
            a = node._a
            if a not in done:
                if a._a is not None:
                    stack.append(a)
                    continue
                done.add(a)
                leaves.append(a)
            if b not in done:
                if b._a is not None:
                    stack.append(b)
                    continue
                done.add(b)
                leaves.append(b)
        stack.pop()
        if node not in done:
            done.add(node)
            order.append(node)
    return order, leaves


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every node ``root`` depends on, once each, every node after its parents.

    The walk is iterative (an explicit stack), so a graph a million nodes
    deep needs no recursion. With ``leaves=False`` only nodes made by ops are
    listed (the root always is): that is all backward needs.

    >>> a = Value(1.0, "a"); b = a + 1; c = a * b
    >>> [n.label or n.op for n in topological_order(c)]
    ['a', '+', '*']
    """
    return _walk(root, leaves)[0]


def _leaf(data: float) -> Value:
    """A Value without a graph: what ops return inside ``no_grad()``."""
    node = _new_value(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.op = ""
    node._a = None
    node._b = None
    return node


def _arity(rule: Rule) -> tuple[int, int | None]:
    """How many arguments ``rule`` takes: at least, and at most (None: any number)."""
    try:
        parameters = inspect.signature(rule).parameters.values()
    except (TypeError, ValueError):  # a callable without a signature: left to the call
        return 0, None
    least, most = 0, 0
    for p in parameters:
        if p.kind is p.VAR_POSITIONAL:
            return least, None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            most += 1
            least += p.default is p.empty
    return least, most


def _checked_result(name: str, result: object, n: int) -> tuple[float, tuple[float, ...]]:
    """Validate what a user's rule returned; say what was wrong and what came."""
    # What a rule almost always returns, a float and a tuple of n floats, is
    # recognised by exact types; only anything else meets the slower checks.
    if type(result) is tuple and len(result) == 2:
        value, local = result
        if (
            type(value) is float
            and type(local) is tuple
            and len(local) == n
            and countOf(map(type, local), float) == n
        ):
            return result
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
    """An op on Values, made from a rule on plain floats (see ``op``).

    Calling it runs the rule on the arguments' floats and records the node.
    ``unary`` and ``binary`` do the same for one and two arguments without
    packing them into a tuple first: the operators on Value call those.
    """

    def __init__(self, rule: Rule, name: str | None = None, *, checked: bool = True) -> None:
        self.rule = rule
        self.name: str = name or str(getattr(rule, "__name__", "op"))
        self._checked = checked
        self._arity = _arity(rule)
        functools.update_wrapper(self, rule)

    def __call__(self, *args: Operand) -> Value:
        n = len(args)
        least, most = self._arity
        if n < least or (most is not None and n > most):
            takes = (
                f"{least}"
                if most == least
                else f"{least} or more"
                if most is None
                else f"{least} to {most}"
            )
            raise TypeError(
                f"op {self.name!r} takes {takes} argument{'' if takes == '1' else 's'}, got {n}"
            )
        if n == 1:
            return self.unary(args[0])
        if n == 2:
            return self.binary(args[0], args[1])
        return self._apply(args)

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def _run_checked(self, xs: Sequence[float]) -> tuple[float, tuple[float, ...]]:
        """A user's rule on ``xs``: its result checked, and its arithmetic errors naming the op."""
        try:
            result = self.rule(*xs)
        except (ArithmeticError, ValueError) as error:
            # math.exp(710) says only "math range error": say which op, and where.
            if type(error) in (ValueError, OverflowError, ZeroDivisionError, ArithmeticError):
                at = repr(xs[0]) if len(xs) == 1 else repr(tuple(xs))
                raise type(error)(f"op {self.name!r} at {at}: {error}") from error
            raise
        return _checked_result(self.name, result, len(xs))

    def unary(self, a: Operand) -> Value:
        """The op of one argument."""
        # The exact class first: the common case, and cheaper than isinstance.
        is_value = type(a) is Value or isinstance(a, Value)
        x = a.data if is_value else _to_float(a, self.name)  # type: ignore[union-attr]
        result = self._run_checked((x,)) if self._checked else self.rule(x)
        data, (dx,) = result
        if not _grad_enabled:
            return _leaf(data)
        # Built without __init__: the fields are set straight from the rule.
        node = _new_value(Value)
        node.data = data
        node.grad = 0.0
        node.label = ""
        node.op = self.name
        node._b = None
        if is_value:
            node._a = a
            node._da = dx
        else:  # a constant: no edge
            node._a = None
        return node

    def binary(self, a: Operand, b: Operand) -> Value:
        """The op of two arguments: what ``+ - * / **`` call."""
        a_is_value = type(a) is Value or isinstance(a, Value)
        b_is_value = type(b) is Value or isinstance(b, Value)
        x = a.data if a_is_value else _to_float(a, self.name)  # type: ignore[union-attr]
        y = b.data if b_is_value else _to_float(b, self.name)  # type: ignore[union-attr]
        result = self._run_checked((x, y)) if self._checked else self.rule(x, y)
        data, (dx, dy) = result
        if not _grad_enabled:
            return _leaf(data)
        node = _new_value(Value)
        node.data = data
        node.grad = 0.0
        node.label = ""
        node.op = self.name
        if a_is_value:
            node._a = a
            node._da = dx
            if b_is_value:
                node._b = b
                node._db = dy
            else:  # the constant b gets no edge
                node._b = None
        elif b_is_value:  # the constant a gets no edge
            node._a = b
            node._da = dy
            node._b = None
        else:
            node._a = None
            node._b = None
        return node

    def _apply(self, args: tuple[Operand, ...]) -> Value:
        """The op of any number of arguments (weighted_sum, total, a user's op)."""
        # The common case, every argument a Value, in one pass: a constant
        # among them (or a subclass of Value) makes the list come out short.
        xs = [a.data for a in args if a.__class__ is Value]
        if len(xs) != len(args):
            return self._apply_mixed(args)
        result = self._run_checked(xs) if self._checked else self.rule(*xs)
        data, local = result
        if not _grad_enabled:
            return _leaf(data)
        if len(args) < 3:
            return _node(data, self.name, args, local)  # type: ignore[arg-type]
        node = _new_value(Value)
        node.data = data
        node.grad = 0.0
        node.label = ""
        node.op = self.name
        node._a = args
        node._da = tuple(local)
        node._b = _SEVERAL
        return node

    def _apply_mixed(self, args: tuple[Operand, ...]) -> Value:
        """``_apply`` where some arguments are plain numbers (or Value subclasses)."""
        name = self.name
        xs: list[float] = []
        is_value: list[bool] = []
        for a in args:
            if a.__class__ is Value or isinstance(a, Value):
                xs.append(a.data)
                is_value.append(True)
            else:
                xs.append(_to_float(a, name))
                is_value.append(False)
        result = self._run_checked(xs) if self._checked else self.rule(*xs)
        data, local = result
        if not _grad_enabled:
            return _leaf(data)
        # Plain numbers are constants: they get no edge, so v * 2 is one node
        # with one parent.
        parents = tuple(compress(args, is_value))
        return _node(data, name, parents, tuple(compress(local, is_value)))  # type: ignore[arg-type]


def _node(data: float, op: str, parents: Sequence[Value], local: Sequence[float]) -> Value:
    """A node of any number of edges, in the layout its count of edges calls for."""
    node = _new_value(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.op = op
    n = len(parents)
    if n > 2:
        node._a = tuple(parents)
        node._da = tuple(local)
        node._b = _SEVERAL
    elif n == 2:
        node._a, node._b = parents
        node._da, node._db = local
    elif n == 1:
        node._a = parents[0]
        node._da = local[0]
        node._b = None
    else:
        node._a = None
        node._b = None
    return node


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
# The activations have public names: weighted_sums(activation=...) and nn's
# layers take them as op objects.
tanh = Op(rules.tanh, "tanh", checked=False)
sigmoid = Op(rules.sigmoid, "sigmoid", checked=False)
relu = Op(rules.relu, "relu", checked=False)
_weighted_sum = Op(rules.weighted_sum, "Σwx+b", checked=False)
# weighted_sums computes rules.weighted_sum's value inline, the same way.
_dot = rules.dot
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
    _check_inputs(w, x)
    return weighted_sums((w,), x, (b,))[0]


def _check_inputs(w: Sequence[Operand], x: Sequence[Operand]) -> None:
    if len(w) != len(x):
        raise ValueError(
            f"weighted_sum: expected one weight per input, got {len(w)} weights and {len(x)} inputs"
        )


def weighted_sums(
    weights: Sequence[Sequence[Operand]],
    x: Sequence[Operand],
    biases: Sequence[Operand],
    activation: Op | None = None,
    labels: Sequence[tuple[str, str]] | None = None,
) -> list[Value]:
    """``weighted_sum(w, x, b)`` for each row ``w`` of ``weights`` and its bias: a layer's nets.

    The nodes are the same as one ``weighted_sum`` per neuron makes; the
    shared inputs are only read once, not once per neuron. Pass each row as
    the same tuple on every call (as ``nn.Neuron`` keeps its weights) and
    backward() looks at its edges once per graph, not once per net.

    With ``activation`` (an op of one argument, such as ``relu`` here),
    each net goes through it and the outputs are returned: a layer's forward
    pass in one call, the same nodes as ``activation(net)`` would make.
    ``labels`` gives each row's net and output their labels.

    >>> w = [[Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]]
    >>> nets = weighted_sums(w, [0.5, 0.25], [Value(0.0), Value(1.0)])
    >>> [net.data for net in nets], len(nets[1].parents)
    ([1.0, 3.5], 3)
    >>> outs = weighted_sums(w, [-1.0, 0.0], [Value(0.0), Value(1.0)], relu)
    >>> [(out.op, out.data, out.parents[0].data) for out in outs]
    [('relu', 0.0, -1.0), ('relu', 0.0, -2.0)]
    """
    if len(weights) != len(biases):
        raise ValueError(
            f"weighted_sums: expected one bias per row of weights, got {len(weights)} rows "
            f"and {len(biases)} biases"
        )
    if labels is not None and len(labels) != len(weights):
        raise ValueError(
            f"weighted_sums: expected one pair of labels per row of weights, got {len(labels)} "
            f"for {len(weights)} rows"
        )
    n = len(x)
    # The two common cases are sorted out once for the layer: every input a
    # Value (a hidden layer: all get edges) or every input a plain float (a
    # first layer: none do). Anything else goes argument by argument.
    x_data = [a.data for a in x if a.__class__ is Value]
    if n and len(x_data) == n:
        inputs: tuple[Value, ...] = tuple(x)  # type: ignore[arg-type]
        xs = tuple(x_data)
    elif n and not x_data and not [a for a in x if a.__class__ is not float]:
        inputs = ()
        xs = tuple(x)  # type: ignore[arg-type]
    else:
        inputs, xs = (), ()
        n = -1  # no row takes the fast path below
    name = _weighted_sum.name
    if activation is not None:
        act_rule, act_name, act_checked = activation.rule, activation.name, activation._checked
    outs = []
    for j, (w, b) in enumerate(zip(weights, biases)):
        wd = [a.data for a in w if a.__class__ is Value]
        if len(wd) == n == len(w) and (b.__class__ is Value or b.__class__ is float):
            if b.__class__ is Value:
                bias: Value | None = b
                data = _dot(wd, xs) + b.data
            else:  # a constant bias: no edge
                bias = None
                data = _dot(wd, xs) + b  # type: ignore[assignment]
            if _grad_enabled:
                net = _new_value(Value)
                net.data = data
                net.grad = 0.0
                net.label = ""
                net.op = name
                net._a = w if w.__class__ is tuple else tuple(w)
                net._da = xs  # ∂net/∂wᵢ = xᵢ
                net._b = inputs
                net._db = tuple(wd) if inputs else ()  # ∂net/∂xᵢ = wᵢ
                net._c = bias  # ∂net/∂b = 1
            else:
                net = _leaf(data)
        else:  # a constant weight, an input of each kind, a wrong length, an odd bias
            net = _weighted_sum_of_operands(w, x, b)
        if labels is not None:
            net.label, out_label = labels[j]
        if activation is None:
            outs.append(net)
            continue
        if not _grad_enabled:
            out = activation.unary(net)
        else:  # what activation.unary(net) does, without a call per net
            result: tuple[float, Sequence[float]]
            if act_checked:
                result = activation._run_checked((net.data,))
            else:
                result = act_rule(net.data)
            out = _new_value(Value)
            out.data, (out._da,) = result  # the value, and ∂out/∂net
            out.grad = 0.0
            out.op = act_name
            out._a = net
            out._b = None
        out.label = "" if labels is None else out_label
        outs.append(out)
    return outs


def _weighted_sum_of_operands(w: Sequence[Operand], x: Sequence[Operand], b: Operand) -> Value:
    """``weighted_sum`` with constants among its operands: argument by argument."""
    _check_inputs(w, x)
    return _weighted_sum._apply((*w, *x, b))


def total(values: Sequence[Operand]) -> Value:
    """Σ values as ONE node, with an edge (local derivative 1) per Value.

    >>> a, b = Value(1.0), Value(2.0)
    >>> s = total([a, b, 3.0])
    >>> s.data, len(s.parents)
    (6.0, 2)
    """
    return _total._apply(tuple(values))


def grad(root: Value, wrt: Sequence[Value]) -> list[float]:
    """∂root/∂v for each v in ``wrt``, returned, leaving every ``.grad`` as it is.

    >>> x = Value(3.0)
    >>> grad(x * x, [x]), x.grad
    ([6.0], 0.0)
    """
    grads: dict[Value, float] = {root: 1.0}
    for node in reversed(_walk(root, False)[0]):
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
