"""Backprop written out as code: trace a graph once, replay it as straight-line Python.

A graph is a program: one statement per node for the forward pass, then,
node by node in reverse, the chain rule for the backward pass. ``trace``
writes that program out, named from the nodes' labels, compiles it once, and
runs it as often as asked: every node recomputed from the leaves' current
``.data``, every leaf's ``.grad`` accumulated exactly as ``backward()``
accumulates it. It reads like the article's derivation and runs faster
than the interpreted engine (no node objects, no walk) and than the same
network written with lists of floats (no lists, no loops over weights).

>>> from tinygrad_bp import Value
>>> a, b = Value(2.0, "a"), Value(3.0, "b")
>>> c = a * b + a
>>> c.label = "c"
>>> traced = trace(c)
>>> print(traced.source, end="")
def c_pass(leaves):
    # The values of the leaves now
    a = leaves[0].data
    b = leaves[1].data
    # The forward pass, parents first
    mul1 = a * b
    c = mul1 + a
    # The backward pass: g_x is ∂c/∂x, its children first
    g_c = 1.0
    g_mul1 = 1.0
    g_a = 1.0
    g_a += b
    g_b = a
    # The leaves accumulate, as backward() does
    leaves[0].grad += g_a
    leaves[1].grad += g_b
    return c
>>> a.data = 5.0
>>> traced(), a.grad, b.grad
(20.0, 4.0, 5.0)

What a trace cannot see: the graph's SHAPE is fixed when it is traced,
as with ``jax.jit``. Python control flow on ``.data`` (an ``if x.data > 0``
in a model, a loop whose length depends on a value) took one branch while
the graph was built, and the trace replays that branch for every input.
Control flow inside an op's rule is not frozen (a ReLU that switches, a
hinge term that comes and goes): each rule's decisions are made again on
every call. The nodes of the traced graph keep the values of the pass that
built them; only the leaves are read and given gradients.

Built-in ops are written inline from their templates (the op table, ``ops.py``);
any other op, a user's ``@op`` included, is called through its rule. The
only code ever compiled is generated here from those templates: labels
become identifiers made of letters, digits and underscores, constants are
``repr`` float literals, and rules are passed in by reference, never by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .. import checks, grad_mode
from ..checks import positive_lr
from ..value import Operand, Value, walk
from .codegen import TraceError, graph_nodes, identifier
from .compiled import (
    MAX_SIZE,
    batch_and_seed,
    bounded,
    forget_compiled,
    pass_function,
    sgd_function,
)

if TYPE_CHECKING:  # type hints only: the batched code is imported when first asked for
    from .batched import Batched

__all__ = ["trace", "Traced", "TraceError", "forget_compiled", "MAX_SIZE"]


class Traced:
    """A graph's forward and backward pass as generated Python, compiled once.

    Made by ``trace``. ``source`` is the code; calling the object runs it.
    ``leaves`` are the Values it reads (``.data``) and accumulates into
    (``.grad``); for a trace of a function, ``inputs`` are the Values that
    stood for the example, which each example replaces.

    The graph's shape is frozen (see the module docstring): Python control
    flow on ``.data`` is replayed as it went while tracing. ``check()``
    says whether the graph still has the shape that was traced.

    What was traced, for the code that writes the functions (compiled.py):
    ``roots``, ``penalty``, ``example`` (the example's structure), ``order``
    (every node, parents first), ``main`` (those computed per example),
    ``term_order`` and ``penalty_order`` (each root's own walk), ``fn_name``.
    """

    def __init__(
        self,
        roots: Sequence[Value],
        inputs: Sequence[Sequence[Value] | Value] | None = None,
        penalty: Value | None = None,
        fn_name: str = "",
    ) -> None:
        self.root = roots[0]
        self.roots = tuple(roots)
        self.penalty = penalty
        self.example = inputs  # the example's structure: a Value or a list per argument
        flat: list[Value] = []
        for item in inputs or ():
            flat += [item] if isinstance(item, Value) else list(item)
        self.inputs: tuple[Value, ...] = tuple(flat)
        self.outputs: list[Any] = []  # a function's extra outputs, one per example, last call
        order, leaves, walks = graph_nodes([*roots, *([penalty] if penalty is not None else [])])
        self.term_order = walks[0]
        self.penalty_order = walks[-1] if penalty is not None else []
        in_roots = {n for w in walks[: len(roots)] for n in w}
        self.main = [n for n in order if n in in_roots]  # computed once per example
        is_input = set(self.inputs)
        if penalty is not None:
            pen_leaves = walk(penalty) if not self.penalty_order else []  # a leaf: itself
            reads = {a for n in self.penalty_order for a in n.args if isinstance(a, Value)}
            if is_input & (reads | set(pen_leaves) | {penalty}):
                raise TraceError(
                    "the penalty depends on the example; it must be of the parameters alone"
                )
        # The leaves in the order the forward pass first reads them.
        first_read = [a for n in order for a in n.args if isinstance(a, Value)]
        ordered = dict.fromkeys(a for a in [*first_read, *leaves] if a.creator is None)
        self.leaves: tuple[Value, ...] = tuple(n for n in ordered if n not in is_input)
        self.order = order
        self.size = sum(1 + len(n.args) for n in order)  # nodes and edges: what compiles
        self._shape = self._structure(order)
        self.fn_name = fn_name
        self._generated: tuple[str, Callable[..., Any]] | None = None  # made when first needed
        self._sgd: dict[tuple[tuple[Value, ...], bool], tuple[str, Callable[..., Any]]] = {}
        self._batched: Batched | None = None

    # -- the structure, to tell whether the graph changed
    @staticmethod
    def _structure(order: list[Value]) -> list[tuple[Any, ...]]:
        return [(n, n.creator, n.args, n.parents) for n in order]

    def check(self) -> None:
        """Raise TraceError if the graph is no longer the one traced.

        Walks the graph again: a parent replaced, a node's op or constants
        changed, a leaf swapped for another. Cheap next to building a graph,
        but a walk: call it when something may have changed the graph.
        """
        roots = [*self.roots, *([self.penalty] if self.penalty is not None else [])]
        now = self._structure(graph_nodes(roots)[0])
        if len(now) != len(self._shape):
            raise TraceError(
                f"the graph has changed since it was traced: {len(now)} nodes, "
                f"traced with {len(self._shape)}; trace it again"
            )
        for k, (a, b) in enumerate(zip(now, self._shape)):
            if a[0] is not b[0] or a[1] is not b[1] or not _same(a[2], b[2]) or a[3] != b[3]:
                what = a[0].label or a[0].op
                raise TraceError(
                    f"the graph has changed since it was traced, at node {k} ({what!r}): "
                    "trace it again"
                )

    @property
    def source(self) -> str:
        """The generated Python: the forward pass, then the backward pass."""
        return self._compiled()[0]

    def _compiled(self) -> tuple[str, Callable[..., Any]]:
        if self._generated is None:
            self._generated = pass_function(self)
        return self._generated

    @property
    def batched(self) -> Batched:
        """This trace run over a whole batch at once with NumPy (``batched.py``), made once.

        Called as the trace is called, with the same result to about 1e-15
        relative; ``batched.source`` is its code. Needs NumPy.
        """
        if self._batched is None:
            try:
                from .batched import Batched  # here: NumPy is imported only when asked for
            except ImportError as e:
                raise TraceError(
                    f"the batched trace needs NumPy ({e}): pip install numpy; calling the "
                    "trace itself runs it example by example"
                ) from None
            self._batched = Batched(self)
        return self._batched

    # -- the SGD loop
    def sgd_source(self, parameters: Sequence[Value]) -> str:
        """The generated training loop ``sgd`` runs for these parameters (see ``sgd``)."""
        return self._sgd_function(parameters)[0]

    def _sgd_function(
        self, parameters: Sequence[Value], checked: bool = False
    ) -> tuple[str, Callable[..., Any]]:
        """The loop for these parameters (made once): checked, it tests every step's gradients."""
        key = (tuple(dict.fromkeys(parameters)), checked)
        if key not in self._sgd:
            self._sgd[key] = sgd_function(self, key[0], checked)
        return self._sgd[key]

    def sgd(self, parameters: Sequence[Value], lr: float, steps: int) -> int:
        """``steps`` updates of plain SGD, p⁺ = p − lr·∂root/∂p, in the generated loop.

        The same numbers as ``steps`` times zero_grad(), ``root.backward()``
        and ``SGD(parameters, lr).step()`` on a graph rebuilt each time:
        afterwards each parameter holds its ``.data`` after the updates and
        the ``.grad`` of the last step. Only the parameters are read back
        and written; the other leaves are constants of the loop (their
        ``.grad`` is left alone). Returns the number of updates made: an inf
        or NaN gradient stops the loop before that update, with the
        gradients of that step in ``.grad``, as ``SGD.step`` refuses it.
        ``lr`` is checked as ``SGD`` checks it: a finite number above 0.
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"sgd: steps must be a whole number >= 0, got {steps!r}")
        lr = positive_lr(lr, "sgd")  # as SGD: a NaN, inf or negative rate would train nonsense
        if steps == 0:
            return 0
        leaves = self.leaves
        try:
            done = self._sgd_function(parameters)[1](leaves, steps, lr)
            if done < 0:  # an inf or NaN on the way: the checked loop stops where SGD would
                done = self._sgd_function(parameters, checked=True)[1](leaves, steps, lr)
        except (ArithmeticError, ValueError, TypeError) as error:
            # The loop's state went with the error (nothing was written back):
            # take the steps again one at a time, to stop where a rule fails.
            checked = self._sgd_function(parameters, checked=True)[1]
            for made in range(steps):
                try:
                    if checked(leaves, 1, lr) == 0:
                        return made
                except (ArithmeticError, ValueError, TypeError):
                    self._diagnose()
                    raise error from None
            raise
        return int(done)

    # -- calling
    def __call__(self, examples: Iterable[Any] | None = None, *, mean: bool = False) -> float:
        """Recompute, backpropagate, accumulate into ``.grad``; return the root's value.

        A trace of a graph takes no arguments. A trace of a function takes
        the examples (each what the traced example was: the tuple of the
        function's arguments, or its one argument) and returns the sum of
        the function's values over them, or their mean with ``mean=True``
        (each example's gradient then weighs 1/n, as in ``total(terms) / n``),
        plus the penalty; the gradients of every example are summed into the
        leaves. The function's further outputs, if it returned any, are in
        ``outputs``, one per example.
        """
        if self.example is None:
            if examples is not None:
                raise TypeError("this trace is of one graph: call it without examples")
            try:
                return float(self._compiled()[1](self.leaves))
            except (ArithmeticError, ValueError, TypeError):
                self._diagnose()
                raise
        if examples is None:
            raise TypeError("this trace is of a function: call it with the examples")
        batch, seed = batch_and_seed(examples, mean)
        n = len(batch)
        try:
            result = self._compiled()[1](self.leaves, batch, seed)
        except (ArithmeticError, ValueError, TypeError):
            self._diagnose(batch)
            raise
        terms, penalty, outputs = result
        terms.reverse()
        outputs.reverse()
        self.outputs = outputs
        total = sum(terms, 0.0)  # as total(terms): left to right
        data = total / n if mean else total
        return float(data + penalty) if self.penalty is not None else float(data)

    # -- errors
    def _diagnose(self, batch: Sequence[Any] | None = None) -> None:
        """Say which op failed, as the engine would: run the rules node by node.

        The generated code raises the math module's error ("math domain
        error"); the rules name the op and its arguments. Raises the rule's
        error if one fails; returns (the caller re-raises) if none does.
        """
        if batch is None:
            self._replay({})
            return
        for k, example in enumerate(batch):
            self._replay(self._bind(example, k))

    def _bind(self, example: Any, k: int) -> dict[Value, float]:
        structure = self.example or ()
        args = (example,) if len(structure) == 1 else tuple(example)
        if len(args) != len(structure):
            raise ValueError(
                f"example {k}: expected {len(structure)} arguments, as traced, got {len(args)}"
            )
        values: dict[Value, float] = {}
        for j, (item, arg) in enumerate(zip(structure, args)):
            where = f"example {k}, argument {j}"
            if isinstance(item, Value):
                values[item] = checks.to_float(arg, where)
                continue
            numbers = list(arg)
            if len(numbers) != len(item):
                raise ValueError(
                    f"{where}: expected {len(item)} numbers, as traced, got {len(numbers)}"
                )
            for v, x in zip(item, numbers):
                values[v] = checks.to_float(x, where)
        return values

    def _replay(self, values: dict[Value, float]) -> None:
        for node in self.order:
            op = node.creator
            assert op is not None
            xs = [
                (values[a] if a in values else a.data) if isinstance(a, Value) else float(a)
                for a in node.args
            ]
            values[node] = op.run(*xs)[0]


def _same(a: tuple[Operand, ...], b: tuple[Operand, ...]) -> bool:
    return len(a) == len(b) and all(
        x is y or (not isinstance(x, Value) and not isinstance(y, Value) and x == y)
        for x, y in zip(a, b)
    )


# -- tracing -------------------------------------------------------------------------------


def trace(
    graph: Value | Callable[..., Any],
    *example: Any,
    penalty: Value | None = None,
    max_size: int | None = MAX_SIZE,
) -> Traced:
    """Trace a graph, or a function of one example, into generated Python.

    ``trace(root)``: the graph already built under ``root``. Calling the
    result recomputes it from the leaves' current ``.data``, accumulates
    every leaf's gradient into ``.grad`` as ``root.backward()`` does, and
    returns the root's new value.

    ``trace(fn, *example)``: calls ``fn`` once on the example, with each
    number (and each number of a list) made a Value labelled by ``fn``'s
    parameter, and traces the graph it returns: a Value (the example's
    term of a loss), or a tuple of the term and further Values to report
    (a score). Calling the result on many examples loops over them inside
    the generated code: what it compiles does not grow with the data.
    ``penalty``: a graph of the parameters alone (a regularizer), added
    once per call.

    The graph's shape is frozen: Python control flow on ``.data`` while it
    was built is replayed as it went, for every call and every example.
    A graph of more than ``max_size`` nodes and edges (``MAX_SIZE``; None:
    no bound) is refused before any code is written: its code's memory.

    >>> from tinygrad_bp import Value
    >>> w = Value(0.5, "w")
    >>> traced = trace(lambda x, y: (w * x - y) * (w * x - y), 1.0, 2.0)
    >>> traced([(1.0, 2.0), (2.0, 1.0)]), w.grad
    (2.25, -3.0)
    """
    if isinstance(graph, Value):
        if example or penalty is not None:
            raise TypeError("trace(root) takes no example: the graph is built already")
        return bounded(Traced([graph]), max_size)
    if not callable(graph):
        raise TypeError(f"trace: expected a Value or a function, got {type(graph).__name__}")
    if not example:
        raise TypeError("trace(fn, *example): give one example to call fn with")
    if not grad_mode.enabled:
        raise TraceError("trace(fn, ...) inside no_grad(): fn would build no graph to trace")
    names = _parameter_names(graph, len(example))
    inputs: list[Value | list[Value]] = []
    for name, arg in zip(names, example):
        if isinstance(arg, (int, float)) and not isinstance(arg, bool):
            inputs.append(Value(arg, name))
        elif isinstance(arg, Sequence) and not isinstance(arg, (str, bytes)):
            inputs.append([Value(x, f"{name}{k + 1}") for k, x in enumerate(arg)])
        else:
            raise TypeError(
                f"trace: an example's arguments must be numbers or lists of numbers, "
                f"got {type(arg).__name__}"
            )
    result = graph(*inputs)
    roots = list(result) if isinstance(result, tuple) else [result]
    if not roots:
        raise TypeError("trace: fn returned an empty tuple; expected a Value, or a tuple of Values")
    for k, r in enumerate(roots):
        if not isinstance(r, Value):
            raise TypeError(f"trace: fn must return Values, got {type(r).__name__} at {k}")
    name = identifier(getattr(graph, "__name__", ""), "")
    return bounded(Traced(roots, inputs, penalty, name), max_size)


def _parameter_names(fn: Callable[..., Any], n: int) -> list[str]:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = names[:n] + [f"x{k}" for k in range(len(names), n)]
    return names
