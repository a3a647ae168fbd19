"""A playground run's settings: every one checked and bounded, kept in a URL's hash.

``Settings`` holds what TensorFlow Playground lets a learner change (the
data, the network, the training) as plain values. ``Settings.changed``
makes a new one from a mapping of names to values (what a page sends),
checking each and refusing the whole change if one is wrong, so nothing is
half applied. ``to_hash``/``from_hash`` write them as a URL's fragment,
``dataset=moons&noise=0.1&...``, so a link rebuilds the same run.

>>> s = Settings().changed({"layers": "4,2", "lr": "0.1"})
>>> s.layers, s.lr
((4, 2), 0.1)
>>> Settings.from_hash(s.to_hash()) == s
True
>>> Settings().changed({"layers": "40"})
Traceback (most recent call last):
...
nn.playground.settings.SettingsError: layers: at most 32 neurons a layer, got 40
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..data import DATASETS, DEFAULT_FEATURES, FEATURES, parse_features

MAX_LAYERS = 8
MAX_NEURONS = 32
MAX_POINTS = 5_000
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
DATASET_NAMES = tuple(DATASETS)


class SettingsError(ValueError):
    """A setting out of its range or of the wrong kind: the message names it and what it takes."""


def _digits(text: str) -> bool:
    """Only 0 to 9 (str.isdigit alone takes "²", which int() refuses, and other scripts' digits)."""
    return text.isascii() and text.isdigit()


def _number(
    name: str, low: float, high: float, *, low_open: bool = False
) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{name}: expected a number, got {str(value)[:40]!r}") from None
        if (
            isinstance(value, bool)
            or not math.isfinite(x)
            or x > high
            or x < low
            or (low_open and x == low)
        ):
            side = f"above {low:g}" if low_open else f"at least {low:g}"
            raise SettingsError(f"{name}: expected a number {side} and at most {high:g}, got {x:g}")
        return x

    return parse


def _whole(name: str, low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        text = str(value).strip()
        digits = text[1:] if text.startswith("-") else text
        if isinstance(value, bool) or not _digits(digits) or len(text) > 12:
            raise SettingsError(f"{name}: expected a whole number, got {text[:40]!r}")
        n = int(text)
        if not low <= n <= high:
            raise SettingsError(f"{name}: expected {low:,} to {high:,}, got {n:,}")
        return n

    return parse


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise SettingsError(
                f"{name}: expected one of {', '.join(choices)}, got {str(value)[:40]!r}"
            )
        return str(value)

    return parse


def _layers(value: Any) -> tuple[int, ...]:
    parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
    parts = [str(p).strip() for p in parts if str(p).strip()]
    if len(parts) > MAX_LAYERS:
        raise SettingsError(f"layers: at most {MAX_LAYERS} hidden layers, got {len(parts)}")
    sizes = []
    for p in parts:
        if not _digits(p) or len(p) > 6:
            raise SettingsError(f"layers: expected neurons per layer as whole numbers, got {p!r}")
        n = int(p)
        if not 1 <= n <= MAX_NEURONS:
            raise SettingsError(f"layers: at most {MAX_NEURONS} neurons a layer, got {n}")
        sizes.append(n)
    return tuple(sizes)


def _features(value: Any) -> tuple[str, ...]:
    try:
        return parse_features(value if isinstance(value, (list, tuple)) else str(value))
    except ValueError as e:
        raise SettingsError(f"features: {e}") from None


@dataclass(frozen=True)
class Settings:
    """One playground run: the data, the network, the training (see the module docstring)."""

    dataset: str = "moons"
    noise: float = 0.1  # the points' Gaussian jitter
    points: int = 200
    train_percent: int = 50  # the share of the points trained on; the rest test
    features: tuple[str, ...] = DEFAULT_FEATURES
    layers: tuple[int, ...] = (8, 8)  # hidden layers; the output is one linear score
    activation: str = "tanh"
    lr: float = 0.03
    optimizer: str = "sgd"
    regularization: str = "none"
    reg_rate: float = 0.001
    batch_size: int = 10
    seed: int = 0

    def changed(self, values: Mapping[str, Any]) -> Settings:
        """A copy with ``values`` (names to values, as text or numbers) checked and applied.

        An unknown name or a bad value raises SettingsError and changes nothing.
        """
        if not isinstance(values, Mapping):
            raise SettingsError(
                f"expected settings as names and values, got {type(values).__name__}"
            )
        updates: dict[str, Any] = {}
        for name, value in values.items():
            parse = PARSERS.get(name)
            if parse is None:
                raise SettingsError(
                    f"unknown setting {str(name)[:40]!r}; expected one of {', '.join(PARSERS)}"
                )
            updates[name] = parse(value)
        new = dataclasses.replace(self, **updates)
        if new.batch_size > new.points:
            raise SettingsError(
                f"batch_size: at most the {new.points:,} points, got {new.batch_size:,}"
            )
        return new

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values (layers and features as lists)."""
        d = dataclasses.asdict(self)
        d["layers"], d["features"] = list(self.layers), list(self.features)
        return d

    def to_hash(self) -> str:
        """The settings as a URL fragment (without the #)."""
        d = self.to_dict()
        d["layers"] = ",".join(map(str, self.layers))
        d["features"] = ",".join(self.features)
        return urlencode({k: (repr(v) if isinstance(v, float) else v) for k, v in d.items()})

    @classmethod
    def from_hash(cls, fragment: str) -> Settings:
        """Settings from a URL fragment: the defaults, changed by what it names."""
        return cls().changed(dict(parse_qsl(fragment.lstrip("#"), keep_blank_values=True)))

    def train_test(self) -> int:
        """How many of the points are trained on (at least one; the rest are tested on)."""
        return max(1, min(self.points - 1, round(self.points * self.train_percent / 100)))


PARSERS: dict[str, Callable[[Any], Any]] = {
    "dataset": _choice("dataset", DATASET_NAMES),
    "noise": _number("noise", 0.0, 2.0),
    "points": _whole("points", 4, MAX_POINTS),
    "train_percent": _whole("train_percent", 10, 90),
    "features": _features,
    "layers": _layers,
    "activation": _choice("activation", ACTIVATIONS),
    "lr": _number("lr", 0.0, 10.0, low_open=True),
    "optimizer": _choice("optimizer", OPTIMIZERS),
    "regularization": _choice("regularization", REGULARIZATIONS),
    "reg_rate": _number("reg_rate", 0.0, 1.0),
    "batch_size": _whole("batch_size", 1, MAX_POINTS),
    "seed": _whole("seed", 0, 2**31 - 1),
}
FEATURE_LABELS = {name: label for name, (label, _) in FEATURES.items()}
