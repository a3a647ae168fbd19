"""The commands that show a graph: ``mazur``, ``draw``, ``viz`` and ``explain``.

The graph is the article's network (``mazur``), a formula with its values,
or a function in the user's own file (``path.py:function``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from ..checks import special_target
from ..forward_mode import count_sweeps
from ..graph import topological_order
from ..show.dot import Drawing, slow_layout
from ..show.drawing import LARGEST_MAX_NODES, TooManyNodesError, draw
from ..show.explanation import Explainer
from ..show.formatting import number, quoted
from ..show.rendering import FORMATS, render
from ..value import Value
from .common import INTERRUPTED, RefusedError, escaped, nn_module


def _mazur_labels() -> list[str]:
    """The labels of the article's network and error, in the article's order."""
    mazur = nn_module("mazur")
    step = mazur.forward(mazur.network())
    return [n.label for n in topological_order(step.E_total) if n.label]


def explain_target(text: str) -> str:
    """An --explain argument: a label of the article's network, or "all"."""
    labels = _mazur_labels()
    if text == "all" or text in labels:
        return text
    ordered = sorted(labels, key=lambda s: (s[0] != "w", s[0] != "b", len(s), s))
    raise argparse.ArgumentTypeError(
        f"unknown label {text!r}; expected all or one of: {', '.join(ordered)}"
    )


def run_mazur(args: argparse.Namespace) -> int:
    mazur, train = nn_module("mazur"), nn_module("train")
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


def output_path(text: str) -> Path:
    """A -o argument: a path whose extension names a format we can write."""
    path = Path(text)
    if path.suffix.lower() not in FORMATS:
        shown = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise argparse.ArgumentTypeError(
            f"cannot tell the format of {text!r} ({shown}); use one of {', '.join(FORMATS)}"
        )
    return path


def _refuse_special_output(path: Path) -> None:
    """Refuse, before any work, an output that exists and is not a regular file (links
    followed): writing would wait forever on a FIFO or pour the file into a device."""
    kind = special_target(path)
    if kind is not None:
        raise RefusedError(
            f"cannot write {escaped(str(path))}: {kind}, not a regular file; expected a "
            "regular file to replace or a new name"
        )


def run_draw(args: argparse.Namespace) -> int:
    _refuse_special_output(args.output)
    try:
        graph = _graph_source(args)
    except _UserCodeError as e:
        return _user_code_failed(args, e)
    highlight = _node_labelled(graph, args.highlight, "--highlight") if args.highlight else None
    try:
        drawing = draw(
            graph.root,
            direction=args.direction,
            precision=args.precision,
            edge_labels=args.edge_labels,
            highlight=highlight,
            parameters=graph.parameters,
            collapse_neurons=args.collapse_neurons,
            max_nodes=args.max_nodes,
        )
    except TooManyNodesError as error:
        raise RefusedError(_too_many_nodes(error, "draw")) from None
    if FORMATS[args.output.suffix.lower()] != "dot":  # DOT source is written, not laid out
        _say_if_slow(drawing, "draw")
    try:
        render(drawing, args.output)
    except OSError as error:
        print(
            f"tinygrad-bp draw: cannot write {escaped(str(args.output))}: {error}",
            file=sys.stderr,
        )
        return 1
    print(
        f"Wrote {escaped(str(args.output))}: {graph.what} after one backward pass "
        f"({len(set(drawing.node_ids.values()))} nodes)"
    )
    return 0


def _say_if_slow(drawing: Drawing, command: str) -> None:
    """Say on stderr, before it starts, that a layout will take a while."""
    if slow_layout(drawing):
        print(
            f"tinygrad-bp {command}: laying out {len(set(drawing.node_ids.values())):,} nodes "
            f"whose edges cross many ranks ({drawing.layout_size:,} pieces to place); "
            "this may take from several seconds to minutes",
            file=sys.stderr,
            flush=True,
        )


def _too_many_nodes(error: TooManyNodesError, verb: str) -> str:
    """The refusal of a graph over --max-nodes, with the flags that would take it."""
    said = f"the graph has {error.count:,} nodes, more than --max-nodes {error.max_nodes:,}"
    ways = []
    if error.count <= LARGEST_MAX_NODES:
        ways.append(f"--max-nodes {error.count}")
    if error.collapsed is not None and error.collapsed <= LARGEST_MAX_NODES:
        more = f" --max-nodes {error.collapsed}" if error.collapsed > error.max_nodes else ""
        ways.append(f"--collapse-neurons{more} ({error.collapsed:,} nodes)")
    if not ways:
        return (
            f"{said}, and {LARGEST_MAX_NODES:,} is the most that lays out in seconds; "
            f"expected a smaller graph to {verb}"
        )
    return f"{said}; to {verb} it, give " + " or ".join(ways)


HTML_SUFFIXES = (".html", ".htm")


def html_path(text: str) -> Path:
    """A viz -o argument: the page is HTML, so the name should say so."""
    path = Path(text)
    if path.suffix.lower() not in HTML_SUFFIXES:
        shown = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise argparse.ArgumentTypeError(
            f"{text!r} has {shown}; the page is HTML: use a name ending in .html or .htm"
        )
    return path


def run_viz(args: argparse.Namespace) -> int:
    from ..show.learning import DEFAULT_LR, DEFAULT_UPDATES, FirstUpdateError, Learning
    from ..show.stepper import Stepper

    _refuse_special_output(args.output)
    if args.wrt is not None and not args.forward:
        raise RefusedError(
            "--wrt is for --forward: it names the input forward mode sweeps from; "
            "give --forward too"
        )
    try:
        graph = _graph_source(args)
    except _UserCodeError as e:
        return _user_code_failed(args, e)
    wrt = _forward_input(graph, args.wrt) if args.forward else None
    # The update steps and the learning view, for a graph with parameters to train.
    learning = None
    if graph.trained:
        lr = DEFAULT_LR if args.lr is None else args.lr
        updates = DEFAULT_UPDATES if args.updates is None else args.updates
        made = [(k, p) for k, p in enumerate(graph.trained) if p.parents]
        if made:
            k, p = made[0]
            name = f"{quoted(p.label)}, " if p.label else ""
            raise RefusedError(
                f"{escaped(args.graph)} returned parameters[{k}] ({name}made by "
                f"{escaped(p.op or 'an op')}): the update steps change parameters in place, "
                "so expected leaves (Values made with Value(...), not computed by an op)"
            )
        try:
            learning = Learning(graph.trained, lr=lr, updates=updates)
        except ValueError as error:  # the page's own checks, said in one line
            raise RefusedError(escaped(str(error))) from None
    elif args.lr is not None or args.updates is not None:
        option = "--lr" if args.lr is not None else "--updates"
        raise RefusedError(
            f"{option} is for the update steps, which need parameters to train: name them "
            "with --parameters (a formula) or return (root, parameters) (a function)"
        )
    try:
        # The page lays its drawing out; a slow layout is said before it starts.
        _say_if_slow(
            draw(
                graph.root,
                collapse_neurons=args.collapse_neurons,
                max_nodes=args.max_nodes,
                edge_labels=True,
            ),
            "viz",
        )
        page = Stepper(
            graph.root,
            parameters=graph.parameters,
            collapse_neurons=args.collapse_neurons,
            direction=args.direction,
            precision=args.precision,
            title=graph.title,
            learning=learning,
            max_nodes=args.max_nodes,
            forward_mode=wrt,
            # What explain --wrt all explains; where nothing is labelled, every leaf.
            forward_mode_inputs=(graph.everything or None) if wrt is not None else None,
        )
    except TooManyNodesError as error:
        raise RefusedError(_too_many_nodes(error, "play")) from None
    except FirstUpdateError as error:  # later failures stop the run and are said on the page
        given = "" if args.lr is not None else " (the default)"
        raise RefusedError(
            f"the run stopped after 0 updates: the first update, with --lr "
            f"{error.lr!r}{given}, leads to {escaped(error.reason)}; "
            "a smaller --lr may help"
        ) from None
    except ValueError as error:  # a root whose backward() was run twice, a graph too large
        raise RefusedError(str(error)) from None
    try:
        page.save(args.output)
    except OSError as error:
        print(
            f"tinygrad-bp viz: cannot write {escaped(str(args.output))}: {error}",
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
    swept = ""
    if page.forward_mode is not None:
        name = page.names[page.forward_mode.wrt]  # a label made printable, as explain's
        steps = kinds.count("seed") + kinds.count("tangent")
        swept = f", {steps} forward-mode steps (tangents with respect to {name})"
    print(
        f"Wrote {escaped(str(args.output))}: {graph.what} in {kinds.count('forward')} "
        f"forward{swept} and {kinds.count('backward')} backward steps{after}; open it in a "
        "browser (Right/Left step, Space plays)"
    )
    if page.sweeps is not None:
        print(page.sweeps)
    if page.learning is not None and page.learning.run is not None and page.learning.run.stopped:
        print(page.learning.run.stopped)
    return 0


def _forward_input(graph: _Graph, label: str | None) -> Value:
    """The node viz --forward sweeps tangents from: --wrt's, or the first parameter or
    labelled leaf (the first leaf where none is labelled)."""
    if label is not None:
        return _node_labelled(graph, label, "--wrt")
    if graph.everything:
        return graph.everything[0]
    leaves = [v for v in topological_order(graph.root) if not v.parents]
    return leaves[0]  # a graph has a leaf: the first node in topological order is one


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
        mazur = nn_module("mazur")
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
            raise RefusedError(str(e)) from None
        except userfile.UserCodeError as e:
            raise _UserCodeError(text, e.traceback) from None
        root = loaded.root
        everything = loaded.parameters or [
            v for v in topological_order(root) if v.label and not v.parents and v is not root
        ]
        # explain's first line: escaped as the lines below it are
        name = escaped(root.label) if root.label else "the root"
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
    from .formula import FormulaError, build, identifier, parse_values

    try:
        formula = build(text, parse_values(given))
    except FormulaError as e:
        raise RefusedError(escaped(str(e))) from None
    root = formula.root
    root.backward()
    parameters = None
    if names is not None:
        wanted = [identifier(n.strip()) for n in names.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in formula.leaves]
        if unknown or not wanted:
            raise RefusedError(
                f"--parameters {escaped(names)}: "
                + (f"{', '.join(map(escaped, unknown))} not" if unknown else "no name")
                + f" among the formula's names ({', '.join(formula.leaves)}); "
                "expected a comma-separated list of them, as w1,w2,b"
            )
        parameters = [formula.leaves[n] for n in wanted]
    shown = " ".join(formula.expression.split())
    return _Graph(
        root,
        parameters,
        f"{root.label} = {escaped(shown)}",
        f"{root.label} = {shown}, node by node",
        parameters or list(formula.leaves.values()),
        f"{root.label} = {escaped(shown)}",
        parameters,
    )


def _refuse_extras(given: list[str], names: str | None, what: str) -> None:
    if given:
        raise RefusedError(
            f"{escaped(given[0])}: values are for a formula; {escaped(what)} takes none"
        )
    if names is not None:
        raise RefusedError(
            f"--parameters is for a formula; {escaped(what)} says which its parameters are"
        )


def _node_labelled(graph: _Graph, label: str, option: str) -> Value:
    """The one node of the graph labelled ``label``, or a refusal listing the labels."""
    nodes = [v for v in topological_order(graph.root) if v.label == label]
    if len(nodes) == 1:
        return nodes[0]
    labels = list(dict.fromkeys(v.label for v in topological_order(graph.root) if v.label))
    if nodes:
        raise RefusedError(
            f"{option} {label!r}: {len(nodes)} nodes have that label; "
            "give the nodes different labels"
        )
    raise RefusedError(
        f"{option}: unknown label {label!r}; expected one of: " + ", ".join(map(escaped, labels))
    )


def _user_code_failed(args: argparse.Namespace, error: _UserCodeError) -> int:
    print(
        f"tinygrad-bp {args.command}: {escaped(error.reference)} raised an error:\n"
        f"{error.traceback.rstrip()}",
        file=sys.stderr,
    )
    return 1


def run_explain(args: argparse.Namespace) -> int:
    try:
        graph = _graph_source(args)
    except _UserCodeError as e:
        return _user_code_failed(args, e)
    explainer = Explainer(graph.root)
    if args.wrt == "all":
        targets = graph.everything
        if not targets:
            raise RefusedError("the graph has no labelled leaf to explain; name one with --wrt")
    else:
        targets = [_node_labelled(graph, args.wrt, "--wrt")]
    print(f"{graph.heading} = {number(graph.root.data, args.precision, trim=True)}")
    for node in targets:
        print()
        if args.forward:
            print(explainer.forward(node).text(args.precision))
        else:
            print(explainer.derivation(node).text(args.precision))
    if args.forward and len(targets) > 1:
        # What the sweeps above cost, against reverse mode's one: counted, not typed.
        print()
        print(count_sweeps(graph.root, targets))
    return 0
