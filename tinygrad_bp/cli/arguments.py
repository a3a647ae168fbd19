"""Reading the command line: a formula that starts with a minus is the formula.

``main.py`` builds the parser; ``parse`` runs it, first finding a formula
such as ``"-x*y"`` that argparse would take for an option.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..show.rendering import FORMATS
from .graphs import HTML_SUFFIXES

# The commands whose first argument may be a formula.
GRAPH_COMMANDS = ("draw", "viz", "explain")


def _formula_at(parser: argparse.ArgumentParser, argv: list[str]) -> int | None:
    """Where in ``argv`` a formula starting with a minus ("-x*y") stands, if one does.

    argparse takes any argument starting with "-" for an option, so ``draw
    "-x*y" ...`` would fail with "unrecognized arguments". The graph is the
    first argument of draw, viz or explain that is neither an option nor an
    option's value; one that starts with a single "-" and is none of the
    command's options is the formula. (One starting with "--" is left to
    argparse, a misspelt option more likely than a double negation; "--"
    still ends the options, as ever.)
    """
    if not argv or argv[0] not in GRAPH_COMMANDS:
        return None
    sub = next(
        a.choices[argv[0]] for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    )
    takes_value = {
        option: action.nargs != 0 for action in sub._actions for option in action.option_strings
    }
    k = 1
    while k < len(argv):
        arg = argv[k]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            return None  # the graph comes before any formula starting with a minus
        if arg.startswith("--"):
            name = arg.split("=", 1)[0]
            known = [o for o in takes_value if o.startswith(name)]  # argparse's abbreviations
            k += 2 if "=" not in arg and len(known) == 1 and takes_value[known[0]] else 1
        elif arg in takes_value:
            k += 2 if takes_value[arg] else 1
        elif arg[:2] in takes_value and takes_value[arg[:2]] and _is_path(arg[2:]):
            k += 1  # -ograph.svg: the option with its value attached
        else:
            return k
    return None


def _is_path(text: str) -> bool:
    """Whether ``text`` names a file draw or viz writes (by its extension)."""
    return Path(text).suffix.lower() in (*FORMATS, *HTML_SUFFIXES)


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``argv`` parsed by ``parser``, a formula starting with a minus taken as the formula.

    >>> from tinygrad_bp.cli.command import build_parser
    >>> parse(build_parser(), ["explain", "--wrt", "x", "-x*y", "x=1", "y=2"]).graph
    '-x*y'
    """
    args = list(sys.argv[1:] if argv is None else argv)
    at = _formula_at(parser, args)
    if at is None:
        return parser.parse_args(args)
    formula = args[at]
    # A leading space keeps argparse from reading it as an option; the formula is put back.
    args[at] = " " + formula
    parsed = parser.parse_args(args)
    if parsed.graph == args[at]:
        parsed.graph = formula
    return parsed
