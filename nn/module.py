"""Neurons, layers and multi-layer perceptrons built from Values.

A network is nothing but Values: its forward pass builds a graph and the
engine's generic ``backward()`` computes every parameter's gradient.

>>> from nn import MLP
>>> model = MLP(2, [4, 1], seed=1)
>>> y = model([0.5, -1.0])
>>> y.backward()
>>> len(model.parameters()), all(isinstance(p.grad, float) for p in model.parameters())
(17, True)
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from tinygrad_bp import Value, relu, sigmoid, tanh, weighted_sum
from tinygrad_bp.extend import Op
from tinygrad_bp.sums import weighted_sums

from ._util import describe as _describe
from ._util import finite_number

if TYPE_CHECKING:  # only for the annotations: importing nn never imports torch
    import torch

    from .torch_bridge import StateDict

Operand = Value | float | int

# Activations by name. "linear" applies nothing: the neuron's output is its net.
ACTIVATIONS: dict[str, Op | None] = {
    "relu": relu,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "linear": None,
}

# Weights as nested lists: weights[layer][neuron][input]. A layer's biases are
# one number (shared by all its neurons, as in the article) or one per neuron.
Weights = Sequence[Sequence[Sequence[float]]]
Biases = Sequence[float | Sequence[float]]


def _activation(name: str | None) -> Op | None:
    key = "linear" if name is None else name
    if key not in ACTIVATIONS:
        valid = ", ".join(repr(k) for k in ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; valid names are {valid}")
    return ACTIVATIONS[key]


class Module:
    """Anything with parameters: ``parameters()`` and ``zero_grad()``."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """out = activation(Σ wᵢ·xᵢ + b), with net as one fused node.

    Weights start uniform in [-1, 1] from ``rng`` (a ``random.Random``; a
    fixed seed by default, so runs repeat), the bias at 0. ``bias`` may pass
    in a Value shared with other neurons.

    >>> n = Neuron(2, "sigmoid", name="h1")
    >>> out = n([0.05, 0.10])
    >>> out.label, out.parents[0].label
    ('out_h1', 'net_h1')
    """

    def __init__(
        self,
        nin: int,
        activation: str | None = "relu",
        *,
        rng: random.Random | None = None,
        bias: Value | None = None,
        name: str = "n",
    ) -> None:
        if not isinstance(nin, int) or isinstance(nin, bool) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        self.activation = "linear" if activation is None else activation
        self.activation_op = _activation(activation)  # the op itself; None for linear
        rng = rng if rng is not None else random.Random(0)
        # A tuple, the same object on every call: backward() then looks at a
        # neuron's weights once per graph, however many nets they feed.
        self.w = tuple(Value(rng.uniform(-1.0, 1.0), f"w{i + 1}") for i in range(nin))
        self.b = bias if bias is not None else Value(0.0, "b")
        self.name = name

    @property
    def name(self) -> str:
        """The neuron's name: its net is labelled ``net_<name>``, its output ``out_<name>``."""
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        self._name = name
        self.labels = ("net_" + name, "out_" + name)  # made once here, not on every call

    def __call__(self, x: Sequence[Operand]) -> Value:
        return self.activate(weighted_sum(self.w, x, self.b))

    def activate(self, net: Value) -> Value:
        """Label this neuron's ``net`` and apply its activation to it."""
        net.label, out_label = self.labels
        if self.activation_op is None:
            return net
        out = self.activation_op(net)
        out.label = out_label
        return out

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation!r}, name={self.name!r})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs.

    With ``shared_bias=True`` all neurons share ONE bias Value, as the
    article's b1 and b2 are shared by both neurons of their layer.

    >>> layer = Layer(2, 3, "tanh")
    >>> len(layer([1.0, 2.0])), len(layer.parameters())
    (3, 9)
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "relu",
        *,
        rng: random.Random | None = None,
        shared_bias: bool = False,
        name: str = "n",
    ) -> None:
        if not isinstance(nout, int) or isinstance(nout, bool) or nout < 1:
            raise ValueError(f"Layer: nout must be a positive int, got {nout!r}")
        rng = rng if rng is not None else random.Random(0)
        bias = Value(0.0, "b") if shared_bias else None
        self.shared_bias = shared_bias
        self.neurons = [
            Neuron(nin, activation, rng=rng, bias=bias, name=f"{name}{j + 1}") for j in range(nout)
        ]

    @property
    def nin(self) -> int:
        return len(self.neurons[0].w)

    def __call__(self, x: Sequence[Operand]) -> list[Value]:
        # The whole layer in one call: the shared inputs are read once, and the
        # same nodes come out as each neuron's activate(weighted_sum(...)).
        neurons = self.neurons
        return weighted_sums(
            [n.w for n in neurons],
            x,
            [n.b for n in neurons],
            neurons[0].activation_op,
            [n.labels for n in neurons],
        )

    def parameters(self) -> list[Value]:
        # dict.fromkeys keeps order and lists a shared bias once.
        return list(dict.fromkeys(p for n in self.neurons for p in n.parameters()))

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {len(self.neurons)}, {self.neurons[0].activation!r})"


class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, then a layer per entry of ``nouts``.

    Hidden layers use ``activation`` (ReLU by default), the last layer
    ``output_activation`` (None: linear), as in micrograd. Initialisation is
    deterministic from ``seed``. Parameters are labelled w1, w2, ... and
    b1, b2, ... in layer, neuron, input order (the article's numbering), and
    neurons h1, h2, ... (h1_1, h2_1, ... with several hidden layers) and
    o1, o2, ..., so the forward pass makes net_h1, out_h1, net_o1, ...

    Calling the model returns a list of outputs, or one Value when the last
    layer has one neuron.

    >>> model = MLP(2, [16, 16, 1], seed=0)
    >>> len(model.parameters())
    337
    >>> model([1.0, 0.5]).label
    'net_o1'
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | None = "relu",
        output_activation: str | None = None,
        *,
        seed: int = 0,
        shared_bias: bool | Sequence[bool] = False,
    ) -> None:
        if not isinstance(nin, int) or isinstance(nin, bool) or nin < 1:
            raise ValueError(f"MLP: nin must be a positive int, got {nin!r}")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, got {nouts!r}")
        _activation(activation)  # validate both names before building anything
        _activation(output_activation)
        shared = [shared_bias] * len(nouts) if isinstance(shared_bias, bool) else list(shared_bias)
        if len(shared) != len(nouts):
            raise ValueError(
                f"MLP: shared_bias needs one flag per layer ({len(nouts)}), got {len(shared)}"
            )
        self.activation = "linear" if activation is None else activation
        self.output_activation = "linear" if output_activation is None else output_activation
        rng = random.Random(seed)
        sizes = [nin, *nouts]
        self.layers: list[Layer] = []
        for k in range(len(nouts)):
            last = k == len(nouts) - 1
            if last:
                prefix = "o"
            elif len(nouts) == 2:
                prefix = "h"
            else:
                prefix = f"h{k + 1}_"
            self.layers.append(
                Layer(
                    sizes[k],
                    sizes[k + 1],
                    output_activation if last else activation,
                    rng=rng,
                    shared_bias=bool(shared[k]),
                    name=prefix,
                )
            )
        self._label_parameters()

    def _label_parameters(self) -> None:
        weights = [w for layer in self.layers for n in layer.neurons for w in n.w]
        for i, w in enumerate(weights):
            w.label = f"w{i + 1}"
        biases = dict.fromkeys(n.b for layer in self.layers for n in layer.neurons)
        for i, b in enumerate(biases):
            b.label = f"b{i + 1}"

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    def __call__(self, x: Sequence[Operand]) -> Value | list[Value]:
        if len(x) != self.nin:
            raise ValueError(f"MLP: expected {self.nin} inputs, got {len(x)}")
        out: Sequence[Operand] = x
        for layer in self.layers:
            out = layer(out)
        result: list[Value] = list(out)  # type: ignore[arg-type]
        return result[0] if len(result) == 1 else result

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        sizes = [len(layer.neurons) for layer in self.layers]
        return (
            f"MLP({self.nin}, {sizes}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r})"
        )

    # -- explicit weights ------------------------------------------------------
    @classmethod
    def from_weights(
        cls,
        weights: Weights,
        biases: Biases,
        activation: str | None = "relu",
        output_activation: str | None = None,
    ) -> MLP:
        """Build a network from explicit weights and biases.

        ``weights[l][j]`` lists neuron j of layer l's weights, one per input;
        ``biases[l]`` is one number (one bias shared by the layer's neurons,
        as in the article) or a list with one per neuron. A wrong shape or a
        non-number raises ValueError saying what was expected and what came.

        >>> net = MLP.from_weights(
        ...     [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
        ...     [0.35, 0.60], activation="sigmoid", output_activation="sigmoid")
        >>> [p.label for p in net.parameters()]
        ['w1', 'w2', 'b1', 'w3', 'w4', 'w5', 'w6', 'b2', 'w7', 'w8']
        >>> round(net([0.05, 0.10])[0].data, 9)
        0.75136507
        """
        if not _is_list(weights) or not weights:
            raise ValueError(
                f"weights: expected a non-empty list of layers, got {_describe(weights)}"
            )
        nouts = []
        for k, layer in enumerate(weights):
            if not _is_list(layer) or not layer:
                raise ValueError(
                    f"weights[{k}]: expected a non-empty list of neurons, got {_describe(layer)}"
                )
            nouts.append(len(layer))
        if not _is_list(weights[0][0]) or not weights[0][0]:
            got = _describe(weights[0][0])
            raise ValueError(f"weights[0][0]: expected a non-empty list of weights, got {got}")
        if not _is_list(biases) or len(biases) != len(weights):
            raise ValueError(
                f"biases: expected {len(weights)} entries (one per layer), got {_describe(biases)}"
            )
        shared = [not _is_list(b) for b in biases]
        model = cls(len(weights[0][0]), nouts, activation, output_activation, shared_bias=shared)
        model.set_weights(weights, biases)
        return model

    def get_weights(self) -> tuple[list[list[list[float]]], list[float | list[float]]]:
        """The weights and biases as nested lists, in ``from_weights``'s format."""
        weights = [[[w.data for w in n.w] for n in layer.neurons] for layer in self.layers]
        biases: list[float | list[float]] = [
            layer.neurons[0].b.data if layer.shared_bias else [n.b.data for n in layer.neurons]
            for layer in self.layers
        ]
        return weights, biases

    def set_weights(self, weights: Weights, biases: Biases) -> None:
        """Overwrite every weight and bias; all are checked before any is set.

        A wrong shape or a non-finite or non-numeric entry raises ValueError
        naming where, what was expected and what came; the model is then left
        exactly as it was.
        """
        shape = [(layer.nin, len(layer.neurons), layer.shared_bias) for layer in self.layers]
        new_w, new_b = _checked_parameters(weights, biases, shape)
        for layer, lw, lb in zip(self.layers, new_w, new_b):
            for j, (neuron, ws) in enumerate(zip(layer.neurons, lw)):
                for w, value in zip(neuron.w, ws):
                    w.data = value
                neuron.b.data = lb[0] if layer.shared_bias else lb[j]

    # -- PyTorch (nn/torch_bridge.py) ------------------------------------------
    def to_torch(self) -> torch.nn.Sequential:
        """This network as a float64 ``torch.nn.Sequential`` with the same weights.

        One ``Linear`` per layer, each followed by its activation module
        (``ReLU``, ``Tanh``, ``Sigmoid``; none for a linear layer). A layer
        whose neurons share one bias (the article's b1, b2) becomes a
        ``SharedBiasLinear``, a ``Linear`` with one bias parameter: see
        ``nn.torch_bridge``. Needs PyTorch (``pip install ".[torch]"``).
        """
        from .torch_bridge import to_torch

        return to_torch(self)

    @classmethod
    def from_torch(cls, module: torch.nn.Module) -> MLP:
        """An MLP with the architecture and weights of a Sequential like ``to_torch()``'s.

        Anything else (another layer, two activations in a row, hidden
        layers with different activations) is refused with one line naming
        the layer.
        """
        from .torch_bridge import from_torch

        return from_torch(module, cls)

    def state_dict(self) -> StateDict:
        """The weights under PyTorch's key names ("0.weight", "0.bias", ...) as nested lists.

        The keys are ``to_torch()``'s: a Linear's index in the Sequential.
        "k.weight" has one row per neuron, one entry per input; "k.bias" one
        entry per neuron, or one for a shared bias. Needs no PyTorch.

        >>> MLP.from_weights([[[0.5, -1.0]]], [[0.25]]).state_dict()
        {'0.weight': [[0.5, -1.0]], '0.bias': [0.25]}
        """
        from .torch_bridge import state_dict

        return state_dict(self)

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Overwrite every weight from a ``state_dict()``-shaped dict; nothing is half-applied.

        Values are nested lists of numbers, or anything with a ``tolist()``
        (a torch tensor), so ``model.load_state_dict(module.state_dict())``
        works. A missing or unexpected key, a wrong shape or a non-finite
        number raises one line naming the key; the model is then unchanged.

        >>> model = MLP(2, [1])
        >>> model.load_state_dict({"0.weight": [[0.5, -1.0]], "0.bias": [0.25]})
        >>> model([1.0, 1.0]).data
        -0.25
        """
        from .torch_bridge import load_state_dict

        load_state_dict(self, state)


def _is_list(x: object) -> bool:
    return isinstance(x, (list, tuple))


def _checked_parameters(
    weights: object, biases: object, shape: list[tuple[int, int, bool]]
) -> tuple[list[list[list[float]]], list[list[float]]]:
    """Validate weights/biases against ``shape`` [(nin, nout, shared), ...]; return floats."""
    if not _is_list(weights) or len(weights) != len(shape):  # type: ignore[arg-type]
        raise ValueError(f"weights: expected {len(shape)} layers, got {_describe(weights)}")
    if not _is_list(biases) or len(biases) != len(shape):  # type: ignore[arg-type]
        raise ValueError(
            f"biases: expected {len(shape)} entries (one per layer), got {_describe(biases)}"
        )
    out_w: list[list[list[float]]] = []
    out_b: list[list[float]] = []
    for k, ((nin, nout, shared), layer, bias) in enumerate(zip(shape, weights, biases)):  # type: ignore[call-overload]
        if not _is_list(layer) or len(layer) != nout:
            raise ValueError(f"weights[{k}]: expected {nout} neurons, got {_describe(layer)}")
        rows = []
        for j, ws in enumerate(layer):
            if not _is_list(ws) or len(ws) != nin:
                per = "input" if k == 0 else f"neuron of layer {k - 1}"
                raise ValueError(
                    f"weights[{k}][{j}]: expected {nin} weights (one per {per}), "
                    f"got {_describe(ws)}"
                )
            rows.append([finite_number(w, f"weights[{k}][{j}][{i}]") for i, w in enumerate(ws)])
        out_w.append(rows)
        if shared:
            if _is_list(bias):
                raise ValueError(
                    f"biases[{k}]: this layer's neurons share one bias; expected a number, "
                    f"got {_describe(bias)}"
                )
            out_b.append([finite_number(bias, f"biases[{k}]")])
        else:
            if not _is_list(bias) or len(bias) != nout:
                raise ValueError(
                    f"biases[{k}]: expected a list of {nout} biases (one per neuron), "
                    f"got {_describe(bias)}"
                )
            out_b.append([finite_number(b, f"biases[{k}][{j}]") for j, b in enumerate(bias)])
    return out_w, out_b
