"""The generated graphs' ops as PyTorch functions: graphgen's table for tensors.

``evaluate(graph, leaves, TORCH_FUNCTIONS)`` builds a graph of
tests/support/graphgen.py from float64 tensors, as ``VALUE_FUNCTIONS`` builds
it from Values. Shared by the first- and second-order cross-checks in
tests/torch. Import it only after ``require_torch`` (it imports torch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from graphgen import BOUND

# The torch tests import this after require_torch; pytest's doctest collection
# imports it too, where torch may be missing: then it is skipped, not an error.
torch = pytest.importorskip("torch")


def _torch_weighted_sum(*wxb: Any) -> Any:
    n = (len(wxb) - 1) // 2
    out: Any = 0.0
    for w, x in zip(wxb[:n], wxb[n : 2 * n]):
        out = out + w * x
    return out + wxb[-1]


def _torch_total(*xs: Any) -> Any:
    out: Any = 0.0
    for x in xs:
        out = out + x
    return out


def _tensor(x: Any) -> Any:
    """A constant of a graph as a float64 tensor (no grad); a tensor as it is."""
    return x if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=torch.float64)


def _binary(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``f`` of two tensors, taking either argument as a plain number too."""
    return lambda a, b: f(_tensor(a), _tensor(b))


def _torch_leaky_relu(x: Any, slope: Any) -> Any:
    if isinstance(slope, torch.Tensor):  # a learnable slope: PReLU
        return torch.prelu(x.reshape(1), slope.reshape(1)).reshape(())
    return torch.nn.functional.leaky_relu(x, slope)


TORCH_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": torch.exp,
    "log": torch.log,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "weighted_sum": _torch_weighted_sum,
    "total": _torch_total,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "asin": torch.asin,
    "acos": torch.acos,
    "atan": torch.atan,
    "atan2": _binary(torch.atan2),
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "log1p": torch.log1p,
    "expm1": torch.expm1,
    "log2": torch.log2,
    "log10": torch.log10,
    "exp2": torch.exp2,
    "hypot": _binary(torch.hypot),
    "minimum": _binary(torch.minimum),
    "maximum": _binary(torch.maximum),
    # PyTorch's softplus returns x itself above its threshold (20 by default),
    # 2e-9 off the exact value that tinygrad_bp gives; above every node's size
    # the threshold changes nothing else.
    "softplus": lambda x: torch.nn.functional.softplus(x, threshold=2 * BOUND),
    "leaky_relu": _torch_leaky_relu,
    "mod": _binary(torch.remainder),
}
