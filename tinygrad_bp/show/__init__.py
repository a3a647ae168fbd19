"""What shows a graph: the drawing, the explanations, the stepper page and the learning view.

``draw`` returns a Graphviz drawing (``Drawing``) and ``render`` turns it
into SVG, PNG or PDF; ``explain`` writes where a gradient comes from
(``Explainer``, ``Derivation``) and ``explain_forward`` the same by forward
mode, a tangent per node (``ForwardDerivation``); ``Stepper`` plays the forward and backward
passes node by node on one self-contained page, and ``Learning`` adds the
updates and the network learning. Each is loaded on first use, so that
``import tinygrad_bp`` brings in no Graphviz.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .derivations import Derivation, ForwardDerivation
    from .dot import Drawing
    from .drawing import draw
    from .explanation import Explainer, derivation, explain, explain_forward, forward_derivation
    from .learning import Learning
    from .rendering import render, render_bytes
    from .stepper import Step, Stepper, save_stepper, stepper_html

# Each name, and the module of this package that holds it.
HOMES = {
    "Derivation": "derivations",
    "ForwardDerivation": "derivations",
    "Drawing": "dot",
    "draw": "drawing",
    "Explainer": "explanation",
    "derivation": "explanation",
    "explain": "explanation",
    "explain_forward": "explanation",
    "forward_derivation": "explanation",
    "Learning": "learning",
    "render": "rendering",
    "render_bytes": "rendering",
    "Step": "stepper",
    "Stepper": "stepper",
    "save_stepper": "stepper",
    "stepper_html": "stepper",
}
__all__ = [
    "Derivation",
    "Drawing",
    "Explainer",
    "ForwardDerivation",
    "Learning",
    "Step",
    "Stepper",
    "derivation",
    "draw",
    "explain",
    "explain_forward",
    "forward_derivation",
    "render",
    "render_bytes",
    "save_stepper",
    "stepper_html",
]


def __getattr__(name: str) -> Any:
    if name not in HOMES:
        raise AttributeError(f"module 'tinygrad_bp.show' has no attribute {name!r}")
    found = getattr(importlib.import_module(f"{__name__}.{HOMES[name]}"), name)
    globals()[name] = found  # looked up once
    return found
