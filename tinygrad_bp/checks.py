"""Checks at the boundary: a number where one is due, what a rule must be, text made printable.

Checks that more than one part makes live here, so that their messages agree: a
learning rate (``nn``'s optimizers and ``Traced.sgd``), a file read or written by
the command line and by ``nn``'s load and save (a regular file).

What a rule must be: how many floats it takes, and what it returns.

A rule takes plain floats and returns ``(value, local_derivatives)``: a
float, and one float per input. Built-in rules are tested to keep this; a
user's rule (``@op``) is checked here on every call, so a mistake in it is
named where it happens rather than deep inside ``backward()``.

>>> def square(x):
...     return x * x, (2 * x,)
>>> arity(square)
(1, 1)
>>> checked_result("square", square(3.0), 1)
(9.0, (6.0,))
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import reprlib
import stat
import sys
from collections.abc import Callable
from operator import countOf
from typing import Any, Protocol


class CheckedOp(Protocol):
    """What ``run_checked`` reads of an op (``value.Op``)."""

    name: str
    rule: Callable[..., Any]


LABEL_LIMIT = 80  # a label longer than this is cut (Graphviz refuses labels past 16 KiB)
ANY = sys.maxsize  # the most arguments of a rule that takes any number


def to_float(x: object, where: str, expected: str = "a Value or a real number") -> float:
    """``x`` as a float, or an error that names ``where``, what was expected and what came."""
    # The exact types first: an isinstance check against the numbers ABCs
    # costs ten times more, and numbers in graphs are almost always floats.
    if type(x) is float:
        return x
    if type(x) is int or isinstance(x, numbers.Real):
        try:
            return float(x)
        except OverflowError:
            raise ValueError(f"{where}: {reprlib.repr(x)} is too large for a float") from None
    raise TypeError(f"{where}: expected {expected}, got {type(x).__name__} {reprlib.repr(x)}")


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


def run_checked(op: CheckedOp, *xs: float) -> tuple[float, tuple[float, ...]]:
    """``op.rule(*xs)`` for a user's op: its result checked, and an arithmetic error
    naming the op and the inputs (the count of arguments is checked by the call)."""
    name = op.name
    try:
        result = op.rule(*xs)
    except (ArithmeticError, ValueError) as error:
        # math.exp(710) says only "math range error": say which op, and where.
        # A user's own exception type passes through as it is.
        if type(error) in (ValueError, OverflowError, ZeroDivisionError, ArithmeticError):
            at = repr(xs[0]) if len(xs) == 1 else repr(tuple(xs))
            raise type(error)(f"op {name!r} at {at}: {error}") from error
        raise
    return checked_result(name, result, len(xs))


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


def printable(s: str, limit: int = LABEL_LIMIT, *, lines: bool = False) -> str:
    """``s`` with every unprintable character shown as its escape, cut at ``limit``.

    Escapes (ESC, NUL), newlines, line separators and lone surrogates come
    out as ``\\x1b``, ``\\n``, ``\\u2028``, ``\\ud800``: text a terminal, a web
    page or UTF-8 can always take. With ``lines=True`` a newline stays a
    newline and a tab becomes a space (a label drawn on several lines).
    """
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    if s.isprintable():
        return s
    return "".join(_visible(ch, lines) for ch in s)


def _visible(ch: str, lines: bool) -> str:
    if ch.isprintable():
        return ch
    if lines and ch == "\n":
        return ch
    if lines and ch == "\t":
        return " "
    return repr(ch)[1:-1]  # '\x1b' for ESC, '\u2028' for a line separator


def short_repr(x: object, limit: int = 40) -> str:
    """A repr short enough for a one-line message (long strings and lists are cut).

    >>> short_repr(list(range(100)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    shorten = reprlib.Repr()
    shorten.maxstring = shorten.maxother = limit
    return printable(shorten.repr(x), limit * 2)


def real_number(value: object, name: str, where: str) -> float:
    """``value`` as a float if it is a real number (not a bool), else a TypeError saying so."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number, got {type(value).__name__}")
    return float(value)


def positive_lr(value: object, where: str) -> float:
    """``value`` as a float if it is a finite learning rate above 0, else the error saying so.

    ``where`` names the caller in the message (``SGD``, ``sgd``).
    """
    lr = real_number(value, "lr", where)
    if not (math.isfinite(lr) and lr > 0.0):  # also refuses NaN
        raise ValueError(f"{where}: the learning rate must be a positive number, got {lr!r}")
    return lr


def not_a_regular_file(mode: int) -> str | None:
    """What a file of this ``st_mode`` is if it is not a regular file (None if it is one).

    A named pipe blocks a reader or writer until another program opens its
    other end, a device never ends (/dev/zero) or swallows what it is given
    (/dev/null), and replacing either with a file breaks the system: only a
    regular file is read or replaced.
    """
    if stat.S_ISREG(mode):
        return None
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"


def special_target(path: str | os.PathLike[str]) -> str | None:
    """What ``path`` is, once links are followed, if it exists and is not a regular file.

    None for a regular file and for a name with nothing behind it yet (a
    new file, a dangling link); a path that cannot be looked at (no
    permission, a missing folder) is left to the write itself to report.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None
    return not_a_regular_file(mode)
