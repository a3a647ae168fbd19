"""What the command's parts share: exit statuses, argument types, one-line refusals.

>>> int_at_least(1)("3")
3
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..show.formatting import printable

INTERRUPTED = 130  # Ctrl-C (SIGINT)
BROKEN_PIPE = 141  # the reader went away (SIGPIPE): e.g. | head -1
# nn.data.DATASETS' names, for parsing the command line without importing nn (a test
# holds the two to each other): the datasets of points in the plane.
PLANE_DATASETS = ("moons", "xor", "spirals", "circles", "gauss")


class RefusedError(Exception):
    """Something that stops the command before it starts; the message is the whole story."""


def escaped(text: str) -> str:
    """``text`` whole (a path is never cut short), with escapes and newlines shown escaped."""
    return printable(text, limit=sys.maxsize)


# -- the nn package --------------------------------------------------------------------
def nn_module(name: str) -> Any:
    """``nn.<name>``, after making sure that ``nn`` is this project's own.

    ``nn`` is a top-level package beside ``tinygrad_bp`` (by design), so a
    student's ``nn.py`` or ``nn/`` in the current folder, which Python
    searches first, hides it. Say so, and where, instead of an ImportError
    about a name the other ``nn`` lacks. The other file is located, never run.
    """
    ours = Path(__file__).resolve().parents[2] / "nn"  # beside the tinygrad_bp package
    spec = importlib.util.find_spec("nn")
    if spec is None:
        raise RefusedError(
            f"the nn package that comes with tinygrad-bp is missing (expected {ours})"
        )
    found = spec.origin if spec.has_location and spec.origin else None
    if found is None or Path(found).resolve().parent != ours.resolve():
        where = found or ", ".join(spec.submodule_search_locations or []) or "built in"
        raise RefusedError(
            f"another module named nn ({escaped(where)}) hides the nn package that comes "
            f"with tinygrad-bp ({escaped(str(ours))}): its folder comes first on Python's "
            "search path (python -m puts the current folder there); rename it or run from "
            "another folder"
        )
    return importlib.import_module(f"nn.{name}")


def layer_sizes(text: str) -> list[int]:
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


def feature_names(text: str) -> tuple[str, ...]:
    """A --features argument: the inputs computed from each point, checked by nn."""
    try:
        names: tuple[str, ...] = nn_module("data").parse_features(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return names


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        n = int_at_least(low)(text)
        if n > high:
            raise argparse.ArgumentTypeError(f"expected at most {high:,}, got {n:,}")
        return n

    return parse


def int_at_least(minimum: int | None) -> Callable[[str], int]:
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


positive_int = int_at_least(1)
whole_number = int_at_least(0)


def updates_arg(text: str) -> int:
    """viz --updates: 0 up to the longest run the learning view takes."""
    from ..show.learning import MAX_UPDATES

    n = whole_number(text)
    if n > MAX_UPDATES:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_UPDATES:,} updates, got {n:,}")
    return n


seed_arg = int_at_least(None)


def max_nodes_arg(text: str) -> int:
    """draw/viz --max-nodes: 1 up to the largest graph whose layout stays quick."""
    from ..show.drawing import LARGEST_MAX_NODES

    n = positive_int(text)
    if n > LARGEST_MAX_NODES:
        raise argparse.ArgumentTypeError(
            f"expected at most {LARGEST_MAX_NODES:,} nodes (larger layouts take minutes), got {n:,}"
        )
    return n
