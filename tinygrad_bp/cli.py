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
    tinygrad-bp viz path/to/file.py:function -o mine.html   a function of yours, returning
                                      the root Value or (root, parameters)

The network commands import ``nn`` when they run; the engine itself never
imports it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, cast

from . import __version__
from .draw import DIRECTIONS, draw
from .engine import Value
from .explain import Explainer
from .graph import topological_order
from .render import FORMATS, render
from .text import number, printable

# Exit statuses, as a shell reports a program ended by that signal (128 + its number).
INTERRUPTED = 130  # Ctrl-C (SIGINT)
BROKEN_PIPE = 141  # the reader went away (SIGPIPE): e.g. | head -1


class _RefusedError(Exception):
    """Something that stops the command before it starts; the message is the whole story."""


def _printable(text: str) -> str:
    """``text`` whole (a path is never cut short), with escapes and newlines shown escaped."""
    return printable(text, limit=sys.maxsize)


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


def _updates(text: str) -> int:
    """viz --updates: 0 up to the longest run the learning view takes."""
    from .learning import MAX_UPDATES

    n = _whole_number(text)
    if n > MAX_UPDATES:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_UPDATES:,} updates, got {n:,}")
    return n


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


def _run_draw(args: argparse.Namespace) -> int:
    try:
        graph = _graph_source(args)
    except _UserCodeError as e:
        return _user_code_failed(args, e)
    highlight = _node_labelled(graph, args.highlight, "--highlight") if args.highlight else None
    drawing = draw(
        graph.root,
        direction=args.direction,
        precision=args.precision,
        edge_labels=args.edge_labels,
        highlight=highlight,
        parameters=graph.parameters,
        collapse_neurons=args.collapse_neurons,
    )
    try:
        render(drawing, args.output)
    except OSError as error:
        print(
            f"tinygrad-bp draw: cannot write {_printable(str(args.output))}: {error}",
            file=sys.stderr,
        )
        return 1
    print(
        f"Wrote {_printable(str(args.output))}: {graph.what} after one backward pass "
        f"({len(set(drawing.node_ids.values()))} nodes)"
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

    data, train = (_nn_module(name) for name in ("data", "train"))
    plural = _nn_module("_util").plural

    # Everything that can be checked is checked before training, so a typo
    # in a path or a missing extra does not cost a training run.
    problem = args.plot is not None and (
        _check_plot_target(args.plot) or _check_writable(args.plot, "plot")
    )
    problem = problem or (args.save is not None and _check_writable(args.save, "model file"))
    if problem:
        return _fail(problem)

    try:
        model = _training_model(args)
        setup = _training_setup(args, model)
    except _TrainingRefusedError as e:
        return _fail(str(e))
    noise = {} if args.noise is None else {"noise": args.noise}
    X, y = data.DATASETS[args.dataset](args.points, seed=args.seed, signed=True, **noise)
    if args.load is not None:
        print(f"loaded the network and its parameters from {args.load!r}")

    print(
        f"{model} on {args.dataset} ({len(X)} points, seed {args.seed}): "
        f"{plural(args.steps, 'step')} of full-batch {setup.description}"
    )
    start = time.perf_counter()
    try:
        history = train.fit(
            model,
            X,
            y,
            steps=args.steps,
            progress=True,
            loss_fn=setup.loss_fn,
            optimizer=setup.optimizer,
            schedule=setup.schedule,
            trace=args.trace,
        )
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
        hint = "; a smaller --lr may help" if args.load is None else ""
        return _fail(f"training stopped: {e}{hint}")
    seconds = time.perf_counter() - start
    if not math.isfinite(history.losses[-1]):
        kept = ", so nothing was saved" if args.save is not None else ""
        return _fail(
            f"training diverged: the loss is {history.losses[-1]!r} after "
            f"{plural(args.steps, 'step')}{kept}; a smaller --lr may help"
        )
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


# -- which network, loss and optimizer train uses ------------------------------------------
DEFAULT_LAYERS = [16, 16]
TRAIN_ACTIVATIONS = ("relu", "tanh", "sigmoid")
LOSS_NAMES = {"hinge": "hinge loss", "bce": "binary cross-entropy", "mse": "mean squared error"}
ADAM_LR = 0.01


class _TrainingRefusedError(Exception):
    """A train flag (or a flag against a model file) that cannot be honoured; one line."""


@dataclass(frozen=True)
class _TrainingSetup:
    loss_fn: Callable[..., Any]
    optimizer: Any
    schedule: Callable[[int], float] | None
    description: str  # "SGD, hinge loss + 1e-4·Σp², learning rate 1.0 down to 0.1"


def _layer_sizes(text: str) -> list[int]:
    """A --layers argument: hidden layer sizes, comma-separated; none for no hidden layer."""
    if text.strip().lower() == "none":
        return []
    sizes = []
    for part in text.split(","):
        try:
            n = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected hidden layer sizes such as 16,16 (or none), got {text!r}"
            ) from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"a layer has at least 1 neuron, got {n} in {text!r}")
        sizes.append(n)
    return sizes


def _real_in(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high) (or (low, high) with low_open)."""

    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        inside = (low < x if low_open else low <= x) and x < high
        if not inside:  # NaN too
            left = "(" if low_open else "["
            right = "∞)" if math.isinf(high) else f"{high:g})"
            raise argparse.ArgumentTypeError(
                f"expected a number in {left}{low:g}, {right}, got {text}"
            )
        return x

    return parse


def _shown_layers(sizes: Sequence[int]) -> str:
    return ",".join(map(str, sizes)) or "none"


def _training_model(args: argparse.Namespace) -> Any:
    """The network to train: from --load (checked against the flags) or from the flags."""
    serialize = _nn_module("serialize")
    if args.load is None:
        layers = DEFAULT_LAYERS if args.layers is None else args.layers
        nouts = [*layers, 1]
        count = sum((nin + 1) * nout for nin, nout in zip([2, *layers], nouts))
        if count > serialize.MAX_PARAMETERS:
            raise _TrainingRefusedError(
                f"--layers {_shown_layers(layers)} makes {count:,} parameters; at most "
                f"{serialize.MAX_PARAMETERS:,} (what a model file holds)"
            )
        return _nn_module("module").MLP(2, nouts, args.activation or "relu", seed=args.seed)
    try:
        model = serialize.load(args.load)
    except serialize.ModelFileError as e:
        raise _TrainingRefusedError(f"cannot load {args.load!r}: {e.reason}") from None
    except OSError as e:
        raise _TrainingRefusedError(f"cannot load {args.load!r}: {e.strerror or e}") from None
    arch = serialize.architecture(model)
    holds = f"cannot load {args.load!r}: the file holds {model}"
    if arch["nin"] != 2 or arch["nouts"][-1] != 1 or arch["output_activation"] != "linear":
        raise _TrainingRefusedError(
            f"{holds}; train needs 2 inputs and one linear output (a score)"
        )
    hidden = arch["nouts"][:-1]
    if args.layers is not None and args.layers != hidden:
        raise _TrainingRefusedError(
            f"{holds}, which contradicts --layers {_shown_layers(args.layers)}; leave --layers "
            f"out to train the file's network (or give --layers {_shown_layers(hidden)})"
        )
    if args.activation is not None and args.activation != arch["activation"]:
        raise _TrainingRefusedError(
            f"{holds}, which contradicts --activation {args.activation}; leave --activation "
            f"out to train the file's network (or give --activation {arch['activation']})"
        )
    return model


def _training_setup(args: argparse.Namespace, model: Any) -> _TrainingSetup:
    """The loss, optimizer and learning rate from the flags; micrograd's demo by default."""
    optim, train = _nn_module("optim"), _nn_module("train")
    loss_fn = train.svm_loss if args.loss == "hinge" else train.classifier_loss(args.loss)
    losses = f"{LOSS_NAMES[args.loss]} + 1e-4·Σp²"
    schedule = None
    if args.optimizer == "adam":
        if args.momentum is not None:
            raise _TrainingRefusedError(
                "--momentum is for --optimizer sgd; Adam keeps its own moments (leave it out)"
            )
        lr = ADAM_LR if args.lr is None else args.lr
        optimizer = optim.Adam(model.parameters(), lr=lr)
        return _TrainingSetup(loss_fn, optimizer, None, f"Adam, {losses}, learning rate {lr:g}")
    momentum = args.momentum or 0.0
    if args.lr is None:  # micrograd's schedule
        schedule = train.linear_decay(max(args.steps, 1))
        lr, rate = schedule(0), "learning rate 1.0 down to 0.1"
    else:
        lr, rate = args.lr, f"learning rate {args.lr:g}"
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    sgd = f"SGD with momentum {momentum:g}" if momentum else "SGD"
    return _TrainingSetup(loss_fn, optimizer, schedule, f"{sgd}, {losses}, {rate}")


def _add_network_options(parser: argparse.ArgumentParser) -> None:
    """train's flags for the network, its loss, its optimizer and its data."""
    parser.add_argument(
        "--layers",
        type=_layer_sizes,
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (default 16,16; none for no hidden layer)",
    )
    parser.add_argument(
        "--activation",
        choices=TRAIN_ACTIVATIONS,
        help="the hidden layers' activation (default relu); the output is linear",
    )
    parser.add_argument(
        "--loss",
        choices=list(LOSS_NAMES),
        default="hinge",
        help="hinge (default, micrograd's), bce (binary cross-entropy) or mse",
    )
    parser.add_argument(
        "--optimizer", choices=["sgd", "adam"], default="sgd", help="sgd (default) or adam"
    )
    parser.add_argument(
        "--lr",
        type=_real_in(0.0, math.inf, low_open=True),
        metavar="RATE",
        help=f"a constant learning rate (default: SGD from 1.0 down to 0.1; Adam {ADAM_LR:g})",
    )
    parser.add_argument(
        "--momentum",
        type=_real_in(0.0, 1.0),
        metavar="M",
        help="SGD's momentum, in [0, 1) (default 0)",
    )
    parser.add_argument(
        "--points",
        type=_int_at_least(2),
        default=100,
        metavar="N",
        help="points in the dataset (default 100)",
    )
    parser.add_argument(
        "--noise",
        type=_real_in(0.0, math.inf),
        metavar="SIGMA",
        help="the points' Gaussian jitter (default: the dataset's, 0.1 for moons)",
    )


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
    from .learning import DEFAULT_LR, DEFAULT_UPDATES, Learning
    from .stepper import Stepper

    try:
        graph = _graph_source(args)
    except _UserCodeError as e:
        return _user_code_failed(args, e)
    # The update steps and the learning view, for a graph with parameters to train.
    learning = None
    if graph.trained:
        lr = DEFAULT_LR if args.lr is None else args.lr
        updates = DEFAULT_UPDATES if args.updates is None else args.updates
        learning = Learning(graph.trained, lr=lr, updates=updates)
    elif args.lr is not None or args.updates is not None:
        option = "--lr" if args.lr is not None else "--updates"
        raise _RefusedError(
            f"{option} is for the update steps, which need parameters to train: name them "
            "with --parameters (a formula) or return (root, parameters) (a function)"
        )
    try:
        page = Stepper(
            graph.root,
            parameters=graph.parameters,
            collapse_neurons=args.collapse_neurons,
            direction=args.direction,
            precision=args.precision,
            title=graph.title,
            learning=learning,
        )
    except ValueError as error:  # a root whose backward() was run twice, a graph too large
        raise _RefusedError(str(error)) from None
    try:
        page.save(args.output)
    except OSError as error:
        print(
            f"tinygrad-bp viz: cannot write {_printable(str(args.output))}: {error}",
            file=sys.stderr,
        )
        return 1
    kinds = [s.kind for s in page.steps]
    after = ""
    if page.learning is not None:
        n = kinds.count("update")
        after = f", {n} update step{'' if n == 1 else 's'}, the forward pass again"
        run = page.learning.run
        if run is not None:
            after += f" and {run.updates[-1]:,} updates to scrub through"
    print(
        f"Wrote {_printable(str(args.output))}: {graph.what} in {kinds.count('forward')} "
        f"forward and {kinds.count('backward')} backward steps{after}; open it in a browser "
        "(Right/Left step, Space plays)"
    )
    if page.learning is not None and page.learning.run is not None and page.learning.run.stopped:
        print(page.learning.run.stopped)
    return 0


# -- your own graph: the article's, a formula, or a function in a Python file -------------
GRAPH_HELP = (
    'mazur (the article\'s network), a formula such as "tanh(x*w + b)" followed by its '
    "values (x=2 w=-3 b=6.88), or path/to/file.py:function (a function of yours that returns "
    "the root Value, or (root, parameters))"
)


class _UserCodeError(Exception):
    """The user's file or function raised: its traceback is theirs to read."""

    def __init__(self, reference: str, traceback: str) -> None:
        super().__init__(reference)
        self.reference = reference
        self.traceback = traceback


@dataclass(frozen=True)
class _Graph:
    """A graph to draw, play or explain, backward already run."""

    root: Value
    parameters: list[Value] | None
    what: str  # how "Wrote ..." names it
    title: str | None  # the stepper page's title
    everything: list[Value]  # what --wrt all explains
    heading: str  # explain's first line: this = the root's value
    trained: list[Value] | None = None  # what viz's update steps and learning view update


def _graph_source(args: argparse.Namespace) -> _Graph:
    """The graph args.graph names, built and backpropagated; a refusal in one line."""
    text: str = args.graph
    given: list[str] = args.values
    names: str | None = args.parameters
    if text == "mazur":
        _refuse_extras(given, names, "mazur (the article's network)")
        mazur = _nn_module("mazur")
        model, step = mazur.backpropagated()
        return _Graph(
            step.E_total,
            model.parameters(),
            "the article's network",
            "A Step by Step Backpropagation Example, node by node",
            mazur.trained_parameters(model),
            "E_total",
            mazur.trained_parameters(model),  # the weights; the article keeps the biases fixed
        )
    from . import userfile

    if userfile.is_reference(text):
        _refuse_extras(given, names, text)
        try:
            loaded = userfile.load(text)
        except userfile.UserFileError as e:
            raise _RefusedError(str(e)) from None
        except userfile.UserCodeError as e:
            raise _UserCodeError(text, e.traceback) from None
        root = loaded.root
        everything = loaded.parameters or [
            v for v in topological_order(root) if v.label and not v.parents and v is not root
        ]
        name = root.label or "the root"
        return _Graph(
            root,
            loaded.parameters,
            f"the graph of {text}",
            f"{text}, node by node",
            everything,
            name,
            loaded.parameters,
        )
    return _formula_graph(text, given, names)


def _formula_graph(text: str, given: list[str], names: str | None) -> _Graph:
    from .formula import FormulaError, build, parse_values

    try:
        formula = build(text, parse_values(given))
    except FormulaError as e:
        raise _RefusedError(_printable(str(e))) from None
    root = formula.root
    root.backward()
    parameters = None
    if names is not None:
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in formula.leaves]
        if unknown or not wanted:
            raise _RefusedError(
                f"--parameters {_printable(names)}: "
                + (f"{', '.join(map(_printable, unknown))} not" if unknown else "no name")
                + f" among the formula's names ({', '.join(formula.leaves)}); "
                "expected a comma-separated list of them, as w1,w2,b"
            )
        parameters = [formula.leaves[n] for n in wanted]
    shown = " ".join(formula.expression.split())
    return _Graph(
        root,
        parameters,
        f"{root.label} = {_printable(shown)}",
        f"{root.label} = {shown}, node by node",
        parameters or list(formula.leaves.values()),
        f"{root.label} = {_printable(shown)}",
        parameters,
    )


def _refuse_extras(given: list[str], names: str | None, what: str) -> None:
    if given:
        raise _RefusedError(
            f"{_printable(given[0])}: values are for a formula; {_printable(what)} takes none"
        )
    if names is not None:
        raise _RefusedError(
            f"--parameters is for a formula; {_printable(what)} says which its parameters are"
        )


def _node_labelled(graph: _Graph, label: str, option: str) -> Value:
    """The one node of the graph labelled ``label``, or a refusal listing the labels."""
    nodes = [v for v in topological_order(graph.root) if v.label == label]
    if len(nodes) == 1:
        return nodes[0]
    labels = list(dict.fromkeys(v.label for v in topological_order(graph.root) if v.label))
    if nodes:
        raise _RefusedError(
            f"{option} {label!r}: {len(nodes)} nodes have that label; "
            "give the nodes different labels"
        )
    raise _RefusedError(
        f"{option}: unknown label {label!r}; expected one of: " + ", ".join(map(_printable, labels))
    )


def _user_code_failed(args: argparse.Namespace, error: _UserCodeError) -> int:
    print(
        f"tinygrad-bp {args.command}: {_printable(error.reference)} raised an error:\n"
        f"{error.traceback.rstrip()}",
        file=sys.stderr,
    )
    return 1


def _run_explain(args: argparse.Namespace) -> int:
    try:
        graph = _graph_source(args)
    except _UserCodeError as e:
        return _user_code_failed(args, e)
    explainer = Explainer(graph.root)
    if args.wrt == "all":
        targets = graph.everything
        if not targets:
            raise _RefusedError("the graph has no labelled leaf to explain; name one with --wrt")
    else:
        targets = [_node_labelled(graph, args.wrt, "--wrt")]
    print(f"{graph.heading} = {number(graph.root.data, args.precision, trim=True)}")
    for node in targets:
        print()
        print(explainer.derivation(node).text(args.precision))
    return 0


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
        help="train an MLP on a toy dataset (by default micrograd's moons demo)",
        description=(
            "By default micrograd's demo: a 2-16-16-1 ReLU MLP, full-batch SGD on 100 points, "
            "hinge (max-margin) loss + 1e-4·Σp², learning rate from 1.0 down to 0.1; the flags "
            "below change the network, loss, optimizer and data. A progress bar shows on a "
            "terminal; the last line gives the final loss and accuracy."
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
    t.add_argument(
        "--save", metavar="PATH", help="save the trained network (architecture and parameters)"
    )
    t.add_argument(
        "--load",
        metavar="PATH",
        help="start from a network saved with --save: its architecture and parameters",
    )
    _add_network_options(t)
    _add_trace_option(t, "every step")
    t.set_defaults(run=_run_train)
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
        metavar="LABEL",
        help="draw the path from LABEL to the root in red (e.g. w5)",
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
        "forward pass and backward pass of a graph (the article's network, a formula or a "
        "function of yours) node by node, with the chain rule for "
        "every gradient. Keys: Right/Left step, Space plays, Home/End jump.",
    )
    _add_graph_arguments(v, "play")
    v.add_argument(
        "-o", "--output", type=_html_path, required=True, metavar="FILE", help="the .html to write"
    )
    _add_layout_options(v)
    v.add_argument(
        "--collapse-neurons",
        action="store_true",
        help="one node and one step per neuron, its weights and bias folded in",
    )
    v.add_argument(
        "--updates",
        type=_updates,
        metavar="N",
        help="the training run the learning view plots and scrubs through, after the update "
        "steps and the forward pass again (default 10000, as the article; 0: none). For a "
        "graph with parameters: the article's weights, a formula's --parameters, or those a "
        "function returns",
    )
    v.add_argument(
        "--lr",
        type=_real_in(0.0, math.inf, low_open=True),
        metavar="RATE",
        help="the learning rate η of the update steps and the run (default 0.5, as the article)",
    )
    v.set_defaults(run=_run_viz)

    e = sub.add_parser(
        "explain",
        help="write out a gradient by the chain rule, with numbers",
        description="Derive ∂root/∂LABEL by the chain rule, as the article does, for the "
        "article's network, a formula or a function of yours. A formula starting with a "
        'minus goes after -- (tinygrad-bp explain -- "-x*y" x=1 y=2).',
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
        "--precision",
        type=int,
        choices=range(18),
        default=9,
        metavar="N",
        help="decimals shown, 0 to 17 (default 9, as the article prints)",
    )
    e.set_defaults(run=_run_explain)
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
