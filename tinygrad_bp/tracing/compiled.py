"""The functions a trace compiles: its pass and its SGD loop, as Python source.

The pass is the forward pass node by node, then the backward pass (for a
trace of a function, inside a loop over the examples); the SGD loop is
the article's training, every update inside one compiled loop. Both are
assembled here from the pieces ``codegen.py`` writes, for a ``Traced``
(trace.py), and compiled in a namespace that holds only what they call.

>>> from tinygrad_bp import Value, trace
>>> x = Value(3.0, "x"); y = x * x; y.label = "y"
>>> source, function = pass_function(trace(y))
>>> source.splitlines()[0], function([x])
('def y_pass(leaves):', 9.0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..expressions import FUNCTIONS
from ..value import Value
from .codegen import (
    RESERVED,
    SPELLED_OUT,
    Backward,
    Parts,
    TraceError,
    Writer,
    called_rules,
    gated_nodes,
    identifier,
    indent,
    name_graph,
    without_dead_stores,
)

if TYPE_CHECKING:  # type hints only: trace.py imports this module
    from .tracer import Traced


def write_parts(t: Traced, writer: Writer, sgd: Sequence[Value] | None = None) -> Parts:
    """The pieces of ``t``'s pass; with ``sgd``, only those parameters get gradients."""
    per_example = t.example is not None
    index = {leaf: k for k, leaf in enumerate(t.leaves)}
    name_graph(writer, t.inputs, t.leaves, t.order)
    # Which nodes need a gradient: those that lead to a leaf that wants one.
    wanted = set(sgd) if sgd is not None else set(t.leaves)
    needs: set[Value] = set(wanted)
    for n in t.order:
        if any(isinstance(a, Value) and a in needs for a in n.args):
            needs.add(n)
    names = [writer.name_of[leaf] for leaf in t.leaves]
    if len(names) <= SPELLED_OUT:
        loads = [f"{name} = leaves[{k}].data" for k, name in enumerate(names)]
    else:  # one statement: compiling costs by the statement
        loads = [f"{', '.join(names)} = [leaf.data for leaf in leaves]"]
    body = ["# The forward pass, parents first"]
    body += [writer.forward(writer.steps[n], needs) for n in t.main]
    root = writer.name_of[t.root]
    if per_example:
        body.append(f"terms.append({root})")
        extra = [writer.name_of[r] for r in t.roots[1:]]
        if len(extra) == 1:
            body.append(f"outputs.append({extra[0]})")
        elif extra:
            body.append(f"outputs.append(({', '.join(extra)}))")
    # Summed over the examples, a leaf's gradient is defined before the loop.
    leaf_grads = {writer.grad(leaf) for leaf in t.leaves if leaf in wanted}
    back = Backward(writer, needs, leaf_grads if per_example else set())
    back.gated = gated = gated_nodes(t.order)
    back.lines.append(f"# The backward pass: g_x is ∂{root}/∂x, its children first")
    if t.root in needs:
        back.add(t.root, "seed" if per_example else "1.0")
        for n in reversed(t.term_order):
            if n in needs:
                back.node(writer.steps[n])
    body += back.lines
    penalty: list[str] = []
    defined = back.defined
    if t.penalty is not None:
        # Before the examples, as backward() meets it first in the batch's graph.
        pen_order = t.penalty_order
        penalty.append("# The terms of the parameters alone, once, first")
        penalty += [writer.forward(writer.steps[n], needs) for n in pen_order]
        pb = Backward(writer, needs, leaf_grads)
        pb.gated = gated
        if t.penalty in needs:
            pb.add(t.penalty, "1.0")
            for n in reversed(pen_order):
                if n in needs:
                    pb.node(writer.steps[n])
        penalty += pb.lines
        defined = defined | pb.defined
    return Parts(loads, body, penalty, defined, index)


def batch_and_seed(examples: Iterable[Any], mean: bool) -> tuple[Sequence[Any], float]:
    """The examples as a sequence, and the seed of each one's term: 1, or 1/n for the mean."""
    batch = examples if isinstance(examples, (list, tuple)) else list(examples)
    if not batch:
        raise ValueError("no examples: expected at least one")
    return batch, 1.0 / len(batch) if mean else 1.0


def loop_target(t: Traced, writer: Writer) -> str:
    """What the loop over the examples unpacks each example into: the inputs' names."""
    parts = []
    for item in t.example or ():
        if isinstance(item, Value):
            parts.append(writer.name_of[item])
        else:
            inner = ", ".join(writer.name_of[v] for v in item)
            parts.append(f"({inner}{',' if len(item) == 1 else ''})")
    if len(parts) == 1 and parts[0].startswith("("):
        return parts[0][1:-1] or "()"  # a list of one keeps its comma: "x1," unpacks it
    return ", ".join(parts)


def pass_function(t: Traced) -> tuple[str, Callable[..., Any]]:
    """The source of ``t``'s pass and the function compiled from it."""
    writer = Writer(RESERVED)
    parts = write_parts(t, writer)
    root = writer.name_of[t.root]
    name = writer.reserve(identifier(t.fn_name or root, "root") + "_pass")
    lines = [*called_rules(writer), "# The values of the leaves now", *parts.loads]
    if t.example is None:
        lines += parts.body
    else:
        zeros = [writer.grad(leaf) for leaf in t.leaves]
        if zeros:
            lines.append(" = ".join([*zeros, "0.0"]))
        lines += parts.penalty
        lines += ["terms = []", "outputs = []"]
        lines.append("# The last example first, as backward() meets them in the graph of the batch")
        lines.append(f"for {loop_target(t, writer)} in reversed(examples):")
        lines += indent(parts.body, 1)
    lines.append("# The leaves accumulate, as backward() does")
    grads = [writer.grad(leaf) for leaf in t.leaves]
    if len(grads) <= SPELLED_OUT:
        lines += [f"leaves[{k}].grad += {g}" for k, g in enumerate(grads) if g in parts.defined]
    else:
        defined = [g if g in parts.defined else "0.0" for g in grads]
        lines.append(f"for _leaf, _g in zip(leaves, ({', '.join(defined)})):")
        lines.append("    _leaf.grad += _g")
    if t.example is None:
        lines.append(f"return {root}")
        signature = "leaves"
    else:
        pen = writer.name_of[t.penalty] if t.penalty is not None else "0.0"
        lines.append(f"return terms, {pen}, outputs")
        signature = "leaves, examples, seed"
    source = "\n".join([f"def {name}({signature}):", *indent(lines, 1)]) + "\n"
    return source, compile_function(source, name, writer.rules)


def sgd_function(
    t: Traced, parameters: Sequence[Value], checked: bool = False
) -> tuple[str, Callable[..., Any]]:
    """The loop for these parameters: checked, it tests every step's gradients."""
    if t.example is not None:
        raise TraceError("sgd() trains the trace of a graph; call a function's trace instead")
    params = tuple(dict.fromkeys(parameters))
    if not params:  # a loop that trains nothing is a mistake, as SGD([]) is
        raise ValueError("sgd: got an empty parameter list; expected the leaves to train")
    is_leaf = set(t.leaves)
    for k, p in enumerate(params):
        if p not in is_leaf:
            label = f" {p.label!r}" if isinstance(p, Value) and p.label else ""
            raise TraceError(
                f"parameter {k}{label} is not a leaf of the traced graph (replaced since "
                "the trace?); trace the graph again"
            )
    writer = Writer(RESERVED)
    parts = write_parts(t, writer, sgd=params)
    root = writer.name_of[t.root]
    name = writer.reserve(identifier(t.fn_name or root, "root") + "_sgd")
    grads = [writer.grad(p) for p in params]
    values = [writer.name_of[p] for p in params]
    # What nothing reads is left out of the loop: a gradient's store (g_E_o1 =
    # 1.0), a value no gradient needs (E_total), where computing it cannot raise.
    pure = {
        step.name
        for step in writer.steps.values()
        if step.template is not None and not step.template.raises
    }
    dead = (set(writer.grad_of.values()) | pure) - set(grads) - set(values)
    body = without_dead_stores(parts.body, dead)
    update = ["# Every parameter at once: p⁺ = p − lr·∂/∂p"]
    update += [f"{p} -= lr * {g}" for p, g in zip(values, grads)]
    if checked:
        finite = " + ".join(f"{g} * 0.0" for g in grads)
        update[:0] = [
            "# An inf or NaN gradient: stop before the update, as SGD.step does",
            f"if {finite} != 0.0:",
            "    break",
        ]
    lines = [
        *called_rules(writer),
        "# The values of the leaves: the parameters change, the rest are constants",
        *parts.loads,
        "done = 0",
        "for done in range(steps):",
        *indent([*body, *update], 1),
        "else:",
        "    done = steps",
    ]
    if not checked:
        # An inf or NaN gradient leaves an inf or NaN parameter behind: once
        # NaN, always NaN, and p − lr·(±inf) is ∓inf. Then nothing is written
        # back, and the checked loop runs again from the same leaves.
        finite = " + ".join(f"{x} * 0.0" for x in [*values, *grads])
        lines += [f"if {finite} != 0.0:", "    return -1"]
    lines.append("# The parameters, and their gradients at the last step")
    places = [str(parts.index[p]) for p in params]
    if len(params) <= SPELLED_OUT:
        for place, value, g in zip(places, values, grads):
            lines += [f"leaves[{place}].data = {value}", f"leaves[{place}].grad = {g}"]
    else:
        lines += [
            f"for _k, _p, _g in zip(({', '.join(places)}), ({', '.join(values)}), "
            f"({', '.join(grads)})):",
            "    leaves[_k].data = _p",
            "    leaves[_k].grad = _g",
        ]
    lines.append("return done")
    source = "\n".join([f"def {name}(leaves, steps, lr):", *indent(lines, 1)]) + "\n"
    return source, compile_function(source, name, writer.rules)


# Compiling takes 2 to 5 kB a node and edge at its peak (measured on chains and MLPs of up
# to 225,000): this bounds a trace's memory near 250 MB, where the engine's graph takes less.
MAX_SIZE = 50_000


def bounded(t: Traced, max_size: int | None) -> Traced:
    """``t``, or a refusal if compiling its code would take more memory than ``max_size`` allows."""
    if max_size is not None and t.size > max_size:
        raise TraceError(
            f"the graph has {t.size:,} nodes and edges, more than the {max_size:,} a trace "
            "compiles (each takes a few kB to compile); call backward() instead, or raise "
            "max_size"
        )
    return t


# Compiled code by its source: the same shape traced again is not compiled again.
_compiled: dict[str, Any] = {}


def forget_compiled() -> None:
    """Empty the cache of compiled code (to time a trace from scratch)."""
    _compiled.clear()


def compile_function(
    source: str,
    name: str,
    rules: dict[str, Callable[..., Any]],
    builtins: dict[str, Any] | None = None,
) -> Callable[..., Any]:
    """Compile source that ``Writer`` generated; the namespace holds only what it calls.

    ``builtins``: more of Python's built-in names the code may use.
    """
    code = _compiled.get(source)
    if code is None:
        code = compile(source, f"<trace {name}>", "exec")
        if len(_compiled) > 256:
            _compiled.clear()
        _compiled[source] = code
    namespace: dict[str, Any] = {
        "__builtins__": {"range": range, "zip": zip, "reversed": reversed, **(builtins or {})},
        **FUNCTIONS,
        **rules,
    }
    exec(code, namespace)  # noqa: S102 -- source generated above from templates only
    function: Callable[..., Any] = namespace[name]
    return function
