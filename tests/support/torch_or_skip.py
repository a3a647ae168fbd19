"""PyTorch for the cross-check and bridge tests, imported one way for every test file.

A test file calls ``require_torch(what)`` at import. Without PyTorch the file
is skipped, unless ``TINYGRAD_BP_REQUIRE_TORCH=1`` (as in CI), which makes
that an error.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

import pytest


def require_torch(what: str) -> ModuleType:
    """The ``torch`` module, or the calling test file skipped (``what``: what it runs)."""
    try:
        with warnings.catch_warnings():
            # torch warns on import that NumPy is missing; nothing here needs NumPy.
            warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
            import torch
    except ImportError:  # pragma: no cover - depends on the environment
        if os.environ.get("TINYGRAD_BP_REQUIRE_TORCH") == "1":
            raise ImportError(
                'TINYGRAD_BP_REQUIRE_TORCH=1 but PyTorch is not installed: pip install ".[torch]"'
            ) from None
        pytest.skip(
            f'PyTorch is not installed; pip install ".[torch]" to run {what}',
            allow_module_level=True,
        )
    return torch
