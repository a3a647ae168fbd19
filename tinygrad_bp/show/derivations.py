"""A derivation as data, and as the article writes it: ∂root/∂node, line by line.

``Explainer`` (explanation.py) finds the factors; a ``Derivation`` holds them:
its ``lines``, each a sum of products of ``Partial`` derivatives with their
names, values and the edges they were read from. ``text()`` writes it out::

    ∂E_total/∂w5 = ∂E_total/∂out_o1 × ∂out_o1/∂net_o1 × ∂net_o1/∂w5
                 = 0.74136507 × 0.186815602 × 0.593269992 = 0.082167041

>>> from tinygrad_bp import Value
>>> x = Value(3.0, "x"); y = x * 2.0; y.label = "y"
>>> d = Partial(y, x, "∂y/∂x", 2.0, "local", ((y, 0),))
>>> print(Derivation(y, x, "∂y/∂x", 2.0, (Line(d, ((d,),), 2.0),)))
∂y/∂x = 2
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..value import Value
from .equations import joined
from .formatting import number

Edge = tuple[Value, int]  # (child, k): the edge from child.parents[k]


@dataclass(frozen=True, eq=False)
class Partial:
    """One derivative in a derivation: ∂``of``/∂``wrt`` = ``value``.

    ``kind`` says where the number comes from: "local" (the local
    derivatives recorded on ``edges``, multiplied through sums' factors of
    1 where folded), "gradient" (∂root/∂of as backward() left it in
    ``of.grad``, or ∂of/∂wrt read from ``wrt``'s consumer's grad when ``of``
    is a summand of the root), "term" (a term of a sum, expanded on a later
    line) or "result" (the left-hand side of a line).
    """

    of: Value
    wrt: Value
    name: str
    value: float
    kind: str
    edges: tuple[Edge, ...] = ()


@dataclass(frozen=True, eq=False)
class Line:
    """``lhs`` = Σ over ``terms`` of the product of each term's factors = ``value``."""

    lhs: Partial
    terms: tuple[tuple[Partial, ...], ...]
    value: float
    note: str = ""


@dataclass(frozen=True, eq=False)
class Derivation:
    """∂root/∂node = ``value``, derived in ``lines`` (the first is the answer)."""

    root: Value
    node: Value
    name: str
    value: float
    lines: tuple[Line, ...]
    notes: tuple[str, ...] = field(default=())

    def text(self, precision: int = 9, max_factors: int = 12) -> str:
        """The derivation as text, numbers to ``precision`` decimals.

        A product of more than ``max_factors`` factors is shortened in the
        middle (the value is still the whole product).
        """
        out: list[str] = []
        if not self.lines:
            out.append(f"{self.name} = {number(self.value, precision, trim=True)}")
        for line in self.lines:
            out.extend(_line_text(line, precision, max_factors))
        out.extend(self.notes)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()


def _trimmed(precision: int) -> Callable[[float], str]:
    """A number as the equations write it, to ``precision`` decimals."""
    return lambda x: number(x, precision, trim=True)


def _shorten(items: Sequence[str], limit: int) -> list[str]:
    if len(items) <= limit or limit < 3:
        return list(items)
    head, tail = (limit + 1) // 2, limit // 2
    return [*items[:head], f"… ({len(items) - head - tail} more)", *items[len(items) - tail :]]


def _line_text(line: Line, precision: int, max_factors: int) -> list[str]:
    lhs = line.lhs.name
    value = number(line.value, precision, trim=True)
    only = line.terms[0][0] if len(line.terms) == 1 and len(line.terms[0]) == 1 else None
    if only is not None and only.name == lhs:
        # A single recorded local derivative: say which edges it is read from.
        locals_ = [number(e[0].local_grads[e[1]], precision, trim=True) for e in only.edges]
        shown = " + ".join(locals_) + f" = {value}" if len(locals_) > 1 else value
        return [f"{lhs} = {shown}", *([f"  ({line.note})"] if line.note else [])]
    names = " + ".join(" × ".join(_shorten([f.name for f in t], max_factors)) for t in line.terms)
    numbers = " + ".join(
        " × ".join(_shorten([number(f.value, precision, trim=True) for f in t], max_factors))
        for t in line.terms
    )
    pad = " " * len(lhs)
    lines = [f"{lhs} = {names}", f"{pad} = {numbers} = {value}"]
    if line.note:
        lines.append(f"{pad}   ({line.note})")
    return lines


# -- forward mode: the same local derivatives, swept from the inputs ---------------------------


@dataclass(frozen=True, eq=False)
class TangentTerm:
    """One term of a tangent's sum: ∂node/∂parent on edge ``edge`` × the parent's tangent."""

    edge: Edge
    local_name: str  # ∂node/∂parent
    local: float
    tangent_name: str  # dparent/dx
    tangent: float


@dataclass(frozen=True, eq=False)
class TangentLine:
    """``name`` (dnode/dx) = Σ over ``terms`` of local × the parent's tangent = ``value``."""

    node: Value
    name: str
    terms: tuple[TangentTerm, ...]
    value: float

    def text(self, precision: int = 9) -> str:
        """The line in symbols, then in numbers, as a backward line is written."""
        n = _trimmed(precision)
        symbols = joined([f"{t.local_name} × {t.tangent_name}" for t in self.terms], " + ")
        numbers = joined([f"{n(t.local)} × {n(t.tangent)}" for t in self.terms], " + ")
        pad = " " * len(self.name)
        return f"{self.name} = {symbols}\n{pad} = {numbers} = {n(self.value)}"


@dataclass(frozen=True, eq=False)
class ForwardDerivation:
    """∂root/∂wrt by one forward sweep: the seed, then each node's tangent, inputs first.

    ``tangents`` holds every node's tangent (dnode/dwrt), ``lines`` the nodes
    computed from others in topological order, ``seeds`` the leaves (and
    ``wrt``) with the tangent each starts from. ``reverse`` is ∂root/∂wrt as
    reverse mode derives it (``explain``), or None where backward() has not
    been run; ``visits`` the nodes the sweep visits.
    """

    root: Value
    wrt: Value
    name: str  # ∂root/∂wrt
    value: float
    seeds: tuple[tuple[Value, str, float], ...]  # (node, its name, its tangent)
    lines: tuple[TangentLine, ...]
    tangents: dict[Value, float]
    visits: int
    reverse: float | None = None
    notes: tuple[str, ...] = field(default=())

    def text(self, precision: int = 9) -> str:
        """The sweep as text: how a tangent is found, the seed, each node's line, both modes."""
        n = _trimmed(precision)
        if not self.seeds:  # wrt is not in the graph: the notes say why
            return "\n".join([f"{self.name} = {n(self.value)}", *self.notes])
        out = [self.start_text(precision)]
        for line in self.lines:
            out += ["", line.text(precision)]
        out += ["", self.both_modes(precision), *self.notes]
        return "\n".join(out)

    def start_text(self, precision: int = 9) -> str:
        """How a tangent is found, and the seed: ``seed: dx/dx = 1``, the other leaves
        (listed, shortened past a dozen) at 0."""
        (_, x, one), *others = self.seeds
        rule = (
            f"Forward mode for {self.name}: one sweep from the inputs, each node's tangent\n"
            f"d(node)/d{x} = Σ over its edges of ∂node/∂parent × d(parent)/d{x}\n"
        )
        said = f"seed: d{x}/d{x} = {number(one, precision, trim=True)}"
        if others:
            listed = joined([name for _, name, _ in others], ", ")
            said += f", and 0 on every other leaf ({listed})"
        return rule + said

    def both_modes(self, precision: int = 9) -> str:
        """One line: the root's tangent by this sweep, and ∂root/∂wrt by reverse mode."""
        n = _trimmed(precision)
        # The root's tangent by name, where the sweep computed one (not for root = wrt).
        tangent = f"{self.lines[-1].name} = " if self.lines else ""
        said = f"{self.name} = {tangent}{n(self.value)} by forward mode"
        if self.reverse is None:
            return said
        same = math.isclose(self.reverse, self.value, rel_tol=1e-9, abs_tol=1e-12) or (
            math.isnan(self.reverse) and math.isnan(self.value)
        )
        return f"{said} {'=' if same else '≠'} {n(self.reverse)} by reverse mode (backward)"

    def __str__(self) -> str:
        return self.text()
