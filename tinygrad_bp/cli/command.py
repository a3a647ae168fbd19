"""The ``tinygrad-bp`` command (also ``python -m tinygrad_bp``).

    tinygrad-bp mazur                 the article's walkthrough, one update
    tinygrad-bp mazur --steps 10000   ... then on to 10,000 updates in all
    tinygrad-bp train moons           micrograd's demo: a 2-16-16-1 MLP on two moons
    tinygrad-bp mazur --explain w5    ... and the chain rule for ∂E_total/∂w5 (or: all)
    tinygrad-bp mazur --code          the network's forward and backward pass as Python
    tinygrad-bp draw mazur -o graph.svg   the article's network drawn (.svg .png .pdf .dot)
    tinygrad-bp viz mazur -o backprop.html   a web page that plays both passes node by node,
                                      the updates, and 10,000 of them as the graph learns
    tinygrad-bp draw "tanh(x*w + b)" x=2 w=-3 b=6.88 -o neuron.svg   a formula of yours
    tinygrad-bp explain "(x + y) * z" x=-2 y=5 z=-4 --wrt x   ∂out/∂x by the chain rule
    tinygrad-bp explain mazur --forward --wrt w5   ∂E_total/∂w5 by forward mode, a tangent
                                      per node, beside reverse mode's figure
    tinygrad-bp viz mazur --forward --wrt w5 -o both.html   ... the page plays that sweep
                                      too, and counts both modes' sweeps
    tinygrad-bp viz path/to/file.py:function -o mine.html   a function of yours, returning
                                      the root Value or (root, parameters)

This file parses the command line and dispatches: the commands that show a
graph are in ``graphs.py``, ``train`` in ``train.py``, and what they share in
``common.py``. The network commands import ``nn`` when they
run; the engine itself never imports it.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, TextIO, cast

from .. import __version__
from ..show.drawing import DEFAULT_MAX_NODES, DIRECTIONS, LARGEST_MAX_NODES
from ..show.rendering import FORMATS
from .arguments import parse
from .common import (
    BROKEN_PIPE,
    INTERRUPTED,
    PLANE_DATASETS,
    RefusedError,
    feature_names,
    int_in,
    layer_sizes,
    max_nodes_arg,
    positive_int,
    seed_arg,
    updates_arg,
    whole_number,
)
from .graphs import (
    GRAPH_HELP,
    explain_target,
    html_path,
    output_path,
    run_draw,
    run_explain,
    run_mazur,
    run_viz,
)
from .play import run_play
from .train import add_network_options, real_in, run_train


def _add_graph_arguments(parser: argparse.ArgumentParser, verb: str) -> None:
    """The graph to work on: ``draw``, ``viz`` and ``explain`` take the same."""
    parser.add_argument("graph", metavar="GRAPH", help=f"what to {verb}: {GRAPH_HELP}")
    parser.add_argument(
        "values",
        nargs="*",
        metavar="NAME=VALUE",
        help="a formula's values, one for each name it uses",
    )
    parser.add_argument(
        "--parameters",
        metavar="NAMES",
        help="a formula's names that are parameters, comma-separated (e.g. w1,w2,b): "
        "coloured apart by draw and viz, and what explain --wrt all explains",
    )


def _add_precision_option(parser: argparse.ArgumentParser) -> None:
    """How many decimals ``draw``, ``viz`` and ``explain`` show."""
    parser.add_argument(
        "--precision",
        type=int,
        choices=range(18),
        default=9,
        metavar="N",
        help="decimals shown, 0 to 17 (default 9, as the article prints)",
    )


def _add_layout_options(parser: argparse.ArgumentParser) -> None:
    """The drawing options that ``draw`` and ``viz`` share."""
    _add_precision_option(parser)
    parser.add_argument(
        "--direction", choices=DIRECTIONS, default="LR", help="layout direction (default LR)"
    )
    parser.add_argument(
        "--max-nodes",
        type=max_nodes_arg,
        default=DEFAULT_MAX_NODES,
        metavar="N",
        help=f"refuse a graph of more than N nodes (default {DEFAULT_MAX_NODES}, "
        f"at most {LARGEST_MAX_NODES:,}: bigger layouts are slow and unreadable)",
    )


def _add_trace_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--no-trace",
        dest="trace",
        action="store_false",
        help=f"run {what} through the interpreted engine, building and walking the graph "
        "anew each time, instead of as code traced once (same figures, slower)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-bp",
        description="Scalar reverse-mode autograd for learning backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    m = sub.add_parser(
        "mazur",
        help="reproduce Matt Mazur's 'A Step by Step Backpropagation Example'",
        description="The article's forward pass, gradients and updates, number for number.",
    )
    m.add_argument(
        "--steps",
        type=positive_int,
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
        type=explain_target,
        metavar="LABEL",
        help="then derive ∂E_total/∂LABEL by the chain rule, as the article does "
        "(e.g. w5, out_h1; 'all' for every weight)",
    )
    m.add_argument(
        "--code",
        action="store_true",
        help="print the network's forward and backward pass as the Python code a trace "
        "generates, and stop",
    )
    _add_trace_option(m, "the updates after the first")
    m.set_defaults(run=run_mazur)

    t = sub.add_parser(
        "train",
        help="train an MLP on a toy dataset, the handwritten digits or a CSV file of yours "
        "(by default micrograd's moons demo)",
        description=(
            "By default micrograd's demo: a 2-16-16-1 ReLU MLP, full-batch SGD on 100 points, "
            "hinge (max-margin) loss + 1e-4·Σp², learning rate from 1.0 down to 0.1; the flags "
            "below change the network, loss, optimizer and data. digits (1,797 8×8 images of "
            "handwriting, in the package) and --data FILE.csv (the last column the class) train "
            "a classifier: a 64-32-10 MLP by default, softmax cross-entropy, Adam on "
            "minibatches for --epochs, and report the accuracy on a held-out quarter of the "
            "data. A progress bar shows on a terminal; the last line gives the final loss and "
            "accuracy."
        ),
    )
    t.add_argument(
        "dataset",
        nargs="?",
        choices=[*PLANE_DATASETS, "digits"],
        help="the dataset (leave it out with --data)",
    )
    t.add_argument(
        "--steps",
        type=whole_number,
        metavar="N",
        help="updates, for moons, xor and spirals (default 100)",
    )
    t.add_argument(
        "--seed",
        type=seed_arg,
        default=0,
        metavar="S",
        help="seeds both the data and the initial weights (default 0)",
    )
    t.add_argument(
        "--page",
        metavar="PATH.html",
        help="for the 2-D datasets: also record the run as one self-contained web page (the "
        "playground's views, a scrubber and Play, the chain rule of a clicked weight)",
    )
    t.add_argument(
        "--plot",
        metavar="PATH",
        help="write the decision boundary and loss curve (digits and --data: the first layer's "
        'weights, the confusion matrix, the loss curves and mistakes; needs "tinygrad-bp[plot]")',
    )
    t.add_argument(
        "--save", metavar="PATH", help="save the trained network (architecture and parameters)"
    )
    t.add_argument(
        "--load",
        metavar="PATH",
        help="start from a network saved with --save: its architecture and parameters",
    )
    add_network_options(t)
    _add_trace_option(t, "every step")
    t.set_defaults(run=run_train)
    p = sub.add_parser(
        "play",
        help="the playground: watch a network learn, live in your browser, and change it "
        "while it learns",
        description=(
            "Starts a local server (127.0.0.1 only, a secret token in the URL) running the "
            "playground on the real engine: the network with every neuron's output over the "
            "plane, the decision boundary, the losses, every setting changeable while it "
            "trains; click a weight for its gradient's chain rule. Ctrl-C stops it."
        ),
    )
    p.add_argument(
        "dataset",
        nargs="?",
        choices=PLANE_DATASETS,
        help="the data (default moons)",
    )
    p.add_argument(
        "--port",
        type=int_in(0, 65535),
        default=0,
        metavar="N",
        help="the port to listen on (default: a free one)",
    )
    p.add_argument("--no-browser", action="store_true", help="print the URL, open no browser")
    p.add_argument(
        "--seed",
        type=seed_arg,
        default=0,
        metavar="S",
        help="seeds the data and the initial weights (default 0)",
    )
    p.add_argument(
        "--points", type=int_in(4, 5_000), metavar="N", help="points, 4 to 5,000 (default 200)"
    )
    p.add_argument(
        "--noise", type=float, metavar="SIGMA", help="the points' jitter, 0 to 2 (default 0.1)"
    )
    p.add_argument(
        "--layers",
        type=layer_sizes,
        metavar="SIZES",
        help="hidden layer sizes, comma-separated, at most 8 of 32 (default 8,8)",
    )
    p.add_argument(
        "--activation",
        choices=["tanh", "relu", "sigmoid", "linear"],
        help="the hidden layers' activation (default tanh)",
    )
    p.add_argument("--lr", type=float, metavar="RATE", help="the learning rate (default 0.03)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], help="sgd (default) or adam")
    p.add_argument(
        "--batch-size", type=int_in(1, 5_000), metavar="N", help="points per update (default 10)"
    )
    p.add_argument(
        "--features",
        type=feature_names,
        metavar="NAMES",
        help="the inputs: x1, x2, x1sq, x2sq, x1x2, sin1, sin2 (default x1,x2)",
    )
    p.set_defaults(run=run_play)

    d = sub.add_parser(
        "draw",
        help="draw a graph with data, gradients and local derivatives",
        description="Draw a graph after one backward pass: the article's network, a formula "
        "or a function of yours. The format "
        f"follows the output's extension ({', '.join(FORMATS)}); Graphviz comes "
        "bundled with pygraphviz, nothing else is needed.",
    )
    _add_graph_arguments(d, "draw")
    d.add_argument(
        "-o", "--output", type=output_path, required=True, metavar="FILE", help="where to write"
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
        metavar="LABEL",
        help="draw the path from LABEL to the root in red (e.g. w5)",
    )
    d.add_argument(
        "--collapse-neurons",
        action="store_true",
        help="draw each neuron as one node, its weights and bias folded in",
    )
    d.set_defaults(run=run_draw)

    v = sub.add_parser(
        "viz",
        help="write one web page that plays the forward and backward pass node by node",
        description="Write one self-contained HTML file (no network needed) that plays the "
        "forward pass and backward pass of a graph (the article's network, a formula or a "
        "function of yours) node by node, with the chain rule for "
        "every gradient; with --forward, forward mode's sweep of tangents between them. "
        "Keys: Right/Left step, Space plays, Home/End jump.",
    )
    _add_graph_arguments(v, "play")
    v.add_argument(
        "-o", "--output", type=html_path, required=True, metavar="FILE", help="the .html to write"
    )
    _add_layout_options(v)
    v.add_argument(
        "--collapse-neurons",
        action="store_true",
        help="one node and one step per neuron, its weights and bias folded in",
    )
    v.add_argument(
        "--updates",
        type=updates_arg,
        metavar="N",
        help="the training run the learning view plots and scrubs through, after the update "
        "steps and the forward pass again (default 10000, as the article; 0: none). For a "
        "graph with parameters: the article's weights, a formula's --parameters, or those a "
        "function returns",
    )
    v.add_argument(
        "--lr",
        type=real_in(0.0, math.inf, low_open=True),
        metavar="RATE",
        help="the learning rate η of the update steps and the run (default 0.5, as the article)",
    )
    v.add_argument(
        "--forward",
        action="store_true",
        help="also play forward mode between the two passes: from a seed (a tangent of 1 on "
        "the --wrt input, 0 on every other leaf), each node's tangent = Σ local derivative × "
        "its parent's tangent, node by node on the same graph; the page states the sweeps and "
        "node visits each mode takes for the gradient of every parameter (of a formula without "
        "--parameters, every name), as counted by the library",
    )
    v.add_argument(
        "--wrt",
        metavar="LABEL",
        help="with --forward: the input whose tangents are swept (default: the first "
        "parameter, else the first name of a formula or labelled leaf)",
    )
    v.set_defaults(run=run_viz)

    e = sub.add_parser(
        "explain",
        help="write out a gradient by the chain rule, with numbers",
        description="Derive ∂root/∂LABEL by the chain rule, as the article does, for the "
        "article's network, a formula or a function of yours.",
    )
    _add_graph_arguments(e, "explain")
    e.add_argument(
        "--wrt",
        default="all",
        metavar="LABEL",
        help="the node whose gradient to derive (e.g. w1), or all (the default): every name "
        "of a formula, the parameters of a function, the article's weights",
    )
    e.add_argument(
        "--forward",
        action="store_true",
        help="derive it by forward mode instead: one sweep from the inputs, each node's "
        "tangent (its derivative with respect to the --wrt node) = Σ local derivative × its "
        "parent's tangent, then reverse mode's figure beside it; with --wrt all, one sweep "
        "per node and the count of node visits of both modes",
    )
    _add_precision_option(e)
    e.set_defaults(run=run_explain)
    return parser


class _OutputError(Exception):
    """Standard output could not be written (a closed pipe, a full disk)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


class _GuardedOutput:
    """Standard output, with a failed write told apart from a command's own file errors."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as e:
            raise _OutputError(e) from e

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as e:
            raise _OutputError(e) from e

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _process_setup() -> Iterator[None]:
    """Standard output guarded, and SIGTERM or SIGHUP ending the command by exception.

    The default action for those signals kills the process on the spot; as
    an exception (SystemExit) they let every ``finally`` run, so a save in
    progress removes its temporary file. Undone on the way out, for a caller
    (a test) that calls ``main`` in its own process.
    """
    stdout = sys.stdout
    # Never crash on a console that cannot print ∂ or ½: escape what it cannot show.
    reconfigure = getattr(stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    sys.stdout = cast(TextIO, _GuardedOutput(stdout))
    previous: dict[int, Any] = {}
    for name in ("SIGTERM", "SIGHUP"):  # Windows has no SIGHUP
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            previous[signum] = signal.signal(signum, _exit_on_signal)
        except ValueError:  # not the main thread: signals are not ours to take
            break
    try:
        yield
    finally:
        sys.stdout = stdout
        for signum, handler in previous.items():
            # None: a handler set outside Python, which cannot be put back; the default then.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _quiet_stdout() -> None:
    """Point standard output at the null device, so that Python's own flush at exit
    does not fail again on the text still buffered for a pipe that is gone."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's capture): nothing will be flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status: 0, 1 (an error, said in one line), 2 (usage),
    130 (Ctrl-C), 141 (a closed pipe: quietly, as a Unix tool ended by SIGPIPE), 143
    (SIGTERM: train saves what it trained first, as after Ctrl-C)."""
    with _process_setup():
        try:
            args = parse(build_parser(), argv)
            status = int(args.run(args))
            sys.stdout.flush()
            return status
        except RefusedError as e:
            print(f"tinygrad-bp: error: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("tinygrad-bp: interrupted", file=sys.stderr)
            return INTERRUPTED
        except _OutputError as e:
            _quiet_stdout()
            if isinstance(e.error, BrokenPipeError):
                return BROKEN_PIPE  # the reader has all it wanted: nothing to say
            print(f"tinygrad-bp: cannot write the output: {e}", file=sys.stderr)
            return 1
