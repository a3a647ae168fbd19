"""Checks that more than one part makes, kept in one place so their messages agree.

A learning rate is checked by ``nn``'s optimizers and by ``Traced.sgd``.
``nn`` imports these (the engine never imports ``nn``).

>>> positive_lr(0.5, "SGD")
0.5
"""

from __future__ import annotations

import math
import numbers


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
