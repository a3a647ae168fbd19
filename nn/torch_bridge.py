"""The bridge to PyTorch: an MLP as a ``torch.nn.Sequential``, and weights as a state dict.

``MLP.to_torch()`` gives a ``torch.nn.Sequential`` in float64 with the same
weights: one ``Linear`` per layer, each followed by its activation module
(``ReLU``, ``Tanh``, ``Sigmoid``; nothing after a linear layer).
``MLP.from_torch(module)`` builds our MLP from such a Sequential and refuses
anything else with one line naming the layer it cannot take.

``MLP.state_dict()`` gives the weights under PyTorch's key names ("0.weight",
"0.bias", "2.weight", ...: the Sequential's indices) as nested lists of
floats, so the two libraries exchange weights through ``torch.tensor`` with no
file format of ours; ``MLP.load_state_dict`` takes them back (lists, or
anything with a ``tolist()`` method such as a tensor). The state dict needs no
PyTorch; the rest imports it only when called, so ``import nn`` never does.

The article's shared biases
---------------------------
The article's b1 is ONE number that both hidden neurons add, and so is b2
for the output neurons. A layer made with ``shared_bias=True`` becomes a
``SharedBiasLinear``: a ``torch.nn.Linear`` whose bias is one parameter of
shape (1,), added to every neuron's net by broadcasting. Why one parameter
rather than one bias per neuron set to the shared value:

- PyTorch then computes the shared bias's gradient exactly as ``backward()``
  does here: the sum over the neurons it feeds (the backward pass of a
  broadcast sums), so every gradient compares entry by entry with ours and a
  test needs no special case for the biases;
- an optimizer step keeps it one number, so one SGD step in each library
  lands on the same weights, where per-neuron copies would drift apart after
  the first update;
- the round trip is exact, sharing included, and the state dict's "0.bias"
  is ``[0.35]`` in both libraries.

A hand-made ``torch.nn.Linear`` with one bias per neuron loads into an MLP
whose layer has its own bias per neuron (``MLP.from_torch`` makes one).

>>> from nn import mazur
>>> state = mazur.network().state_dict()
>>> list(state)
['0.weight', '0.bias', '2.weight', '2.bias']
>>> state["0.weight"], state["0.bias"]
([[0.15, 0.2], [0.25, 0.3]], [0.35])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._util import describe, finite_number, plural

if TYPE_CHECKING:  # MLP for type hints only: MLP's own methods call this module
    import torch

    from .module import MLP

# The activations a Sequential may hold, by the class name PyTorch gives them.
TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
SUPPORTED = "supported: Linear (with a bias), each followed by at most one of ReLU, Tanh, Sigmoid"

StateDict = dict[str, list[list[float]] | list[float]]

_shared_bias_linear_class: Any = None


def _need_torch() -> None:
    """Import PyTorch, or raise one line saying how to install it."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ImportError(
            'the PyTorch bridge needs PyTorch: pip install ".[torch]" (tinygrad-bp[torch])'
        ) from None


def _shared_bias_linear() -> type[torch.nn.Linear]:
    """The ``SharedBiasLinear`` class, made once, on first use (it subclasses a torch class)."""
    global _shared_bias_linear_class
    if _shared_bias_linear_class is None:
        _need_torch()
        import torch

        class SharedBiasLinear(torch.nn.Linear):  # type: ignore[misc, unused-ignore]
            """``Linear`` with ONE bias shared by all its neurons: y = x·Wᵀ + b, b of shape (1,).

            The article's b1 and b2. Broadcasting adds the bias to every
            neuron's net, and its backward pass sums the neurons' gradients,
            as a shared Value's gradient is summed here.
            """

            def __init__(
                self, in_features: int, out_features: int, device: Any = None, dtype: Any = None
            ) -> None:
                super().__init__(in_features, out_features, bias=False, device=device, dtype=dtype)
                self.bias = torch.nn.Parameter(torch.empty(1, device=device, dtype=dtype))
                bound = 1.0 / math.sqrt(in_features)  # Linear's own default for a bias
                torch.nn.init.uniform_(self.bias, -bound, bound)

            def forward(self, x: Any) -> Any:
                return torch.nn.functional.linear(x, self.weight) + self.bias

            def extra_repr(self) -> str:
                sizes = f"in_features={self.in_features}, out_features={self.out_features}"
                return sizes + ", bias=shared"

        # Importable by name (for pickle and torch.save): nn.torch_bridge.SharedBiasLinear.
        SharedBiasLinear.__module__ = __name__
        SharedBiasLinear.__qualname__ = "SharedBiasLinear"
        _shared_bias_linear_class = SharedBiasLinear
    return _shared_bias_linear_class  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    # ``SharedBiasLinear`` is made when first asked for, so importing this module needs no torch.
    if name == "SharedBiasLinear":
        return _shared_bias_linear()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _layer_activation(model: MLP, k: int) -> str:
    return model.output_activation if k == len(model.layers) - 1 else model.activation


def _linear_indices(model: MLP) -> list[int]:
    """Each layer's index in ``to_torch()``'s Sequential: its Linear, then its activation if any."""
    indices, i = [], 0
    for k in range(len(model.layers)):
        indices.append(i)
        i += 1 if _layer_activation(model, k) == "linear" else 2
    return indices


def to_torch(model: MLP) -> torch.nn.Sequential:
    """``model`` as a float64 ``torch.nn.Sequential`` with the same weights (``MLP.to_torch``)."""
    _need_torch()
    import torch

    modules: list[torch.nn.Module] = []
    for k, layer in enumerate(model.layers):
        nin, nout = layer.nin, len(layer.neurons)
        cls = _shared_bias_linear() if layer.shared_bias else torch.nn.Linear
        # Made on the meta device, then given memory: no random initialisation to overwrite,
        # so torch's random state is left as it was (what torch.nn.utils.skip_init does).
        linear = cls(nin, nout, dtype=torch.float64, device="meta").to_empty(device="cpu")
        with torch.no_grad():
            rows = [[w.data for w in n.w] for n in layer.neurons]
            biases = layer.neurons[:1] if layer.shared_bias else layer.neurons
            linear.weight.copy_(torch.tensor(rows, dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in biases], dtype=torch.float64))
        modules.append(linear)
        activation = _layer_activation(model, k)
        if activation != "linear":
            modules.append(getattr(torch.nn, TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*modules)


def from_torch(module: object, cls: type[MLP]) -> MLP:
    """A ``cls`` (an MLP) with ``module``'s architecture and weights (``MLP.from_torch``).

    ``module`` must be a ``torch.nn.Sequential`` of ``Linear`` layers with a
    bias (or ``SharedBiasLinear``), each followed by at most one activation
    module (``ReLU``, ``Tanh``, ``Sigmoid``), the hidden layers all with the
    same one, as an MLP has. Anything else is refused with one line naming
    the layer. The weights are read as Python floats (a float32 weight
    becomes the float64 of the same value); complex weights, or weights on
    the meta device (a shape without numbers), are refused.
    """
    _need_torch()
    import torch

    where = "MLP.from_torch"
    if not isinstance(module, torch.nn.Sequential) or type(module) is not torch.nn.Sequential:
        raise TypeError(f"{where}: expected a torch.nn.Sequential, got {type(module).__name__}")
    shared_class = _shared_bias_linear()
    names = {getattr(torch.nn, name): key for key, name in TORCH_ACTIVATIONS.items()}
    linears: list[tuple[str, Any]] = []
    activations: list[str] = []
    for name, layer in module.named_children():
        kind = type(layer)
        this = f"{where}: layer {name} ({_one_line(layer)})"
        if kind is torch.nn.Linear or kind is shared_class:
            if layer.bias is None:
                raise ValueError(f"{this} has no bias; {SUPPORTED}")
            _readable(this, layer)
            if linears and layer.in_features != linears[-1][1].out_features:
                raise ValueError(
                    f"{this} takes {layer.in_features} inputs but the "
                    f"layer before gives {linears[-1][1].out_features}"
                )
            linears.append((name, layer))
            activations.append("linear")
        elif kind in names:
            if not linears or activations[-1] != "linear":
                place = "comes first" if not linears else "follows another activation"
                raise ValueError(f"{this} {place}; {SUPPORTED}")
            activations[-1] = names[kind]
        else:
            raise ValueError(f"{this} is not supported; {SUPPORTED}")
    if not linears:
        raise ValueError(f"{where}: the Sequential holds no Linear layer; {SUPPORTED}")
    hidden = activations[:-1]
    for (name, _), activation in zip(linears[1:-1], hidden[1:]):
        if activation != hidden[0]:
            raise ValueError(
                f"{where}: the Linear layer {name} is followed by {_torch_name(activation)}, "
                f"the first hidden one by {_torch_name(hidden[0])}; an MLP's hidden layers "
                "share one activation"
            )
    weights: list[list[list[float]]] = []
    biases: list[float | list[float]] = []
    for name, layer in linears:
        w = layer.weight.detach().tolist()
        b = layer.bias.detach().tolist()
        for what, values in (("weight", [x for row in w for x in row]), ("bias", b)):
            if not all(math.isfinite(x) for x in values):
                raise ValueError(f"{where}: layer {name}'s {what} holds a non-finite number")
        weights.append(w)
        biases.append(b[0] if type(layer) is shared_class else b)
    return cls.from_weights(
        weights, biases, hidden[0] if hidden else "relu", output_activation=activations[-1]
    )


def _readable(this: str, layer: Any) -> None:
    """Refuse a Linear whose numbers are not real floats held in memory: nothing to copy."""
    for what in ("weight", "bias"):
        tensor = getattr(layer, what)
        if tensor.is_meta:  # a shape without data: tolist() would raise NotImplementedError
            raise ValueError(
                f"{this} has its {what} on the meta device (no data); expected a tensor with its "
                "numbers, e.g. on the CPU (module.to_empty(device='cpu') and set the weights)"
            )
        if not tensor.dtype.is_floating_point:  # complex or integer: not real numbers to copy
            raise ValueError(
                f"{this} has a {tensor.dtype} {what}; expected a real floating-point dtype "
                "(float64, float32, float16 or bfloat16)"
            )


def _one_line(layer: object) -> str:
    """A layer as its repr, or its class name where the repr spans lines (a nested Sequential)."""
    text = repr(layer)
    return f"{type(layer).__name__}(...)" if "\n" in text or len(text) > 80 else text


def _torch_name(activation: str) -> str:
    return TORCH_ACTIVATIONS.get(activation, "no activation")


def state_dict(model: MLP) -> StateDict:
    """The weights under PyTorch's key names as nested lists (``MLP.state_dict``)."""
    out: StateDict = {}
    for i, layer in zip(_linear_indices(model), model.layers):
        out[f"{i}.weight"] = [[w.data for w in n.w] for n in layer.neurons]
        biases = layer.neurons[:1] if layer.shared_bias else layer.neurons
        out[f"{i}.bias"] = [n.b.data for n in biases]
    return out


def load_state_dict(model: MLP, state: object) -> None:
    """Overwrite ``model``'s weights from ``state`` (``MLP.load_state_dict``).

    Every key, shape and number is checked before anything is set.
    """
    where = "load_state_dict"
    indices = _linear_indices(model)
    expected = [f"{i}.{part}" for i in indices for part in ("weight", "bias")]
    if not isinstance(state, Mapping):
        raise TypeError(
            f"{where}: expected a dict with keys {', '.join(expected)}, got {describe(state)}"
        )
    missing = [k for k in expected if k not in state]
    unexpected = [repr(k) for k in state if k not in expected]
    if missing or unexpected:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unexpected {', '.join(unexpected)}"] if unexpected else []
        raise ValueError(f"{where}: {'; '.join(parts)} (this model's keys: {', '.join(expected)})")
    weights: list[list[list[float]]] = []
    biases: list[float | list[float]] = []
    for i, layer in zip(indices, model.layers):
        nin, nout = layer.nin, len(layer.neurons)
        key = f"{i}.weight"
        rows = _list(state[key], key)
        if len(rows) != nout:
            raise ValueError(
                f"{where}: {key} must have {nout} rows (one per neuron), got {describe(rows)}"
            )
        weights.append([])
        for j, row in enumerate(rows):
            row = _list(row, f"{key}[{j}]")
            if len(row) != nin:
                raise ValueError(
                    f"{where}: {key}[{j}] must have {nin} weights (one per input), "
                    f"got {describe(row)}"
                )
            weights[-1].append(
                [finite_number(x, f"{where}: {key}[{j}][{n}]") for n, x in enumerate(row)]
            )
        key = f"{i}.bias"
        values = _list(state[key], key)
        count = 1 if layer.shared_bias else nout
        if len(values) != count:
            why = "its neurons share one bias" if layer.shared_bias else "one per neuron"
            raise ValueError(
                f"{where}: {key} must have {plural(count, 'value')} ({why}), got {describe(values)}"
            )
        b = [finite_number(x, f"{where}: {key}[{j}]") for j, x in enumerate(values)]
        biases.append(b[0] if layer.shared_bias else b)
    model.set_weights(weights, biases)  # all checked above: nothing is half-applied


def _list(value: object, key: str) -> list[Any]:
    """``value`` as a list: a list or tuple as it is, a tensor (or array) by its ``tolist()``."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and not isinstance(value, (list, tuple)):
        value = tolist()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"load_state_dict: {key} must be a list, got {describe(value)}")
    return list(value)
