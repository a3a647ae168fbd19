"""The ``train`` command: a network, a dataset, a loss and an optimizer from flags.

Saving, loading, plotting and Ctrl-C are checked or handled so that nothing
trained is lost and nothing fails after the work is done.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from .common import INTERRUPTED, PLANE_DATASETS, feature_names, int_at_least, layer_sizes, nn_module


def _fail(message: str) -> int:
    print(f"tinygrad-bp train: error: {message}", file=sys.stderr)
    return 1


def _check_plot_target(path: str) -> str | None:
    """A message if --plot cannot be written (no matplotlib, an ending it cannot write)."""
    plot = nn_module("plot")
    try:
        plot.require_matplotlib()
        plot.check_image_format(path)
    except (plot.MatplotlibMissingError, ValueError) as e:
        return str(e)
    return None


def _check_writable(path: str, what: str) -> str | None:
    """A message if ``path`` cannot be written: tried now, not after training."""
    check_writable = nn_module("_util").check_writable
    try:
        check_writable(path)
    except OSError as e:
        return f"cannot write the {what} {path!r}: {e.strerror or e}"
    return None


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: the same path once links and .. are resolved,
    or (both existing) the same file by its device and inode, as a hard link is."""
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one of them is not there yet: two new files
        return False


def _save(model: Any, path: str) -> bool:
    """Save ``model`` to ``path``, saying so or saying why not: whether it worked."""
    serialize = nn_module("serialize")
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


def _stopped(stop: Any, terminated: _Signalled, model: Any, save: str | None) -> int:
    """Say that training stopped (Ctrl-C or SIGTERM), keep what was trained, give the status.

    The model holds exactly stop.updates updates: keep them if asked. With
    none made there is nothing to keep, and a previous file is worth more.
    """
    plural = nn_module("_util").plural
    if terminated.signum is None:
        print(f"tinygrad-bp train: {stop}", file=sys.stderr)
    else:
        print(
            f"tinygrad-bp train: stopped by {signal.Signals(terminated.signum).name} after "
            f"{stop.updates} of {plural(stop.steps, 'update')}",
            file=sys.stderr,
        )
    if save is not None and stop.updates > 0:
        _save(model, save)
    return INTERRUPTED if terminated.signum is None else 128 + terminated.signum


class _Signalled:
    """Which signal asked the training to stop, if one did (None: Ctrl-C or none)."""

    signum: int | None = None


@contextmanager
def _sigterm_stops_training(seen: _Signalled) -> Iterator[None]:
    """Within the block, SIGTERM stops the training between two updates, as Ctrl-C does.

    A job scheduler, ``timeout`` or ``docker stop`` ends a run with SIGTERM:
    the updates made are then saved as after Ctrl-C. Where no training loop
    is listening (the network still being traced, the last evaluation) or at
    a second SIGTERM, the command ends at once, as a Ctrl-C there ends it.
    """
    request_stop = nn_module("_util").request_stop

    def stop(signum: int, frame: FrameType | None) -> None:
        if not request_stop():
            raise SystemExit(128 + signum)
        seen.signum = signum

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: signals are not ours to take
        yield
        return
    try:
        yield
    finally:
        # None: a handler set outside Python, which cannot be put back; the default then.
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _check_outputs(args: argparse.Namespace) -> str | None:
    """A message if --plot or --save cannot be written: checked before any training."""
    if args.plot is not None and args.save is not None and _same_file(args.plot, args.save):
        # Written one after the other, the plot would replace the model.
        return (
            f"--plot {args.plot!r} and --save {args.save!r} name the same file; give each "
            "output its own path"
        )
    problem = args.plot is not None and (
        _check_plot_target(args.plot) or _check_writable(args.plot, "plot")
    )
    page = getattr(args, "page", None)
    return (
        problem
        or (args.save is not None and _check_writable(args.save, "model file"))
        or (page is not None and _check_writable(page, "page"))
        or None
    )


def run_train(args: argparse.Namespace) -> int:
    import time

    data, train = (nn_module(name) for name in ("data", "train"))
    plural = nn_module("_util").plural

    if args.data is not None or args.dataset == "digits":
        return run_classes(args)
    if args.dataset is None:
        return _fail(
            f"expected a dataset ({', '.join(PLANE_DATASETS)} or digits) or --data FILE.csv"
        )
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value is not None:
            return _fail(
                f"{flag} is for digits and --data, which train on minibatches; {args.dataset} "
                "trains full-batch for --steps"
            )
    if args.loss == "ce":
        return _fail(
            f"--loss ce is for digits and --data, which have a class per point; {args.dataset} "
            "has one score (hinge, bce or mse)"
        )
    args.steps = 100 if args.steps is None else args.steps
    args.points = 100 if args.points is None else args.points
    args.loss = "hinge" if args.loss is None else args.loss
    args.optimizer = "sgd" if args.optimizer is None else args.optimizer

    # Everything that can be checked is checked before training, so a typo
    # in a path or a missing extra does not cost a training run.
    problem = _check_outputs(args)
    if problem:
        return _fail(problem)

    features = data.DEFAULT_FEATURES if args.features is None else args.features
    page_setup = None
    if args.page is not None:  # what the page cannot record is refused before training too
        try:
            page_setup = page_settings(args, features)
        except ValueError as e:
            return _fail(str(e))
    try:
        model = _training_model(args, nin=len(features))
        setup = _training_setup(args, model)
    except _TrainingRefusedError as e:
        return _fail(str(e))
    noise = {} if args.noise is None else {"noise": args.noise}
    points, y = data.DATASETS[args.dataset](args.points, seed=args.seed, signed=True, **noise)
    X = data.with_features(points, features)  # the network's inputs, from the plane's points
    if args.load is not None:
        print(f"loaded the network and its parameters from {args.load!r}")

    print(
        f"{model} on {args.dataset} ({len(X)} points, seed {args.seed}): "
        f"{plural(args.steps, 'step')} of full-batch {setup.description}"
    )
    start = time.perf_counter()
    starting = [p.data for p in model.parameters()]  # to tell whether an update moved any
    terminated = _Signalled()
    try:
        with _sigterm_stops_training(terminated):
            history = train.fit(
                model,
                X,
                y,
                steps=args.steps,
                progress=True,
                loss_fn=setup.loss_fn,
                optimizer=setup.optimizer,
                schedule=setup.schedule,
                trace=None if args.trace else False,  # traced where it pays, unless --no-trace
            )
    except train.TrainingInterrupted as stop:
        return _stopped(stop, terminated, model, args.save)
    except (ValueError, ArithmeticError) as e:
        # A run that diverged (say, from loaded parameters near 1e300): the
        # optimizer refuses a non-finite gradient and changes nothing.
        moved = [p.data for p in model.parameters()] != starting
        hint = _divergence_hint(args, points, lr_may_help=moved and args.load is None)
        return _fail(f"training stopped: {str(e).rstrip('.')}{hint}")
    seconds = time.perf_counter() - start
    if not math.isfinite(history.losses[-1]):
        kept = ", so nothing was saved" if args.save is not None else ""
        hint = _divergence_hint(args, points, lr_may_help=math.isfinite(history.losses[0]))
        return _fail(
            f"training diverged: the loss is {history.losses[-1]!r} after "
            f"{plural(args.steps, 'step')}{kept}{hint}"
        )
    perfect = history.first_perfect()
    if perfect is not None:
        print(f"100% training accuracy first reached after {plural(perfect, 'update')}")

    # A failed save or plot is reported, but the run's result is still the last line.
    failed = args.save is not None and not _save(model, args.save)
    if args.plot is not None:
        plot = nn_module("plot")
        try:
            title = f"{args.dataset}, {plural(args.steps, 'step')}"
            plot.plot_training(model, points, y, history, args.plot, title=title, features=features)
            print(f"wrote the plot to {args.plot!r}")
        except (OSError, ValueError, RuntimeError) as e:
            failed = bool(_fail(f"cannot write the plot {args.plot!r}: {e}"))

    if page_setup is not None:
        failed = not _write_page(args, page_setup) or failed

    if history.note:
        print(f"not traced, run by the interpreted engine: {history.note}")
    loss, acc = history.losses[-1], history.accuracies[-1]
    print(
        f"final loss {loss:.6f} accuracy {acc:.0%} ({round(acc * len(y))}/{len(y)}) "
        f"after {plural(args.steps, 'step')} in {seconds:.1f} s"
    )
    return 1 if failed else 0


# The datasets lie within about 2 of the origin: a jitter beyond this swamps them.
NOISE_SWAMPS = 1.0


def _divergence_hint(
    args: argparse.Namespace, X: Sequence[Sequence[float]], *, lr_may_help: bool
) -> str:
    """What may help after an inf or NaN in training, as "; ..." (or "" if nothing to say).

    A --noise far beyond the data's size is the cause whatever the learning
    rate; the learning rate is named only where it moved a parameter
    (``lr_may_help``): before the first update it played no part.
    """
    if args.noise is not None and args.noise > NOISE_SWAMPS:
        far = max(abs(c) for x in X for c in x)
        return (
            f"; the noise is the problem: --noise {args.noise:g} puts points as far as "
            f"{far:.3g} from the origin (the data lie within about 2 of it); a --noise of at "
            f"most {NOISE_SWAMPS:g} may help"
        )
    return "; a smaller --lr may help" if lr_may_help else ""


# -- which network, loss and optimizer train uses ------------------------------------------
DEFAULT_LAYERS = [16, 16]
TRAIN_ACTIVATIONS = ("relu", "tanh", "sigmoid")
LOSS_NAMES = {"hinge": "hinge loss", "bce": "binary cross-entropy", "mse": "mean squared error"}
ADAM_LR = 0.01
# At most this many points: a step over 100,000 takes seconds traced, and the
# whole batch's graph (--no-trace) about 1.6 GB at the default 16,16; beyond
# that a typo (--points 1000000000) would fill the memory before the first step.
MAX_POINTS = 100_000
# digits and --data: a 64-32-10 MLP (for the digits), Adam at 0.01 on minibatches of 32 for 20
# epochs: about 97% test accuracy on the digits in a few seconds (docs/training.md).
CLASS_LAYERS = [32]
EPOCHS = 20
BATCH_SIZE = 32
SGD_LR = 0.1  # SGD's constant rate on minibatches (micrograd's schedule is for full batches)


class _TrainingRefusedError(Exception):
    """A train flag (or a flag against a model file) that cannot be honoured; one line."""


@dataclass(frozen=True)
class _TrainingSetup:
    loss_fn: Callable[..., Any]
    optimizer: Any
    schedule: Callable[[int], float] | None
    description: str  # "SGD, hinge loss + 1e-4·Σp², learning rate 1.0 down to 0.1"


def real_in(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
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


def _points(text: str) -> int:
    """A --points argument: 2 (one of each class) up to MAX_POINTS."""
    n = int_at_least(2)(text)
    if n > MAX_POINTS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_POINTS:,} points, got {n:,}")
    return n


def _shown_layers(sizes: Sequence[int]) -> str:
    return ",".join(map(str, sizes)) or "none"


def _training_model(
    args: argparse.Namespace, nin: int = 2, nout: int = 1, default_layers: Sequence[int] = ()
) -> Any:
    """The network to train: from --load (checked against the flags and the data) or the flags.

    ``nin`` inputs and ``nout`` linear outputs: 2 and a score for the 2-D
    sets, the features and one output per class for digits and --data.
    """
    serialize = nn_module("serialize")
    if args.load is None:
        layers = list(default_layers or DEFAULT_LAYERS) if args.layers is None else args.layers
        nouts = [*layers, nout]
        count = sum((a + 1) * b for a, b in zip([nin, *layers], nouts))
        if count > serialize.MAX_PARAMETERS:
            raise _TrainingRefusedError(
                f"--layers {_shown_layers(layers)} makes {count:,} parameters; at most "
                f"{serialize.MAX_PARAMETERS:,} (what a model file holds)"
            )
        return nn_module("module").MLP(nin, nouts, args.activation or "relu", seed=args.seed)
    try:
        model = serialize.load(args.load)
    except serialize.ModelFileError as e:
        raise _TrainingRefusedError(f"cannot load {args.load!r}: {e.reason}") from None
    except OSError as e:
        raise _TrainingRefusedError(f"cannot load {args.load!r}: {e.strerror or e}") from None
    arch = serialize.architecture(model)
    holds = f"cannot load {args.load!r}: the file holds {model}"
    if arch["nin"] != nin or arch["nouts"][-1] != nout or arch["output_activation"] != "linear":
        if nout == 1:
            needs = f"train needs {nin} inputs and one linear output (a score)"
        else:
            needs = f"this data needs {nin} inputs and {nout} linear outputs (one per class)"
        raise _TrainingRefusedError(f"{holds}; {needs}")
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
    optim, train = nn_module("optim"), nn_module("train")
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


def page_settings(args: argparse.Namespace, features: Sequence[str]) -> Any:
    """The playground's settings for train's run: its data, network, optimizer and penalty.

    Full batch, as train's updates; a constant learning rate (--lr, else 0.1
    for SGD, where train's default schedule falls from 1.0 to 0.1; Adam's
    0.01, as train's). A flag the playground's run cannot follow (another
    loss, momentum, a loaded network, more than its bounds) is refused: a
    ValueError naming it, raised before anything is trained.
    """
    page = nn_module("playground.page")
    if args.loss != "hinge":
        raise ValueError(
            f"--page records the playground's run, which learns by the hinge loss: leave out "
            f"--loss {args.loss} (or train without --page)"
        )
    if args.momentum:
        raise ValueError(
            "--page records the playground's run, whose SGD has no momentum: leave out --momentum"
        )
    if args.load is not None:
        raise ValueError(
            "--page records a run from the seed's first weights, not a loaded network: leave out "
            "--load (or train without --page)"
        )
    if args.steps > page.MAX_STEPS:
        raise ValueError(f"--page records at most {page.MAX_STEPS:,} steps, got {args.steps:,}")
    default_lr = ADAM_LR if args.optimizer == "adam" else 0.1
    values: dict[str, Any] = {
        "dataset": args.dataset,
        "points": args.points,
        "seed": args.seed,
        "features": list(features),
        "layers": list(args.layers if args.layers is not None else (16, 16)),
        "activation": args.activation or "relu",
        "lr": args.lr if args.lr is not None else default_lr,
        "optimizer": args.optimizer,
        "regularization": "l2",
        "reg_rate": 1e-4,
        "batch_size": args.points,
        "train_percent": 90,
    }
    if args.noise is not None:
        values["noise"] = args.noise
    playground = nn_module("playground")
    try:
        settings = playground.Settings().changed(values)
        page.check_chain_graph(page.parameter_count(settings), settings.train_test())
    except ValueError as e:  # the playground's bounds, in train's words
        raise ValueError(f"--page cannot record this run: {e}") from None
    return settings


def _write_page(args: argparse.Namespace, settings: Any) -> bool:
    """Record the run as a page (``nn.playground``) at --page; False, with a message, if not."""
    page = nn_module("playground.page")
    try:
        text = page.record(settings, steps=args.steps)
        with nn_module("_util").atomic_write(args.page, encoding="utf-8") as f:
            f.write(text)
    except (OSError, ValueError) as e:
        return not _fail(f"cannot write the page {args.page!r}: {e}")
    print(
        f"wrote the recorded page to {args.page!r} ({len(text.encode()) / 1e6:.1f} MB): the "
        f"same network and points, {settings.train_test():,} of them trained on (the rest "
        f"tested), at a constant learning rate {settings.lr:g}"
    )
    return True


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """train's flags for the network, its loss, its optimizer and its data."""
    parser.add_argument(
        "--layers",
        type=layer_sizes,
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
        choices=[*LOSS_NAMES, "ce"],
        help="hinge (default, micrograd's), bce (binary cross-entropy) or mse; ce (softmax "
        "cross-entropy) for digits and --data, their only one",
    )
    parser.add_argument(
        "--optimizer",
        choices=["sgd", "adam"],
        help="sgd (default) or adam (the default for digits and --data)",
    )
    parser.add_argument(
        "--lr",
        type=real_in(0.0, math.inf, low_open=True),
        metavar="RATE",
        help=f"a constant learning rate (default: SGD from 1.0 down to 0.1; Adam {ADAM_LR:g})",
    )
    parser.add_argument(
        "--momentum",
        type=real_in(0.0, 1.0),
        metavar="M",
        help="SGD's momentum, in [0, 1) (default 0)",
    )
    parser.add_argument(
        "--points",
        type=_points,
        metavar="N",
        help=f"points in the dataset, 2 to {MAX_POINTS:,} (default 100)",
    )
    parser.add_argument(
        "--noise",
        type=real_in(0.0, math.inf),
        metavar="SIGMA",
        help="the points' Gaussian jitter (default: the dataset's, 0.1 for moons)",
    )
    parser.add_argument(
        "--features",
        type=feature_names,
        metavar="NAMES",
        help="the network's inputs, computed from each point (x₁, x₂), comma-separated: "
        "x1, x2, x1sq, x2sq, x1x2, sin1, sin2 (default x1,x2); for the 2-D datasets",
    )
    parser.add_argument(
        "--data",
        metavar="FILE.csv",
        help="train on your own table: comma-separated numbers, the last column the class "
        "(whole numbers), a header row allowed; a quarter is held out to test",
    )
    parser.add_argument(
        "--epochs",
        type=int_at_least(1),
        metavar="N",
        help=f"passes over the data, for digits and --data (default {EPOCHS})",
    )
    parser.add_argument(
        "--batch-size",
        type=int_at_least(1),
        metavar="N",
        help=f"points per update, for digits and --data (default {BATCH_SIZE})",
    )


# -- digits and --data: a classifier over many classes -----------------------------------------
def run_classes(args: argparse.Namespace) -> int:
    """``train digits`` and ``train --data FILE.csv``: minibatches, softmax cross-entropy,
    the accuracy on a held-out test set."""
    import time

    data, train, optim = (nn_module(name) for name in ("data", "train", "optim"))
    plural = nn_module("_util").plural
    if args.dataset is not None and args.data is not None:
        return _fail(f"give a dataset or --data, not both (got {args.dataset} and --data)")
    for flag, value in (
        ("--steps", args.steps),
        ("--points", args.points),
        ("--noise", args.noise),
        ("--features", args.features),
        ("--page", args.page),
    ):
        if value is not None:
            return _fail(
                f"{flag} is for the points of the plane ({', '.join(PLANE_DATASETS)}); "
                "digits and --data have their own points "
                "and train for --epochs of --batch-size"
            )
    if args.loss not in (None, "ce"):
        return _fail(
            f"--loss {args.loss} is for one score; digits and --data have a class per point "
            "and train with softmax cross-entropy (--loss ce, the default)"
        )
    problem = _check_outputs(args)
    if problem:
        return _fail(problem)

    # The split is the same whatever --seed (which seeds the weights and the batches), so
    # that test accuracies of different runs are of the same 450 digits.
    if args.data is None:
        name = "digits"
        X_train, y_train, X_test, y_test = data.train_test_split(*data.load_digits())
        classes = list(range(data.DIGITS_CLASSES))
    else:
        name = args.data
        try:
            table = data.read_csv(args.data)
        except data.DataFileError as e:
            return _fail(f"cannot use --data: {e}")
        except OSError as e:
            return _fail(f"cannot read --data {args.data!r}: {e.strerror or e}")
        if len(table.X) < 2:
            return _fail(f"cannot use --data: {args.data}: 1 row; expected 2 or more")
        X_train, y_train, X_test, y_test = data.train_test_split(table.X, table.y)
        # Columns of any scale, shifted and scaled by the training points alone.
        X_train, X_test = data.standardize(X_train, X_test)
        classes = table.classes
    try:
        model = _training_model(args, len(X_train[0]), len(classes), CLASS_LAYERS)
    except _TrainingRefusedError as e:
        return _fail(str(e))
    if args.load is not None:
        print(f"loaded the network and its parameters from {args.load!r}")
    if args.optimizer == "sgd":
        lr = SGD_LR if args.lr is None else args.lr
        momentum = args.momentum or 0.0
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        how = f"SGD with momentum {momentum:g}" if momentum else "SGD"
    else:
        if args.momentum is not None:
            return _fail(
                "--momentum is for --optimizer sgd; Adam keeps its own moments (leave it out)"
            )
        lr = ADAM_LR if args.lr is None else args.lr
        optimizer, how = optim.Adam(model.parameters(), lr=lr), "Adam"
    epochs = EPOCHS if args.epochs is None else args.epochs
    batch = BATCH_SIZE if args.batch_size is None else args.batch_size
    print(
        f"{model} on {name} ({len(X_train):,} training and {len(X_test):,} test points, "
        f"{len(classes)} classes, seed {args.seed}): {plural(epochs, 'epoch')} of minibatches "
        f"of {batch}, {how}, softmax cross-entropy + 1e-4·Σp², learning rate {lr:g}"
    )
    start = time.perf_counter()
    terminated = _Signalled()
    try:
        with _sigterm_stops_training(terminated):
            history = train.fit_batches(
                model,
                X_train,
                y_train,
                epochs=epochs,
                batch_size=batch,
                optimizer=optimizer,
                seed=args.seed,
                test=(X_test, y_test),
                progress=True,
                trace=args.trace,
            )
    except train.TrainingInterrupted as stop:
        return _stopped(stop, terminated, model, args.save)
    except (ValueError, ArithmeticError) as e:
        return _fail(f"training stopped: {str(e).rstrip('.')}; a smaller --lr may help")
    seconds = time.perf_counter() - start
    for k in range(epochs):
        print(
            f"epoch {k + 1}: training loss {history.train_losses[k]:.4f} accuracy "
            f"{history.train_accuracies[k]:.1%}, test loss {history.test_losses[k]:.4f} "
            f"accuracy {history.test_accuracies[k]:.1%}"
        )
    if not math.isfinite(history.test_losses[-1]):
        return _fail(
            f"training diverged: the test loss is {history.test_losses[-1]!r}"
            f"{', so nothing was saved' if args.save is not None else ''}; a smaller --lr may help"
        )
    failed = args.save is not None and not _save(model, args.save)
    if args.plot is not None:
        plot = nn_module("plot")
        try:
            title = f"{name}: {model}, {plural(epochs, 'epoch')}"
            plot.plot_classes(
                model,
                X_test,
                y_test,
                history,
                args.plot,
                classes=classes,
                images=args.data is None,  # the digits' inputs are 8×8 images
                title=title,
            )
            print(f"wrote the plot to {args.plot!r}")
        except (OSError, ValueError, RuntimeError) as e:
            failed = bool(_fail(f"cannot write the plot {args.plot!r}: {e}"))
    if not history.traced:
        print("not traced, run by the interpreted engine (--no-trace)")
    acc = history.test_accuracies[-1]
    print(
        f"test accuracy {acc:.1%} ({round(acc * len(y_test))}/{len(y_test)}), test loss "
        f"{history.test_losses[-1]:.6f}, after {plural(epochs, 'epoch')} "
        f"({plural(history.updates, 'update')}) in {seconds:.1f} s"
    )
    return 1 if failed else 0
