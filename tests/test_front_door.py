"""The front door: a few names at the top, and the old ones still working, with a warning."""

from __future__ import annotations

import importlib
import warnings

import pytest

import tinygrad_bp
from tinygrad_bp.value import OPS

FRONT = {
    "Value", "op", "grad", "no_grad", "total", "weighted_sum", "gradcheck", "trace", "draw",
    "explain", "hessian", "hvp", "jvp",
}  # fmt: skip


def test_the_top_is_the_front_door_and_every_math_op_by_name() -> None:
    math_ops = {n for n in OPS if n.isidentifier() and n.isascii()} - {"neg", "abs"}  # -x, abs(x)
    assert set(tinygrad_bp.__all__) == FRONT | math_ops
    for name in tinygrad_bp.__all__:
        assert getattr(tinygrad_bp, name) is not None
    from tinygrad_bp import exp, log  # the article's own functions, by name

    assert exp is OPS["exp"] and log is OPS["log"]


@pytest.mark.parametrize("name", sorted(tinygrad_bp.MOVED))
def test_a_moved_name_still_imports_and_says_where_it_lives(name: str) -> None:
    home = tinygrad_bp.MOVED[name]
    with pytest.warns(DeprecationWarning, match=rf"import it from {home}"):
        old = getattr(tinygrad_bp, name)
    assert old is getattr(importlib.import_module(home), name)


def test_the_front_door_names_raise_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in tinygrad_bp.__all__:
            getattr(tinygrad_bp, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Net'"):
        tinygrad_bp.Net  # noqa: B018  (the removed node kind)
