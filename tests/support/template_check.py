"""A template held to its rule: both run at the same floats, compared to the bit.

An op's template (tinygrad_bp.expressions.Template) says its value and
local derivatives as the Python the trace writes; the rule computes them on
floats. These run both the way the generated code would (each argument a
variable, or a literal where a trace writes a number) and compare float for
float: the same value, the same sign of zero, NaN where NaN, the same error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from tinygrad_bp import expressions
from tinygrad_bp.expressions import Template

Rule = Callable[..., tuple[float, Sequence[float]]]


def run_rule(rule: Rule, xs: Sequence[float]) -> object:
    """``(value, local derivatives)`` of the rule at ``xs``, or "raises"."""
    try:
        value, local = rule(*xs)
    except (ArithmeticError, ValueError):
        return "raises"
    return (value, tuple(local))


def run_template(
    template: Template, xs: Sequence[float], constants: Sequence[int] = (), out: str = "out"
) -> object:
    """The template's value and local derivatives at ``xs``: the arguments are
    variables, but those at ``constants``, which are literals as a trace writes them;
    ``out`` is the name the op's own value has. Each ``grad`` form is held to local · g."""
    names = [f"x{k}" for k in range(len(xs))]
    args = [expressions.literal(x) if k in constants else names[k] for k, x in enumerate(xs)]
    env: dict[str, object] = {**expressions.FUNCTIONS, **dict(zip(names, xs))}
    no_builtins: dict[str, object] = {"__builtins__": {}}
    try:
        value = eval(template.value_code(args, out), no_builtins, env)  # noqa: S307
        env[out] = value
        local = tuple(eval(d, no_builtins, env) for d in template.local_code(args, out))  # noqa: S307
        for k, d in enumerate(local):
            written = template.grad_code(k, args, out, "g")
            for g in (3.0, -0.0, -math.inf, math.nan) if written is not None else ():
                env["g"] = g  # the grad form: local · g, at any g
                assert same_float(eval(written, no_builtins, env), d * g), (written, g)  # noqa: S307
    except (ArithmeticError, ValueError):
        return "raises"
    return (value, local)


def same_float(a: float, b: float) -> bool:
    """Equal to the bit: NaN equals NaN, and 0.0 is not -0.0."""
    return (math.isnan(a) and math.isnan(b)) or (
        a == b and math.copysign(1, a) == math.copysign(1, b)
    )


def same_result(a: object, b: object) -> bool:
    """Two ``run_rule``/``run_template`` results, the same to the bit (or both raise)."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    assert isinstance(a, tuple) and isinstance(b, tuple)
    return same_float(a[0], b[0]) and len(a[1]) == len(b[1]) and all(map(same_float, a[1], b[1]))
