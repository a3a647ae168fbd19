"""The ``tinygrad-bp`` command (also ``python -m tinygrad_bp``).

    tinygrad-bp mazur                 the article's walkthrough, one update
    tinygrad-bp mazur --steps 10000   ... then on to 10,000 updates in all
    tinygrad-bp train moons           micrograd's demo: a 2-16-16-1 MLP on two moons
    tinygrad-bp mazur --explain w5    ... and the chain rule for ∂E_total/∂w5 (or: all)
    tinygrad-bp draw mazur -o graph.svg   the article's network drawn (.svg .png .pdf .dot)
    tinygrad-bp viz mazur -o backprop.html   a web page that plays both passes node by node

The network commands import ``nn`` when they run; the engine itself never
imports it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .draw import DIRECTIONS, draw
from .engine import topological_order
from .explain import plain
from .render import FORMATS, render


def _int_at_least(minimum: int | None) -> Callable[[str], int]:
    """An argparse type: a whole number, at least ``minimum`` (None: any)."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if minimum is not None and n < minimum:
            raise argparse.ArgumentTypeError(f"expected a number of at least {minimum}, got {n}")
        return n

    return parse


_positive_int = _int_at_least(1)
_whole_number = _int_at_least(0)
_seed = _int_at_least(None)


def _mazur_labels() -> list[str]:
    """The labels of the article's network and error, in the article's order."""
    from nn import mazur

    step = mazur.forward(mazur.network())
    return [n.label for n in topological_order(step.E_total) if n.label]


def _explain_target(text: str) -> str:
    """An --explain argument: a label of the article's network, or "all"."""
    labels = _mazur_labels()
    if text == "all" or text in labels:
        return text
    ordered = sorted(labels, key=lambda s: (s[0] != "w", s[0] != "b", len(s), s))
    raise argparse.ArgumentTypeError(
        f"unknown label {plain(text)!r}; expected all or one of: {', '.join(ordered)}"
    )


def _run_mazur(args: argparse.Namespace) -> int:
    from nn import mazur

    for line in mazur.report(args.steps, args.train_biases, args.explain):
        print(line)
    return 0


def _output_path(text: str) -> Path:
    """A -o argument: a path whose extension names a format we can write."""
    path = Path(text)
    if path.suffix.lower() not in FORMATS:
        shown = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise argparse.ArgumentTypeError(
            f"cannot tell the format of {plain(text)!r} ({shown}); use one of {', '.join(FORMATS)}"
        )
    return path


def _highlight_target(text: str) -> str:
    if text not in _mazur_labels():
        raise argparse.ArgumentTypeError(
            f"unknown label {plain(text)!r}; expected one of: {', '.join(_mazur_labels())}"
        )
    return text


def _run_draw(args: argparse.Namespace) -> int:
    from nn import mazur

    model, step = mazur.backpropagated()
    nodes = {n.label: n for n in topological_order(step.E_total) if n.label}
    graph = draw(
        step.E_total,
        direction=args.direction,
        precision=args.precision,
        edge_labels=args.edge_labels,
        highlight=nodes[args.highlight] if args.highlight else None,
        parameters=model.parameters(),
        collapse_neurons=args.collapse_neurons,
    )
    try:
        render(graph, args.output)
    except OSError as error:
        print(f"tinygrad-bp draw: cannot write {plain(str(args.output))}: {error}", file=sys.stderr)
        return 1
    print(
        f"Wrote {plain(str(args.output))}: the article's network after one backward pass "
        f"({len(set(graph.node_ids.values()))} nodes)"
    )
    return 0


def _fail(message: str) -> int:
    print(f"tinygrad-bp train: error: {message}", file=sys.stderr)
    return 1


def _check_directory(path: str, what: str) -> str | None:
    """A message if ``path`` cannot be written because its directory is missing."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        return f"cannot write the {what} {path!r}: the directory {directory!r} does not exist"
    if os.path.isdir(path):
        return f"cannot write the {what} {path!r}: it is a directory"
    return None


def _run_train(args: argparse.Namespace) -> int:
    import time

    from nn import MLP, data, serialize, train

    # Everything that can be checked is checked before training, so a typo
    # in a path or a missing extra does not cost a training run.
    if args.plot is not None:
        from nn import plot

        try:
            plot.require_matplotlib()
        except plot.MatplotlibMissingError as e:
            return _fail(str(e))
        fmt = os.path.splitext(args.plot)[1].lstrip(".").lower()
        formats = plot.image_formats()
        if fmt not in formats:
            endings = ", ".join("." + f for f in sorted(formats))
            return _fail(f"cannot tell the image format of {args.plot!r}; use one of {endings}")
    for path, what in ((args.plot, "plot"), (args.save, "model file")):
        problem = path is not None and _check_directory(path, what)
        if problem:
            return _fail(problem)

    X, y = data.DATASETS[args.dataset](100, seed=args.seed, signed=True)
    model = MLP(2, [16, 16, 1], seed=args.seed)
    if args.load is not None:
        try:
            serialize.load_into(model, args.load)
        except serialize.ModelFileError as e:
            return _fail(f"cannot load {args.load!r}: {e.reason}")
        except OSError as e:
            return _fail(f"cannot load {args.load!r}: {e.strerror or e}")
        print(f"loaded the parameters from {args.load!r}")

    print(
        f"{model} on {args.dataset} ({len(X)} points, seed {args.seed}): {args.steps} steps of "
        "full-batch SGD, hinge loss + 1e-4·Σp², learning rate 1.0 down to 0.1"
    )
    start = time.perf_counter()
    history = train.fit(model, X, y, steps=args.steps, progress=True)
    seconds = time.perf_counter() - start
    perfect = history.first_perfect()
    if perfect is not None:
        print(f"100% training accuracy first reached after {perfect} updates")

    # A failed save or plot is reported, but the run's result is still the last line.
    failed = False
    if args.save is not None:
        try:
            serialize.save(model, args.save)
            print(f"saved the model to {args.save!r}")
        except OSError as e:
            failed = bool(_fail(f"cannot save {args.save!r}: {e.strerror or e}"))
        except ValueError as e:
            failed = bool(_fail(f"cannot save {args.save!r}: {e}"))
    if args.plot is not None:
        from nn import plot

        try:
            title = f"{args.dataset}, {args.steps} steps"
            plot.plot_training(model, X, y, history, args.plot, title=title)
            print(f"wrote the plot to {args.plot!r}")
        except (OSError, ValueError) as e:
            failed = bool(_fail(f"cannot write the plot {args.plot!r}: {e}"))

    loss, acc = history.losses[-1], history.accuracies[-1]
    print(
        f"final loss {loss:.6f} accuracy {acc:.0%} ({round(acc * len(y))}/{len(y)}) "
        f"after {args.steps} steps in {seconds:.1f} s"
    )
    return 1 if failed else 0


HTML_SUFFIXES = (".html", ".htm")


def _html_path(text: str) -> Path:
    """A viz -o argument: the page is HTML, so the name should say so."""
    path = Path(text)
    if path.suffix.lower() not in HTML_SUFFIXES:
        shown = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise argparse.ArgumentTypeError(
            f"{plain(text)!r} has {shown}; the page is HTML: use a name ending in .html or .htm"
        )
    return path


def _run_viz(args: argparse.Namespace) -> int:
    from nn import mazur

    from .stepper import Stepper

    model, step = mazur.backpropagated()
    page = Stepper(
        step.E_total,
        parameters=model.parameters(),
        collapse_neurons=args.collapse_neurons,
        direction=args.direction,
        precision=args.precision,
        title="A Step by Step Backpropagation Example, node by node",
    )
    try:
        page.save(args.output)
    except OSError as error:
        print(f"tinygrad-bp viz: cannot write {plain(str(args.output))}: {error}", file=sys.stderr)
        return 1
    kinds = [s.kind for s in page.steps]
    print(
        f"Wrote {plain(str(args.output))}: the article's network in {kinds.count('forward')} "
        f"forward and {kinds.count('backward')} backward steps; open it in a browser "
        "(Right/Left step, Space plays)"
    )
    return 0


def _add_layout_options(parser: argparse.ArgumentParser) -> None:
    """The drawing options that ``draw`` and ``viz`` share."""
    parser.add_argument(
        "--precision",
        type=int,
        choices=range(18),
        default=9,
        metavar="N",
        help="decimals shown, 0 to 17 (default 9, as the article prints)",
    )
    parser.add_argument(
        "--direction", choices=DIRECTIONS, default="LR", help="layout direction (default LR)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-bp",
        description="Scalar reverse-mode autograd for learning backpropagation.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    m = sub.add_parser(
        "mazur",
        help="reproduce Matt Mazur's 'A Step by Step Backpropagation Example'",
        description="The article's forward pass, gradients and updates, number for number.",
    )
    m.add_argument(
        "--steps",
        type=_positive_int,
        default=1,
        metavar="N",
        help="updates in all, after the walkthrough (default 1; the article quotes 10000)",
    )
    m.add_argument(
        "--train-biases",
        action="store_true",
        help="update b1 and b2 too (the article keeps them fixed)",
    )
    m.add_argument(
        "--explain",
        type=_explain_target,
        metavar="LABEL",
        help="then derive ∂E_total/∂LABEL by the chain rule, as the article does "
        "(e.g. w5, out_h1; 'all' for every weight)",
    )
    m.set_defaults(run=_run_mazur)

    t = sub.add_parser(
        "train",
        help="train a 2-16-16-1 MLP on a toy dataset (micrograd's moons demo)",
        description=(
            "Full-batch SGD on 100 points: hinge (max-margin) loss + 1e-4·Σp², learning rate "
            "from 1.0 down to 0.1, as micrograd's demo. A progress bar shows on a terminal; "
            "the last line gives the final loss and accuracy."
        ),
    )
    t.add_argument("dataset", choices=["moons", "xor", "spirals"], help="the dataset")
    t.add_argument(
        "--steps", type=_whole_number, default=100, metavar="N", help="updates (default 100)"
    )
    t.add_argument(
        "--seed",
        type=_seed,
        default=0,
        metavar="S",
        help="seeds both the data and the initial weights (default 0)",
    )
    t.add_argument(
        "--plot",
        metavar="PATH",
        help='write the decision boundary and loss curve (needs "tinygrad-bp[plot]")',
    )
    t.add_argument("--save", metavar="PATH", help="save the trained parameters as JSON")
    t.add_argument("--load", metavar="PATH", help="start from parameters saved with --save")
    t.set_defaults(run=_run_train)
    d = sub.add_parser(
        "draw",
        help="draw a network's graph with data, gradients and local derivatives",
        description="Draw the article's network after one backward pass. The format "
        f"follows the output's extension ({', '.join(FORMATS)}); Graphviz comes "
        "bundled with pygraphviz, nothing else is needed.",
    )
    d.add_argument("network", choices=["mazur"], help="the network to draw")
    d.add_argument(
        "-o", "--output", type=_output_path, required=True, metavar="FILE", help="where to write"
    )
    _add_layout_options(d)
    d.add_argument(
        "--edge-labels",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="label edges with their local derivatives (default: on)",
    )
    d.add_argument(
        "--highlight",
        type=_highlight_target,
        metavar="LABEL",
        help="draw the path from LABEL to E_total in red (e.g. w5)",
    )
    d.add_argument(
        "--collapse-neurons",
        action="store_true",
        help="draw each neuron as one node, its weights and bias folded in",
    )
    d.set_defaults(run=_run_draw)

    v = sub.add_parser(
        "viz",
        help="write one web page that plays the forward and backward pass node by node",
        description="Write one self-contained HTML file (no network needed) that plays the "
        "article's forward pass and backward pass node by node, with the chain rule for "
        "every gradient. Keys: Right/Left step, Space plays, Home/End jump.",
    )
    v.add_argument("network", choices=["mazur"], help="the network to play")
    v.add_argument(
        "-o", "--output", type=_html_path, required=True, metavar="FILE", help="the .html to write"
    )
    _add_layout_options(v)
    v.add_argument(
        "--collapse-neurons",
        action="store_true",
        help="one node and one step per neuron, its weights and bias folded in",
    )
    v.set_defaults(run=_run_viz)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Never crash on a console that cannot print ∂ or ½: escape what it cannot show.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    return int(args.run(args))
