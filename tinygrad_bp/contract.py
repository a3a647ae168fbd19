"""What a rule must be: how many floats it takes, and what it returns.

A rule takes plain floats and returns ``(value, local_derivatives)``: a
float, and one float per input. Built-in rules are tested to keep this; a
user's rule (``@op``) is checked here on every call, so a mistake in it is
named where it happens rather than deep inside ``backward()``.

>>> def square(x):
...     return x * x, (2 * x,)
>>> arity(square)
(1, 1)
>>> run_checked(square, "square", [3.0])
(9.0, (6.0,))
"""

from __future__ import annotations

import inspect
import numbers
import reprlib
import sys
from collections.abc import Callable, Sequence
from operator import countOf

ANY = sys.maxsize  # the most arguments of a rule that takes any number


def to_float(x: object, where: str) -> float:
    """``x`` as a float, or an error that names ``where`` and what came."""
    # The exact types first: an isinstance check against the numbers ABCs
    # costs ten times more, and numbers in graphs are almost always floats.
    if type(x) is float:
        return x
    if type(x) is int or isinstance(x, numbers.Real):
        try:
            return float(x)
        except OverflowError:
            raise ValueError(f"{where}: {reprlib.repr(x)} is too large for a float") from None
    raise TypeError(
        f"{where}: expected a Value or a real number, got {type(x).__name__} {reprlib.repr(x)}"
    )


def arity(rule: Callable[..., object]) -> tuple[int, int]:
    """How many arguments ``rule`` takes: at least, and at most (``ANY``)."""
    try:
        parameters = inspect.signature(rule).parameters.values()
    except (TypeError, ValueError):  # a callable without a signature: left to the call
        return 0, ANY
    least, most = 0, 0
    for p in parameters:
        if p.kind is p.VAR_POSITIONAL:
            return least, ANY
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            most += 1
            least += p.default is p.empty
    return least, most


def arity_error(name: str, takes: tuple[int, int], n: int) -> str:
    """The message for an op called with ``n`` arguments that takes ``takes``."""
    least, most = takes
    count = (
        f"{least}" if most == least else f"{least} or more" if most == ANY else f"{least} to {most}"
    )
    return f"op {name!r} takes {count} argument{'' if count == '1' else 's'}, got {n}"


def run_checked(
    rule: Callable[..., object], name: str, xs: Sequence[float]
) -> tuple[float, tuple[float, ...]]:
    """``rule(*xs)``, its result checked, its arithmetic errors naming the op and the inputs."""
    try:
        result = rule(*xs)
    except (ArithmeticError, ValueError) as error:
        # math.exp(710) says only "math range error": say which op, and where.
        # A user's own exception type passes through as it is.
        if type(error) in (ValueError, OverflowError, ZeroDivisionError, ArithmeticError):
            at = repr(xs[0]) if len(xs) == 1 else repr(tuple(xs))
            raise type(error)(f"op {name!r} at {at}: {error}") from error
        raise
    return checked_result(name, result, len(xs))


def run_trusted(
    rule: Callable[..., tuple[float, Sequence[float]]], name: str, xs: Sequence[float]
) -> tuple[float, Sequence[float]]:
    """``rule(*xs)`` as it is: a built-in rule, tested instead of checked."""
    return rule(*xs)


def checked_result(name: str, result: object, n: int) -> tuple[float, tuple[float, ...]]:
    """Validate what a rule returned; say what was wrong and what came."""
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
