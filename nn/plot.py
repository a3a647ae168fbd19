"""Pictures of a training run: the decision boundary and the loss curve; for classes, more.

matplotlib is optional (``pip install "tinygrad-bp[plot]"``); nothing else in
the package needs it. ``require_matplotlib()`` says clearly when it is
missing, so a command can check before it spends time training.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from tinygrad_bp import Value, no_grad

from ._util import atomic_write
from .data import with_features
from .module import MLP
from .train import EpochHistory, History, argmax

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
    features: Sequence[str] = ("x1", "x2"),
) -> None:
    """Write a figure to ``path``: the decision boundary with the data, and the loss curve.

    ``X`` are the points of the plane; ``features`` what the network reads
    of each (``nn.data.FEATURES``; by default the two coordinates).

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
        grid = [[_score(model, with_features([[a, b]], features)[0]) for a in gx] for b in gy]

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


# How many of each the classes' figure shows: a learner reads a few, not hundreds.
MAX_WEIGHT_IMAGES = 32
MISTAKES_SHOWN = 12


def plot_classes(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    history: EpochHistory,
    path: str | os.PathLike[str],
    *,
    classes: Sequence[int],
    images: bool = True,
    title: str = "",
) -> None:
    """Write a figure of a classifier to ``path``: what it learnt and where it goes wrong.

    Four panels, on the test points ``X``, ``y`` (``y`` indices into
    ``classes``): the first layer's weights, each neuron's 64 as an 8×8
    image (red where ink raises the neuron's net input, blue where it
    lowers it; with ``images=False`` the whole matrix, a row per neuron);
    the confusion matrix (true class down, predicted across); the training
    and test loss and the test accuracy per epoch; and a few misclassified
    points as images, each titled "true → predicted" (``images`` only).
    Written as ``plot_training`` writes, in one go.
    """
    Figure = _figure_class()
    fmt = check_image_format(path)
    with no_grad():
        rows = [[v.data for v in _outputs(model, x)] for x in X]
    predicted = [argmax(r) for r in rows]
    K = len(classes)
    confusion = [[0] * K for _ in range(K)]
    for t, p in zip(y, predicted):
        confusion[t][p] += 1
    first = model.layers[0].neurons
    weights = [[w.data for w in n.w] for n in first]
    side = 8 if images and all(len(w) == 64 for w in weights) else 0

    from matplotlib import rc_context

    with rc_context({"text.usetex": False}):
        fig = Figure(figsize=(13, 10), layout="constrained")
        top, bottom = fig.subfigures(2, 1)
        weights_fig, confusion_fig = top.subfigures(1, 2, width_ratios=[1.4, 1])
        curves_fig, mistakes_fig = bottom.subfigures(1, 2, width_ratios=[1, 1.4])

        if side:
            shown = weights[:MAX_WEIGHT_IMAGES]
            cols = 8
            axes = weights_fig.subplots(math.ceil(len(shown) / cols), cols, squeeze=False)
            for k, ax in enumerate(axes.flat):
                ax.set_axis_off()
                if k < len(shown):
                    grid = [shown[k][r * side : (r + 1) * side] for r in range(side)]
                    lim = max(max(abs(v) for v in shown[k]), 1e-12)
                    ax.imshow(grid, cmap="RdBu_r", vmin=-lim, vmax=lim)
                    ax.set_title(f"h{k + 1}", fontsize="x-small")
            more = f" (the first {len(shown)})" if len(weights) > len(shown) else ""
            weights_fig.suptitle(f"first layer's weights as 8×8 images{more}", fontsize="medium")
        else:
            ax = weights_fig.subplots()
            lim = max(max(abs(v) for w in weights for v in w), 1e-12)
            im = ax.imshow(weights, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
            ax.set_xlabel("input")
            ax.set_ylabel("neuron")
            weights_fig.colorbar(im, ax=ax)
            ax.set_title("first layer's weights")

        ax = confusion_fig.subplots()
        ax.imshow(confusion, cmap="Blues")
        high = max(max(r) for r in confusion)
        for t in range(K):
            for p in range(K):
                if confusion[t][p] and K <= 20:
                    colour = "white" if confusion[t][p] > high / 2 else "black"
                    ax.text(
                        p,
                        t,
                        str(confusion[t][p]),
                        ha="center",
                        va="center",
                        fontsize="small",
                        color=colour,
                    )
        if K <= 20:
            ax.set_xticks(range(K), [str(c) for c in classes])
            ax.set_yticks(range(K), [str(c) for c in classes])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        right = sum(confusion[k][k] for k in range(K))
        ax.set_title(f"confusion matrix, test set: {right}/{len(y)} right")

        ax = curves_fig.subplots()
        epochs = range(1, len(history.train_losses) + 1)
        ax.plot(epochs, history.train_losses, color="black", marker=".", label="training loss")
        if history.test_losses:
            ax.plot(epochs, history.test_losses, color="#d62728", marker=".", label="test loss")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(loc="center right", fontsize="small")
        ax.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole
        if history.test_accuracies:
            twin = ax.twinx()
            twin.plot(epochs, history.test_accuracies, color="#2ca02c", label="test accuracy")
            twin.set_ylim(0.0, 1.02)
            twin.set_ylabel("test accuracy", color="#2ca02c")
        ax.set_title("training")

        wrong = [k for k, (t, p) in enumerate(zip(y, predicted)) if t != p][:MISTAKES_SHOWN]
        if side and wrong:
            axes = mistakes_fig.subplots(2, math.ceil(MISTAKES_SHOWN / 2), squeeze=False)
            for n, ax in enumerate(axes.flat):
                ax.set_axis_off()
                if n < len(wrong):
                    i = wrong[n]
                    grid = [list(X[i][r * side : (r + 1) * side]) for r in range(side)]
                    ax.imshow(grid, cmap="gray_r")
                    ax.set_title(f"{classes[y[i]]} → {classes[predicted[i]]}", fontsize="small")
            mistakes_fig.suptitle("misclassified test digits (true → predicted)", fontsize="medium")
        else:
            ax = mistakes_fig.subplots()
            ax.set_axis_off()
            ax.text(
                0.5,
                0.5,
                f"{len([1 for t, p in zip(y, predicted) if t != p])} test points misclassified",
                ha="center",
                va="center",
            )
        if title:
            fig.suptitle(title)

        with atomic_write(path) as f:
            fig.savefig(f, format=fmt, dpi=100)


def _outputs(model: MLP, x: Sequence[float]) -> list[Value]:
    out = model(x)
    if isinstance(out, Value):
        raise ValueError("plot: expected a model with one output per class, got 1 output")
    return out
