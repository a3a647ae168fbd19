"""The ``tinygrad-bp`` command (also ``python -m tinygrad_bp``).

    tinygrad-bp mazur                 the article's walkthrough, one update
    tinygrad-bp mazur --steps 10000   ... then on to 10,000 updates in all
    tinygrad-bp train moons           micrograd's demo: a 2-16-16-1 MLP on two moons
    tinygrad-bp mazur --explain w5    ... and the chain rule for ∂E_total/∂w5 (or: all)
    tinygrad-bp mazur --code          the network's forward and backward pass as Python
    tinygrad-bp draw mazur -o graph.svg   the article's network drawn (.svg .png .pdf .dot)
    tinygrad-bp viz mazur -o backprop.html   a web page that plays both passes node by node

The network commands import ``nn`` when they run; the engine itself never
imports it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, cast

from . import __version__
from .draw import DIRECTIONS, draw
from .explain import plain
from .graph import topological_order
from .render import FORMATS, render

# Exit statuses, as a shell reports a program ended by that signal (128 + its number).
INTERRUPTED = 130  # Ctrl-C (SIGINT)
BROKEN_PIPE = 141  # the reader went away (SIGPIPE): e.g. | head -1


class _RefusedError(Exception):
    """Something that stops the command before it starts; the message is the whole story."""


def _printable(text: str) -> str:
    """``text`` whole (a path is never cut short), with escapes and newlines shown escaped."""
    return plain(text, limit=sys.maxsize)


# -- the nn package --------------------------------------------------------------------
def _nn_module(name: str) -> Any:
    """``nn.<name>``, after making sure that ``nn`` is this project's own.

    ``nn`` is a top-level package beside ``tinygrad_bp`` (by design), so a
    student's ``nn.py`` or ``nn/`` in the current folder, which Python
    searches first, hides it. Say so, and where, instead of an ImportError
    about a name the other ``nn`` lacks. The other file is located, never run.
    """
    ours = Path(__file__).resolve().parent.parent / "nn"
    spec = importlib.util.find_spec("nn")
    if spec is None:
        raise _RefusedError(
            f"the nn package that comes with tinygrad-bp is missing (expected {ours})"
        )
    found = spec.origin if spec.has_location and spec.origin else None
    if found is None or Path(found).resolve().parent != ours.resolve():
        where = found or ", ".join(spec.submodule_search_locations or []) or "built in"
        raise _RefusedError(
            f"another module named nn ({_printable(where)}) hides the nn package that comes "
            f"with tinygrad-bp ({_printable(str(ours))}): its folder comes first on Python's "
            "search path (python -m puts the current folder there); rename it or run from "
            "another folder"
        )
    return importlib.import_module(f"nn.{name}")


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
    mazur = _nn_module("mazur")
    step = mazur.forward(mazur.network())
    return [n.label for n in topological_order(step.E_total) if n.label]


def _explain_target(text: str) -> str:
    """An --explain argument: a label of the article's network, or "all"."""
    labels = _mazur_labels()
    if text == "all" or text in labels:
        return text
    ordered = sorted(labels, key=lambda s: (s[0] != "w", s[0] != "b", len(s), s))
    raise argparse.ArgumentTypeError(
        f"unknown label {text!r}; expected all or one of: {', '.join(ordered)}"
    )


def _run_mazur(args: argparse.Namespace) -> int:
    mazur, train = _nn_module("mazur"), _nn_module("train")
    if args.code:
        print(mazur.code(), end="")
        return 0
    try:
        for line in mazur.report(args.steps, args.train_biases, args.explain, trace=args.trace):
            print(line)
    except train.TrainingInterrupted as stop:
        print(f"tinygrad-bp mazur: {stop}", file=sys.stderr)
        return INTERRUPTED
    return 0


def _output_path(text: str) -> Path:
    """A -o argument: a path whose extension names a format we can write."""
    path = Path(text)
    if path.suffix.lower() not in FORMATS:
        shown = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise argparse.ArgumentTypeError(
            f"cannot tell the format of {text!r} ({shown}); use one of {', '.join(FORMATS)}"
        )
    return path


def _highlight_target(text: str) -> str:
    if text not in _mazur_labels():
        raise argparse.ArgumentTypeError(
            f"unknown label {text!r}; expected one of: {', '.join(_mazur_labels())}"
        )
    return text


def _run_draw(args: argparse.Namespace) -> int:
    mazur = _nn_module("mazur")

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
        print(
            f"tinygrad-bp draw: cannot write {_printable(str(args.output))}: {error}",
            file=sys.stderr,
        )
        return 1
    print(
        f"Wrote {_printable(str(args.output))}: the article's network after one backward pass "
        f"({len(set(graph.node_ids.values()))} nodes)"
    )
    return 0


def _fail(message: str) -> int:
    print(f"tinygrad-bp train: error: {message}", file=sys.stderr)
    return 1


def _check_plot_target(path: str) -> str | None:
    """A message if --plot cannot be written (no matplotlib, an ending it cannot write)."""
    plot = _nn_module("plot")
    try:
        plot.require_matplotlib()
        plot.check_image_format(path)
    except (plot.MatplotlibMissingError, ValueError) as e:
        return str(e)
    return None


def _check_writable(path: str, what: str) -> str | None:
    """A message if ``path`` cannot be written: tried now, not after training."""
    check_writable = _nn_module("_util").check_writable
    try:
        check_writable(path)
    except OSError as e:
        return f"cannot write the {what} {path!r}: {e.strerror or e}"
    return None


def _save(model: Any, path: str) -> bool:
    """Save ``model`` to ``path``, saying so or saying why not: whether it worked."""
    serialize = _nn_module("serialize")
    try:
        serialize.save(model, path)
    except OSError as e:
        _fail(f"cannot save {path!r}: {e.strerror or e}")
        return False
    except ValueError as e:
        _fail(f"cannot save {path!r}: {e}")
        return False
    print(f"saved the model to {path!r}")
    return True


def _run_train(args: argparse.Namespace) -> int:
    import time

    data, serialize, train = (_nn_module(name) for name in ("data", "serialize", "train"))
    MLP = _nn_module("module").MLP
    plural = _nn_module("_util").plural

    # Everything that can be checked is checked before training, so a typo
    # in a path or a missing extra does not cost a training run.
    problem = args.plot is not None and (
        _check_plot_target(args.plot) or _check_writable(args.plot, "plot")
    )
    problem = problem or (args.save is not None and _check_writable(args.save, "model file"))
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
        f"{model} on {args.dataset} ({len(X)} points, seed {args.seed}): "
        f"{plural(args.steps, 'step')} of full-batch SGD, hinge loss + 1e-4·Σp², "
        "learning rate 1.0 down to 0.1"
    )
    start = time.perf_counter()
    try:
        history = train.fit(model, X, y, steps=args.steps, progress=True, trace=args.trace)
    except train.TrainingInterrupted as stop:
        # The model holds exactly stop.updates updates: keep them if asked. With
        # none made there is nothing to keep, and a previous file is worth more.
        print(f"tinygrad-bp train: {stop}", file=sys.stderr)
        if args.save is not None and stop.updates > 0:
            _save(model, args.save)
        return INTERRUPTED
    except (ValueError, ArithmeticError) as e:
        # A run that diverged (say, from loaded parameters near 1e300): the
        # optimizer refuses a non-finite gradient and changes nothing.
        return _fail(f"training stopped: {e}")
    seconds = time.perf_counter() - start
    perfect = history.first_perfect()
    if perfect is not None:
        print(f"100% training accuracy first reached after {plural(perfect, 'update')}")

    # A failed save or plot is reported, but the run's result is still the last line.
    failed = args.save is not None and not _save(model, args.save)
    if args.plot is not None:
        plot = _nn_module("plot")
        try:
            title = f"{args.dataset}, {plural(args.steps, 'step')}"
            plot.plot_training(model, X, y, history, args.plot, title=title)
            print(f"wrote the plot to {args.plot!r}")
        except (OSError, ValueError, RuntimeError) as e:
            failed = bool(_fail(f"cannot write the plot {args.plot!r}: {e}"))

    loss, acc = history.losses[-1], history.accuracies[-1]
    print(
        f"final loss {loss:.6f} accuracy {acc:.0%} ({round(acc * len(y))}/{len(y)}) "
        f"after {plural(args.steps, 'step')} in {seconds:.1f} s"
    )
    return 1 if failed else 0


HTML_SUFFIXES = (".html", ".htm")


def _html_path(text: str) -> Path:
    """A viz -o argument: the page is HTML, so the name should say so."""
    path = Path(text)
    if path.suffix.lower() not in HTML_SUFFIXES:
        shown = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise argparse.ArgumentTypeError(
            f"{text!r} has {shown}; the page is HTML: use a name ending in .html or .htm"
        )
    return path


def _run_viz(args: argparse.Namespace) -> int:
    from .stepper import Stepper

    mazur = _nn_module("mazur")

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
        print(
            f"tinygrad-bp viz: cannot write {_printable(str(args.output))}: {error}",
            file=sys.stderr,
        )
        return 1
    kinds = [s.kind for s in page.steps]
    print(
        f"Wrote {_printable(str(args.output))}: the article's network in {kinds.count('forward')} "
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
    m.add_argument(
        "--code",
        action="store_true",
        help="print the network's forward and backward pass as the Python code a trace "
        "generates, and stop",
    )
    _add_trace_option(m, "the updates after the first")
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
    _add_trace_option(t, "every step")
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
    130 (Ctrl-C), 141 (a closed pipe: quietly, as a Unix tool ended by SIGPIPE)."""
    with _process_setup():
        try:
            args = build_parser().parse_args(argv)
            status = int(args.run(args))
            sys.stdout.flush()
            return status
        except _RefusedError as e:
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
