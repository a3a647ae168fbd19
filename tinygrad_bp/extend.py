"""What an op's author needs: making an op from a rule, giving it a method, the node's internals.

``op`` makes a user's rule on floats into an op on Values, checked on every
call (its arity, and that it returns a float and one local derivative per
input), with its derivative as expressions (``Template``) if it gives
them. An op kept as a class attribute of Value is also a method
(``x.sin()`` is ``sin(x)``): ``add_method`` is the one way such a method
is added, for the built-in ops (the op table, ``ops.py``) and a user's
alike. It refuses a name that is not an identifier, that Value already
uses, or that another op already has. ``remove_method`` takes one away.

The rest is the engine's own, for those who extend it: ``Op``, ``OPS``
(the built-in ops by name), ``Template`` and ``walk``.

>>> import math
>>> from tinygrad_bp import Value
>>> @op
... def softplus2(x):
...     return math.log1p(math.exp(x)), (1 / (1 + math.exp(-x)),)
>>> softplus2(Value(0.0)).local_grads
(0.5,)
"""

from __future__ import annotations

import functools
import inspect
import keyword
from collections.abc import Callable
from typing import overload

from . import checks
from .expressions import FUNCTIONS, Template
from .value import OPS, Op, Operand, Rule, Value, walk

__all__ = [
    "FUNCTIONS",
    "Method",
    "OPS",
    "Op",
    "Operand",
    "Rule",
    "Template",
    "Value",
    "add_method",
    "op",
    "remove_method",
    "walk",
]

# The methods ``add_method`` has put on Value, by name: only these can be removed.
_methods: dict[str, Callable[..., Value]] = {}


@overload
def op(
    rule: Rule,
    *,
    name: str | None = None,
    method: bool | str = False,
    template: Template | None = None,
) -> Op: ...
@overload
def op(
    rule: None = None,
    *,
    name: str | None = None,
    method: bool | str = False,
    template: Template | None = None,
) -> Callable[[Rule], Op]: ...
def op(
    rule: Rule | None = None,
    *,
    name: str | None = None,
    method: bool | str = False,
    template: Template | None = None,
) -> Callable[[Rule], Op] | Op:
    """Make an op on Values from a rule on plain floats.

    The rule takes floats and returns ``(value, local_derivatives)``, one
    local derivative per input. The op takes Values or numbers (numbers get
    no edge) and returns a Value whose ``op`` is ``name`` (by default the
    rule's name). A rule that returns the wrong number of local derivatives
    or a non-number raises a TypeError naming the op and what it returned.

    ``template`` (an ``expressions.Template``) writes the value and the
    local derivatives as Python expressions, for the code ``trace``
    generates; without one the trace calls the rule.

    ``method=True`` also makes the op a method of Value under its name, and
    ``method="name"`` under that name (see ``add_method``): ``x.name()`` is
    ``op(x)``, and further arguments follow ``x``.

    >>> import math
    >>> @op
    ... def softplus(x):
    ...     return math.log1p(math.exp(x)), (1 / (1 + math.exp(-x)),)
    >>> y = softplus(Value(0.0))
    >>> y.op, round(y.data, 6), y.local_grads
    ('softplus', 0.693147, (0.5,))
    """
    if isinstance(rule, str):  # @op("name"): the name given where the rule goes
        raise TypeError(
            f"op: the rule must be callable, got the str {rule!r:.40}; give the name as "
            f"name={rule!r:.40}"
        )
    if name is not None and not isinstance(name, str):
        raise TypeError(f"op: name must be a str, got {type(name).__name__} {name!r:.40}")
    if not isinstance(method, (bool, str)):
        raise TypeError(
            f"op: method must be True, False or a name, got {type(method).__name__} {method!r:.40}"
        )

    def make(r: Rule) -> Op:
        new = Op(r, name, template)
        if method is not False:
            add_method(new, None if method is True else method)
        return new

    return make if rule is None else make(rule)


def add_method(method: Callable[..., Value], name: str | None = None) -> Callable[..., Value]:
    """Make ``method`` (an op) a method of Value too: ``x.name()`` is ``method(x)``.

    ``name`` defaults to the op's name. ``method`` may also be a function
    whose first argument is the Value, as ``functions.leaky_relu``. Refused
    with a one-line error: a name that is not a Python identifier (or is a
    keyword), a name Value (or WithNumbers, its other node class) already has as a
    method, field, property or dunder, any dunder (``__call__``, ``__bool__``:
    Python's protocols would call the op), and a name another op already has
    as a method (the error names both ops; ``remove_method`` frees it). Adding
    the same op under the same name again changes nothing. Returns
    ``method``.

    Type checkers do not see a method added this way; the op itself, called
    as a function (``method(x)``), is typed.
    """
    if not callable(method):
        raise TypeError(f"add_method: expected an op, got {type(method).__name__} {method!r:.40}")
    shown = _name(method)
    name = shown if name is None else name
    if not isinstance(name, str):
        raise TypeError(f"add_method: name must be a str, got {type(name).__name__} {name!r:.40}")
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"op {shown!r}: a method's name must be an identifier, got {name!r:.40}")
    existing = _methods.get(name)
    if existing is method:
        return method
    if existing is not None:
        other = f"op {_where(method)}"
        if _where(existing) == _where(method):  # e.g. the same definition run twice
            other = "another op made from a rule of the same name"
        raise ValueError(
            f"Value.{name} is already op {_where(existing)}; {other} cannot replace it "
            f"(remove_method({name!r}) frees the name)"
        )
    taken = _taken_by(name)
    if not taken and name.startswith("__") and name.endswith("__"):
        taken = "a special method's name (Python's protocols read them)"
    if taken:
        raise ValueError(f"op {shown!r}: {name!r} is already {taken}; choose another name")
    if (method.most if isinstance(method, Op) else checks.arity(method)[1]) < 1:
        raise TypeError(f"op {shown!r} takes no argument, so it cannot be a method")
    setattr(Value, name, Method(method))
    _methods[name] = method
    return method


class Method:
    """An op kept on Value as a method: ``x.name(...)`` is ``op(x, ...)``, ``Value.name`` the op."""

    def __init__(self, op: Callable[..., Value]) -> None:
        self.op = op

    def __get__(self, value: Value | None, owner: type | None = None) -> Callable[..., Value]:
        return self.op if value is None else functools.partial(self.op, value)


def remove_method(name: str) -> Callable[..., Value]:
    """Take away the method ``name`` that ``add_method`` added; return its op.

    The op itself keeps working as a function. Value's own methods (``exp``,
    ``backward``, ...) are not ops' methods and cannot be removed.
    """
    removed = _methods.pop(name, None) if isinstance(name, str) else None
    if removed is None:
        raise ValueError(f"remove_method: Value has no op method {name!r:.40}")
    delattr(Value, name)
    return removed


def _name(f: Callable[..., Value]) -> str:
    """An op's name; a function's own name."""
    return f.name if isinstance(f, Op) else str(getattr(f, "__name__", "op"))


def _where(f: Callable[..., Value]) -> str:
    """An op by name and by where its rule was defined: 'softplus' (mymodule.softplus)."""
    rule = f.rule if isinstance(f, Op) else f
    module = getattr(rule, "__module__", None)
    qualname = getattr(rule, "__qualname__", None)
    return f"{_name(f)!r} ({module}.{qualname})" if module and qualname else repr(_name(f))


_NONE = object()  # no such attribute


def _taken_by(name: str) -> str:
    """What ``name`` already is on Value or its subclasses ('a field of Value'), or ''."""
    kinds = [Value]
    for kind in kinds:  # grows as it goes: every subclass, however deep
        kinds.extend(k for k in kind.__subclasses__() if k not in kinds)
    for kind in kinds:  # what a node of that kind sees: its class's and their bases' own
        attribute = next((vars(k)[name] for k in kind.__mro__ if name in vars(k)), _NONE)
        if attribute is _NONE:
            continue
        if inspect.ismemberdescriptor(attribute):
            what = "a field"
        elif isinstance(attribute, property):
            what = "a property"
        else:
            what = "a method" if callable(attribute) else "an attribute"
        return f"{what} of {kind.__name__}"
    return ""
