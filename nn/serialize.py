"""Saving and loading an MLP's parameters as JSON: never pickle, never half-done.

The file holds a format tag and version, the architecture (inputs, layer
sizes, activations, which layers share one bias) and every weight and bias
as a JSON number. Python writes a float as its shortest repr, which reads
back as the very same float, so a round trip is exact.

Loading parses the text with ``json`` (data only: nothing in the file is
executed), checks everything (format, version, architecture, every number
finite) and only then touches a model, so a refused file leaves it as it
was. Saving writes a temporary file beside the target, flushes it to disk
and renames it over the target in one step, so an interrupted save leaves
the previous file whole.

>>> import os, tempfile
>>> from nn import MLP
>>> from nn.serialize import save, load
>>> model = MLP(2, [4, 1], seed=3)
>>> path = os.path.join(tempfile.mkdtemp(), "model.json")
>>> save(model, path)
>>> load(path).get_weights() == model.get_weights()
True
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from tinygrad_bp.checks import not_a_regular_file

from ._util import PathLike, atomic_write, short_repr
from .module import ACTIVATIONS, MLP

FORMAT = "tinygrad-bp.mlp"
VERSION = 1

# What a model file may hold. Loading costs about 3 µs a parameter (most of it
# making the Values), so 150,000 parameters load in about half a second: enough
# for a 784-128-10 network, far past anything this engine trains in reasonable
# time (the moons demo's 2-16-16-1 has 337). A file of that many parameters is
# about 4 MB; anything past MAX_BYTES is not a model file and is not parsed.
MAX_PARAMETERS = 150_000
MAX_BYTES = 16 * 1024 * 1024

_KEYS = {"format", "version", "architecture", "weights", "biases"}
_ARCH_KEYS = {"nin", "nouts", "activation", "output_activation", "shared_bias"}


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not JSON, not ours, or not this model's.

    ``path`` is the file, ``reason`` what is wrong with it.
    """

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path!r}: {reason}")


class _RefusedError(ValueError):
    """Raised inside the checks; load and load_into add the path."""


def architecture(model: MLP) -> dict[str, Any]:
    """What must match for a file's parameters to fit ``model``.

    >>> architecture(MLP(2, [3, 1]))["nouts"]
    [3, 1]
    """
    return {
        "nin": model.nin,
        "nouts": [len(layer.neurons) for layer in model.layers],
        "activation": model.activation,
        "output_activation": model.output_activation,
        "shared_bias": [layer.shared_bias for layer in model.layers],
    }


def to_dict(model: MLP) -> dict[str, Any]:
    """The model as the JSON document ``save`` writes."""
    weights, biases = model.get_weights()
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture(model),
        "weights": weights,
        "biases": biases,
    }


def save(model: MLP, path: PathLike) -> None:
    """Write ``model`` to ``path`` as JSON, atomically.

    The document goes to a temporary file in the same directory, is flushed
    and fsynced, then renamed over ``path`` (``os.replace``, atomic on POSIX
    and Windows). If anything fails or is interrupted on the way, the
    temporary file is removed and a previous ``path`` is left untouched.
    Saving through a symbolic link writes the file it points at (the link
    stays), and a file saved over keeps its permissions. A model with a
    non-finite parameter (a diverged run) is refused before any file is made.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"save: expected an MLP, got {type(model).__name__}")
    params = model.parameters()
    if len(params) > MAX_PARAMETERS:
        # A file that load() would refuse is better never written.
        raise ValueError(
            f"save: the model has {len(params):,} parameters; a model file holds at most "
            f"{MAX_PARAMETERS:,} (so that loading one stays well under a second)"
        )
    for p in params:
        if not math.isfinite(p.data):
            raise ValueError(
                f"save: parameter {p.label!r} is {p.data!r}; only finite numbers can be saved"
            )
    document = to_dict(model)
    with atomic_write(path, encoding="utf-8") as f:
        json.dump(document, f, indent=1, allow_nan=False)
        f.write("\n")


def load(path: PathLike) -> MLP:
    """A new MLP with the architecture and parameters stored in ``path``.

    Raises ModelFileError (a ValueError) naming the file and what is wrong
    with it, OSError if it cannot be read.
    """
    try:
        arch, weights, biases = _read(path)
        _check_outline(arch, weights, biases)  # the model built below is the file's size
        model = MLP(
            arch["nin"],
            arch["nouts"],
            arch["activation"],
            arch["output_activation"],
            shared_bias=arch["shared_bias"],
        )
        _set(model, weights, biases)
    except _RefusedError as e:
        raise ModelFileError(path, str(e)) from None
    return model


def load_into(model: MLP, path: PathLike) -> None:
    """Overwrite ``model``'s parameters with those stored in ``path``.

    The file must hold this model's architecture. Every check is made before
    any parameter changes: on an error ``model`` is exactly as it was.
    Raises ModelFileError (a ValueError) naming the file and what is wrong
    with it, OSError if it cannot be read.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"load_into: expected an MLP, got {type(model).__name__}")
    try:
        arch, weights, biases = _read(path)
        mine = architecture(model)
        if arch != mine:
            raise _RefusedError(
                f"the file holds {_describe(arch)}, but the model is {_describe(mine)}"
            )
        _check_outline(arch, weights, biases)
        _set(model, weights, biases)
    except _RefusedError as e:
        raise ModelFileError(path, str(e)) from None


def _describe(arch: dict[str, Any]) -> str:
    shared = arch["shared_bias"]
    text = (
        f"MLP({arch['nin']}, {arch['nouts']}, activation={arch['activation']!r}, "
        f"output_activation={arch['output_activation']!r}"
    )
    return text + (f", shared_bias={shared})" if any(shared) else ")")


def _check_outline(arch: dict[str, Any], weights: Any, biases: Any) -> None:
    """The outline of weights and biases against the stated architecture, and its size.

    This bounds the network ``load`` builds by the data actually in the file
    (a stated layer of a billion neurons must come with a billion rows) and
    by MAX_PARAMETERS; ``set_weights`` then checks every entry.
    """
    nouts = arch["nouts"]
    sizes = [arch["nin"], *nouts]
    if not isinstance(weights, list) or len(weights) != len(nouts):
        raise _RefusedError(f"weights: expected {len(nouts)} layers, got {short_repr(weights)}")
    if not isinstance(biases, list) or len(biases) != len(nouts):
        raise _RefusedError(f"biases: expected {len(nouts)} entries, got {short_repr(biases)}")
    for k, layer in enumerate(weights):
        nout, nin = sizes[k + 1], sizes[k]
        if not isinstance(layer, list) or len(layer) != nout:
            raise _RefusedError(f"weights[{k}]: expected {nout} neurons, got {short_repr(layer)}")
        if not isinstance(layer[0], list) or len(layer[0]) != nin:
            raise _RefusedError(
                f"weights[{k}][0]: expected {nin} weights, got {short_repr(layer[0])}"
            )
    count = sum(
        nin * nout + (1 if shared else nout)
        for nin, nout, shared in zip(sizes, nouts, arch["shared_bias"])
    )
    if count > MAX_PARAMETERS:
        raise _RefusedError(
            f"the architecture declares {count:,} parameters; a model file may hold at most "
            f"{MAX_PARAMETERS:,}"
        )


def _set(model: MLP, weights: Any, biases: Any) -> None:
    try:
        model.set_weights(weights, biases)  # checks everything before it sets anything
    except ValueError as e:
        raise _RefusedError(str(e)) from None


def _read(path: PathLike) -> tuple[dict[str, Any], Any, Any]:
    """Parse and check a model file: (architecture, weights, biases)."""
    raw = _read_regular_file(path, MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise _RefusedError(f"larger than {MAX_BYTES} bytes; not a model file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _RefusedError("not a text (UTF-8) file") from None
    try:
        doc = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise _RefusedError(
            f"not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); "
            "the file may be truncated"
        ) from None
    except _RefusedError:  # from the hooks: NaN/Infinity, a repeated key
        raise
    except RecursionError:
        raise _RefusedError("nested too deeply to be a model file") from None
    except ValueError as e:  # e.g. an integer literal of thousands of digits
        raise _RefusedError(f"not a model file ({e})") from None
    if not isinstance(doc, dict):
        raise _RefusedError(f"expected a JSON object, got {type(doc).__name__}")
    if doc.get("format") != FORMAT:
        raise _RefusedError(f"expected format {FORMAT!r}, got {short_repr(doc.get('format'))}")
    version = doc.get("version")
    if type(version) is not int or version != VERSION:
        raise _RefusedError(
            f"expected version {VERSION}, got {short_repr(version)}"
            + (
                " (written by a newer tinygrad-bp?)"
                if type(version) is int and version > VERSION
                else ""
            )
        )
    _exact_keys(doc, _KEYS, "the document")
    arch = doc["architecture"]
    if not isinstance(arch, dict):
        raise _RefusedError(f"architecture must be an object, got {short_repr(arch)}")
    _exact_keys(arch, _ARCH_KEYS, "architecture")
    _check_architecture(arch)
    return arch, doc["weights"], doc["biases"]


def _read_regular_file(path: PathLike, limit: int) -> bytes:
    """At most ``limit`` bytes of ``path``, which must be a regular file.

    A FIFO would block the read until some other program writes to it, and a
    device such as /dev/zero never ends: such a path is refused. It is opened
    without blocking and then looked at (not looked at and then opened, which
    another program could change in between).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        kind = not_a_regular_file(os.fstat(fd).st_mode)
        if kind is not None:
            raise _RefusedError(f"{kind}, not a regular file; a model file is a file")
        with os.fdopen(fd, "rb") as f:
            fd = -1  # the file object closes it
            return f.read(limit)
    finally:
        if fd >= 0:
            os.close(fd)


def _check_architecture(arch: dict[str, Any]) -> None:
    nin, nouts, shared = arch["nin"], arch["nouts"], arch["shared_bias"]
    if type(nin) is not int or nin < 1:
        raise _RefusedError(
            f"architecture.nin must be a positive whole number, got {short_repr(nin)}"
        )
    if not isinstance(nouts, list) or not nouts or any(type(n) is not int or n < 1 for n in nouts):
        raise _RefusedError(
            f"architecture.nouts must be a non-empty list of positive whole numbers, "
            f"got {short_repr(nouts)}"
        )
    for key in ("activation", "output_activation"):
        if not isinstance(arch[key], str) or arch[key] not in ACTIVATIONS:
            valid = ", ".join(repr(k) for k in ACTIVATIONS)
            raise _RefusedError(
                f"architecture.{key} must be one of {valid}, got {short_repr(arch[key])}"
            )
    if (
        not isinstance(shared, list)
        or len(shared) != len(nouts)
        or any(type(s) is not bool for s in shared)
    ):
        raise _RefusedError(
            f"architecture.shared_bias must be a list of {len(nouts)} true/false "
            f"flags (one per layer), got {short_repr(shared)}"
        )


def _exact_keys(obj: dict[str, Any], keys: set[str], what: str) -> None:
    missing = sorted(keys - obj.keys())
    extra = sorted(obj.keys() - keys)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(short_repr(k) for k in extra)}")
        raise _RefusedError(f"{what}: {'; '.join(parts)}")


def _refuse_constant(name: str) -> float:
    raise _RefusedError(f"{name} is not a number a model file may hold (only finite numbers)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _RefusedError(f"the key {key!r} appears twice in one object")
        obj[key] = value
    return obj
