"""Pictures of a training run: the decision boundary and the loss curve.

matplotlib is optional (``pip install "tinygrad-bp[plot]"``); nothing else in
the package needs it. ``require_matplotlib()`` says clearly when it is
missing, so a command can check before it spends time training.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from tinygrad_bp import Value, no_grad

from ._util import atomic_write
from .module import MLP
from .train import History

INSTALL_HINT = 'pip install "tinygrad-bp[plot]"'


class MatplotlibMissingError(ImportError):
    """matplotlib is not installed; the message says how to install it."""


def require_matplotlib() -> None:
    """Return quietly if matplotlib can be imported, else raise MatplotlibMissingError."""
    _figure_class()


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MatplotlibMissingError(
            f"plotting needs matplotlib, which is not installed; install it with: {INSTALL_HINT}"
        ) from None
    return Figure


# Endings matplotlib lists but cannot write by itself: its pgf backend runs a
# LaTeX program (xelatex by default), which is not a Python package and is
# seldom installed. Offering it would fail only after the training.
NEEDS_LATEX = {"pgf"}


def image_formats() -> dict[str, str]:
    """The file endings matplotlib writes by itself (e.g. 'png', 'svg', 'pdf') and their names."""
    figure = _figure_class()()
    supported = figure.canvas.get_supported_filetypes()
    return {k: v for k, v in supported.items() if k not in NEEDS_LATEX}


def check_image_format(path: str | os.PathLike[str]) -> str:
    """The image format ``path``'s ending names, or a ValueError saying which endings work.

    Needs matplotlib (MatplotlibMissingError otherwise). Cheap: a command
    calls it before training.
    """
    target = os.fspath(path)
    fmt = os.path.splitext(target)[1].lstrip(".").lower()
    formats = image_formats()
    if fmt not in formats:
        endings = ", ".join("." + f for f in sorted(formats))
        if fmt in NEEDS_LATEX:
            raise ValueError(
                f"cannot write the plot {target!r}: matplotlib writes .{fmt} by running a "
                f"LaTeX program, which it does not include; use one of {endings}"
            )
        raise ValueError(f"cannot tell the image format of {target!r}; use one of {endings}")
    return fmt


def plot_training(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    history: History,
    path: str | os.PathLike[str],
    *,
    title: str = "",
    resolution: int = 80,
) -> None:
    """Write a figure to ``path``: the decision boundary with the data, and the loss curve.

    The left panel shades where the model's score is positive or negative
    over the data's bounding box (plus a margin) and draws the points by
    label (±1). The right panel is ``history``'s loss (and accuracy) per
    update. The image format follows the file ending (see ``image_formats``).
    The file is written to a temporary name and renamed into place, so a
    failed plot leaves no partial file. Text is drawn by matplotlib itself,
    never by LaTeX, whatever a matplotlibrc says.
    """
    Figure = _figure_class()
    fmt = check_image_format(path)
    xs = [p[0] for p in X]
    ys = [p[1] for p in X]
    x0, x1 = min(xs) - 0.5, max(xs) + 0.5
    y0, y1 = min(ys) - 0.5, max(ys) + 0.5
    gx = [x0 + (x1 - x0) * i / (resolution - 1) for i in range(resolution)]
    gy = [y0 + (y1 - y0) * j / (resolution - 1) for j in range(resolution)]
    with no_grad():  # values only: no graph for thousands of grid points
        grid = [[_score(model, [a, b]) for a in gx] for b in gy]

    from matplotlib import rc_context

    with rc_context({"text.usetex": False}):
        fig = Figure(figsize=(11, 4.5), layout="constrained")
        left, right = fig.subplots(1, 2)
        left.contourf(gx, gy, grid, levels=[-1e300, 0.0, 1e300], colors=["#f4c7c3", "#c6dbef"])
        left.contour(gx, gy, grid, levels=[0.0], colors="black", linewidths=1.0)
        for label, colour, marker in ((-1, "#d62728", "o"), (1, "#1f77b4", "s")):
            pts = [p for p, c in zip(X, y) if c == label]
            left.scatter(
                [p[0] for p in pts],
                [p[1] for p in pts],
                c=colour,
                marker=marker,
                s=22,
                edgecolors="black",
                linewidths=0.5,
                label=f"y = {label:+d}",
            )
        left.set_xlim(x0, x1)
        left.set_ylim(y0, y1)
        left.set_title("decision boundary (score = 0)")
        left.legend(loc="upper right", fontsize="small")

        steps = range(len(history.losses))
        right.plot(steps, history.losses, color="black", label="loss")
        right.set_yscale("log")
        right.set_xlabel("update")
        right.set_ylabel("loss")
        right.set_title("training")
        twin = right.twinx()
        twin.plot(steps, history.accuracies, color="#2ca02c", label="accuracy")
        twin.set_ylim(0.0, 1.05)
        twin.set_ylabel("accuracy", color="#2ca02c")
        if title:
            fig.suptitle(title)

        with atomic_write(path) as f:
            fig.savefig(f, format=fmt, dpi=110)


def _score(model: MLP, x: list[float]) -> float:
    out = model(x)
    if not isinstance(out, Value):
        raise ValueError(f"plot: expected a model with one output, got {len(out)}")
    return out.data
