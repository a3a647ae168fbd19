"""Checks that more than one part makes, kept in one place so their messages agree.

A learning rate is checked by ``nn``'s optimizers and by ``Traced.sgd``; a
file that is read or written by the command line and by ``nn``'s load and
save must be a regular file. ``nn`` imports these (the engine never imports
``nn``).

>>> positive_lr(0.5, "SGD")
0.5
>>> import stat
>>> not_a_regular_file(stat.S_IFIFO), not_a_regular_file(stat.S_IFREG) is None
('a named pipe (FIFO)', True)
"""

from __future__ import annotations

import math
import numbers
import os
import stat


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
