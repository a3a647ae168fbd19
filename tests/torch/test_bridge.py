"""The PyTorch bridge (nn/torch_bridge.py): round trips, gradients, an SGD step, refusals.

Every network is run in both libraries on the same inputs and loss; every
node's value (each neuron's net and output, for every sample), every
parameter's and every input's gradient must agree within 1e-12. The
networks: the article's (biases shared, as b1 and b2 are), a moons MLP
2-16-16-1 with the moons loss, and random MLPs of each activation with
shared and per-neuron biases mixed.

Like the other tests here, this module is skipped without PyTorch unless
TINYGRAD_BP_REQUIRE_TORCH=1 (as CI sets it), which makes that a failure.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from torch_or_skip import require_torch  # tests/support

torch = require_torch("the bridge tests")  # or this file is skipped
from nn import MLP, SGD, hinge, l2, make_moons, mazur, svm_loss  # noqa: E402  (after the skip: nothing to import if skipped)
from nn.serialize import architecture, load, save  # noqa: E402
from nn.torch_bridge import SharedBiasLinear  # noqa: E402
from tinygrad_bp import Value, ops  # noqa: E402

TOL = 1e-12  # the agreement demanded of every value and gradient
F64 = torch.float64
ACTIVATION_NAMES = ["relu", "tanh", "sigmoid", "linear"]

OursLoss = Callable[[list[list[Value]]], Value]
TorchLoss = Callable[[Any, Any], Any]  # (output, the Sequential) -> loss


def _random_mlp(rng: random.Random, activation: str) -> MLP:
    """A small MLP with random sizes, output activation, biases (shared or not) and weights."""
    depth = rng.randint(1, 3)
    nouts = [rng.randint(1, 5) for _ in range(depth)]
    model = MLP(
        rng.randint(1, 4),
        nouts,
        activation,
        rng.choice(ACTIVATION_NAMES),
        seed=rng.randrange(1000),
        shared_bias=[rng.random() < 0.5 for _ in nouts],
    )
    for p in model.parameters():  # the biases start at 0: give them a value too
        p.data = rng.uniform(-1.0, 1.0)
    return model


def _random_inputs(rng: random.Random, model: MLP, n: int = 5) -> list[list[float]]:
    return [[rng.gauss(0.0, 2.0) for _ in range(model.nin)] for _ in range(n)]


def _weighted_sum_loss(rng: random.Random, n: int, nout: int) -> tuple[OursLoss, TorchLoss]:
    """Σ c·output over samples and outputs, random c: every output's gradient differs."""
    c = [[rng.uniform(-1.0, 1.0) for _ in range(nout)] for _ in range(n)]

    def ours(outs: list[list[Value]]) -> Value:
        loss = Value(0.0)
        for row, cs in zip(outs, c):
            for o, k in zip(row, cs):
                loss = loss + k * o
        return loss

    return ours, lambda out, net: (out * torch.tensor(c, dtype=F64)).sum()


class Gap:
    """The largest difference seen between our numbers and torch's."""

    def __init__(self, loss: float) -> None:
        self.loss = loss  # our loss's value
        self.largest = 0.0
        self.count = 0

    def check(self, ours: float, theirs: float, where: str) -> None:
        gap = abs(ours - theirs)
        assert gap <= TOL, f"{where}: ours {ours!r}, torch {theirs!r}"
        self.largest = max(self.largest, gap)
        self.count += 1


def compare(
    model: MLP, X: Sequence[Sequence[float]], loss_ours: OursLoss, loss_torch: TorchLoss
) -> Gap:
    """Forward and backward in both libraries; every value and gradient must agree."""
    # ours: layer by layer, keeping every layer's outputs
    xs = [[Value(v) for v in row] for row in X]
    layers_out: list[list[list[Value]]] = []  # [sample][layer][neuron]
    for x in xs:
        h: list[Value] = x
        per_layer = []
        for layer in model.layers:
            h = layer(h)
            per_layer.append(h)
        layers_out.append(per_layer)
    loss = loss_ours([per_layer[-1] for per_layer in layers_out])
    model.zero_grad()
    loss.backward()

    # torch: module by module, every output kept with its gradient
    net = model.to_torch()
    Xt = torch.tensor(X, dtype=F64, requires_grad=True)
    t_outs = []
    t: Any = Xt
    for module in net:
        t = module(t)
        t.retain_grad()
        t_outs.append(t)
    t_loss = loss_torch(t, net)
    t_loss.backward()

    gap = Gap(loss.data)
    gap.check(loss.data, t_loss.item(), "loss")
    i = 0  # the layer's Linear in the Sequential
    for k, layer in enumerate(model.layers):
        linear = net[i]
        has_activation = layer.neurons[0].activation != "linear"
        t_net = t_outs[i]
        t_out = t_outs[i + 1] if has_activation else t_net
        for s, per_layer in enumerate(layers_out):
            for j, out in enumerate(per_layer[k]):
                node = out.parents[0] if has_activation else out
                assert node.creator is ops.weighted_sum_op
                where = f"layer {k}, sample {s}, neuron {j}"
                gap.check(node.data, t_net[s, j].item(), f"{where}: net")
                gap.check(node.grad, t_net.grad[s, j].item(), f"{where}: net's grad")
                gap.check(out.data, t_out[s, j].item(), f"{where}: out")
                gap.check(out.grad, t_out.grad[s, j].item(), f"{where}: out's grad")
        for j, neuron in enumerate(layer.neurons):
            for n, w in enumerate(neuron.w):
                gap.check(w.grad, linear.weight.grad[j, n].item(), f"{w.label}'s grad")
            b = linear.bias.grad[0 if layer.shared_bias else j].item()
            gap.check(neuron.b.grad, b, f"{neuron.b.label}'s grad")
        i += 2 if has_activation else 1
    for s, x in enumerate(xs):
        for n, v in enumerate(x):
            gap.check(v.grad, Xt.grad[s, n].item(), f"input {n} of sample {s}: grad")
    return gap


# -- the networks ------------------------------------------------------------------


def _article_losses() -> tuple[OursLoss, TorchLoss]:
    def ours(outs: list[list[Value]]) -> Value:
        (o1, o2), (t1, t2) = outs[0], mazur.TARGETS
        return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2

    targets = torch.tensor([mazur.TARGETS], dtype=F64)
    return ours, lambda out, net: (0.5 * (targets - out) ** 2).sum()


def test_the_article_agrees_node_by_node() -> None:
    model = mazur.network()
    gap = compare(model, [list(mazur.INPUTS)], *_article_losses())
    assert gap.count == 1 + 2 * 2 * 4 + (8 + 4) + 2  # loss, nodes, w and b per neuron, inputs
    assert round(mazur.weight(model, "w5").grad, 9) == 0.082167041
    # b1's gradient, one number in both, is the sum over h1 and h2
    assert model.layers[0].neurons[0].b is model.layers[0].neurons[1].b


def _moons() -> tuple[list[list[float]], list[int]]:
    X, y = make_moons(24, noise=0.1, seed=3, signed=True)
    return [list(p) for p in X], list(y)


ALPHA = 1e-4  # the moons loss's L2 term, as nn.train.svm_loss has it


def _moons_losses(model: MLP, y: list[int]) -> tuple[OursLoss, TorchLoss]:
    """The moons loss, nn.train.svm_loss's: mean hinge plus ALPHA times the sum of squares."""

    def ours(outs: list[list[Value]]) -> Value:
        return hinge([o[0] for o in outs], y) + ALPHA * l2(model.parameters())

    def theirs(out: Any, net: Any) -> Any:
        margins = torch.relu(1 - torch.tensor(y, dtype=F64) * out[:, 0])
        return margins.mean() + ALPHA * sum((p**2).sum() for p in net.parameters())

    return ours, theirs


def test_a_moons_mlp_agrees_node_by_node() -> None:
    model = MLP(2, [16, 16, 1], seed=5)
    X, y = _moons()
    gap = compare(model, X, *_moons_losses(model, y))
    assert gap.count == 1 + 24 * 4 * (16 + 16 + 1) + 337 + 48
    loss, _ = svm_loss(model, X, y, ALPHA)  # the loss the moons are trained with
    assert abs(loss.data - gap.loss) <= TOL


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("seed", range(6))
def test_random_mlps_agree_node_by_node(activation: str, seed: int) -> None:
    rng = random.Random(f"{activation} {seed}")
    model = _random_mlp(rng, activation)
    X = _random_inputs(rng, model)
    compare(model, X, *_weighted_sum_loss(rng, len(X), len(model.layers[-1].neurons)))


def test_a_shared_bias_gradient_is_the_sum_over_its_neurons() -> None:
    """One bias per neuron (a plain Linear) gives per-neuron gradients that sum to ours."""
    model = mazur.network()
    step = mazur.forward(model)
    step.E_total.backward()
    net = model.to_torch()
    expanded = torch.nn.Sequential(*(_expanded(m) for m in net))
    x = torch.tensor(mazur.INPUTS, dtype=F64)
    targets = torch.tensor(mazur.TARGETS, dtype=F64)
    for seq in (net, expanded):
        (0.5 * (targets - seq(x)) ** 2).sum().backward()
    for i, layer in ((0, model.layers[0]), (2, model.layers[1])):
        shared = layer.neurons[0].b.grad
        per_neuron = expanded[i].bias.grad.tolist()
        assert len(per_neuron) == 2 and per_neuron[0] != per_neuron[1]
        assert abs(sum(per_neuron) - shared) <= TOL
        assert abs(net[i].bias.grad.item() - shared) <= TOL


def _expanded(module: Any) -> Any:
    """A SharedBiasLinear as a plain Linear, its one bias copied to every neuron."""
    if not isinstance(module, SharedBiasLinear):
        return module
    linear = torch.nn.Linear(module.in_features, module.out_features, dtype=F64)
    with torch.no_grad():
        linear.weight.copy_(module.weight)
        linear.bias.fill_(module.bias.item())
    return linear


# -- one SGD step -------------------------------------------------------------------


def _state(model_or_net: Any) -> dict[str, list[Any]]:
    if isinstance(model_or_net, MLP):
        return dict(model_or_net.state_dict())
    return {k: v.tolist() for k, v in model_or_net.state_dict().items()}


def _flat(state: dict[str, list[Any]]) -> list[float]:
    out: list[float] = []
    for v in state.values():
        for x in v:
            out.extend(x if isinstance(x, list) else [x])
    return out


def _one_sgd_step(
    model: MLP, X: list[list[float]], loss_ours: OursLoss, loss_torch: TorchLoss, lr: float
) -> float:
    net = model.to_torch()
    out = [model(x) for x in X]
    loss = loss_ours([o if isinstance(o, list) else [o] for o in out])
    opt = SGD(model.parameters(), lr=lr)
    opt.zero_grad()
    loss.backward()
    opt.step()

    t_opt = torch.optim.SGD(net.parameters(), lr=lr)
    t_opt.zero_grad()
    loss_torch(net(torch.tensor(X, dtype=F64)), net).backward()
    t_opt.step()
    assert _state(model).keys() == _state(net).keys()
    ours, theirs = _flat(_state(model)), _flat(_state(net))
    assert len(ours) == len(theirs)
    gaps = [abs(a - b) for a, b in zip(ours, theirs)]
    assert max(gaps) <= TOL
    return max(gaps)


def test_one_sgd_step_lands_on_the_same_weights_article() -> None:
    model = mazur.network()
    _one_sgd_step(model, [list(mazur.INPUTS)], *_article_losses(), lr=mazur.LEARNING_RATE)
    # the shared biases moved, and stayed one number each
    assert model.state_dict()["0.bias"] != [mazur.BIASES[0]]
    assert len(model.state_dict()["0.bias"]) == 1


def test_the_articles_update_in_torch_gives_the_articles_figures() -> None:
    """The article trains the weights only: so does this torch optimizer."""
    net = mazur.network().to_torch()
    weights = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.SGD(weights, lr=mazur.LEARNING_RATE)
    x, targets = torch.tensor(mazur.INPUTS, dtype=F64), torch.tensor(mazur.TARGETS, dtype=F64)
    (0.5 * (targets - net(x)) ** 2).sum().backward()
    opt.step()
    after = (0.5 * (targets - net(x)) ** 2).sum().item()
    assert round(after, 9) == 0.291027774
    model = MLP.from_torch(net)
    ours = mazur.network()
    mazur.train(ours, 1)
    assert _flat(_state(model)) == pytest.approx(_flat(_state(ours)), abs=TOL, rel=0)


def test_one_sgd_step_lands_on_the_same_weights_moons() -> None:
    model = MLP(2, [16, 16, 1], seed=5)
    X, y = _moons()
    _one_sgd_step(model, X, *_moons_losses(model, y), lr=0.1)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_one_sgd_step_lands_on_the_same_weights_random(activation: str) -> None:
    rng = random.Random(f"sgd {activation}")
    model = _random_mlp(rng, activation)
    X = _random_inputs(rng, model)
    _one_sgd_step(model, X, *_weighted_sum_loss(rng, len(X), len(model.layers[-1].neurons)), 0.3)


# -- round trips --------------------------------------------------------------------


def _models() -> list[MLP]:
    rng = random.Random(7)
    return [
        mazur.network(),
        MLP(2, [16, 16, 1], seed=0),
        *(_random_mlp(rng, a) for a in ACTIVATION_NAMES for _ in range(3)),
    ]


@pytest.mark.parametrize("model", _models(), ids=repr)
def test_to_torch_and_back_is_exact(model: MLP) -> None:
    net = model.to_torch()
    assert all(p.dtype == F64 for p in net.parameters())
    back = MLP.from_torch(net)
    assert back.get_weights() == model.get_weights()
    assert back.state_dict() == model.state_dict()
    mine, theirs = architecture(model), architecture(back)
    if len(model.layers) == 1:  # a single layer has no hidden activation to carry across
        mine.pop("activation"), theirs.pop("activation")
    assert mine == theirs
    assert str(back.to_torch()) == str(net)


@pytest.mark.parametrize("model", _models(), ids=repr)
def test_state_dicts_go_across_through_torch_tensor_exactly(model: MLP) -> None:
    net = model.to_torch()
    for p in net.parameters():  # scramble, so that loading has something to do
        torch.nn.init.uniform_(p, -5.0, 5.0)
    net.load_state_dict({k: torch.tensor(v, dtype=F64) for k, v in model.state_dict().items()})
    assert _state(net) == model.state_dict()
    other = MLP.from_torch(model.to_torch())
    for p in other.parameters():
        p.data = 9.0
    other.load_state_dict(net.state_dict())  # tensors as they are
    assert other.get_weights() == model.get_weights()


def test_a_torch_sequential_comes_across_and_back_exactly() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 2),
        torch.nn.Sigmoid(),
    )  # float32, as PyTorch makes it
    model = MLP.from_torch(net)
    assert repr(model) == "MLP(3, [8, 8, 2], activation='tanh', output_activation='sigmoid')"
    back = model.to_torch()
    for (k, a), (k2, b) in zip(net.state_dict().items(), back.state_dict().items()):
        assert k == k2 and b.dtype == F64
        assert torch.equal(a.to(F64), b)  # every float32 is a float64 exactly
    x = torch.randn(4, 3)
    assert torch.allclose(net(x).to(F64), back(x.to(F64)), atol=1e-6)


def test_a_model_from_torch_saves_as_a_json_model_file(tmp_path: Path) -> None:
    model = MLP.from_torch(mazur.network().to_torch())
    save(model, tmp_path / "model.json")
    assert load(tmp_path / "model.json").state_dict() == mazur.network().state_dict()


def test_to_torch_leaves_torchs_random_state_alone() -> None:
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    MLP(2, [16, 16, 1]).to_torch()
    mazur.network().to_torch()
    assert torch.equal(torch.rand(3), expected)


def test_a_shared_bias_linear_saves_and_loads_with_torch() -> None:
    net = mazur.network().to_torch()
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    again = torch.load(buffer, weights_only=False)
    assert str(again) == str(net)
    assert MLP.from_torch(again).state_dict() == mazur.network().state_dict()
    assert "SharedBiasLinear(in_features=2, out_features=2, bias=shared)" in str(net)


# -- refusals ------------------------------------------------------------------------


def _seq(*modules: Any) -> Any:
    return torch.nn.Sequential(*modules)


L = torch.nn.Linear
REFUSED = [
    (_seq(L(2, 3), torch.nn.Dropout(), L(3, 1)), r"layer 1 \(Dropout\(.*\)\) is not supported"),
    (_seq(L(2, 3), torch.nn.LeakyReLU()), r"layer 1 \(LeakyReLU\(.*\)\) is not supported"),
    (_seq(L(2, 3), torch.nn.Identity()), r"layer 1 \(Identity\(\)\) is not supported"),
    (_seq(torch.nn.ReLU(), L(2, 1)), r"layer 0 \(ReLU\(\)\) comes first; supported"),
    (_seq(L(2, 3), torch.nn.ReLU(), torch.nn.Tanh()), r"layer 2 \(Tanh\(\)\) follows another act"),
    (_seq(L(2, 3, bias=False)), r"layer 0 \(Linear\(.*bias=False\)\) has no bias"),
    (_seq(L(2, 3), L(4, 1)), r"layer 1 .* takes 4 inputs but the layer before gives 3"),
    (
        _seq(L(2, 3), torch.nn.ReLU(), L(3, 3), torch.nn.Tanh(), L(3, 1)),
        r"the Linear layer 2 is followed by Tanh, the first hidden one by ReLU",
    ),
    (_seq(L(2, 3), _seq(L(3, 1))), r"layer 1 \(Sequential\(\.\.\.\)\) is not supported"),
    (_seq(), r"the Sequential holds no Linear layer"),
    (
        _seq(L(2, 1, dtype=torch.complex128)),
        r"layer 0 \(Linear\(.*\)\) has a torch.complex128 weight; expected a real floating-point",
    ),
    (
        _seq(L(2, 3), L(3, 1, device="meta")),
        r"layer 1 \(Linear\(.*\)\) has its weight on the meta device \(no data\); expected a "
        r"tensor with its numbers",
    ),
]


@pytest.mark.parametrize(("module", "message"), REFUSED, ids=lambda x: None)
def test_from_torch_refuses_anything_else_in_one_line(module: Any, message: str) -> None:
    with pytest.raises(ValueError) as e:
        MLP.from_torch(module)
    text = str(e.value)
    assert "\n" not in text
    assert re.search(message, text), text
    if "supported" in text:
        assert text.endswith(
            "supported: Linear (with a bias), each followed by at most one of ReLU, Tanh, Sigmoid"
        )


def test_from_torch_refuses_a_module_that_is_not_a_sequential() -> None:
    with pytest.raises(
        TypeError, match=r"^MLP.from_torch: expected a torch.nn.Sequential, got Linear$"
    ):
        MLP.from_torch(L(2, 2))


def test_from_torch_refuses_a_non_finite_weight() -> None:
    net = mazur.network().to_torch()
    with torch.no_grad():
        net[2].weight[1, 0] = float("nan")
    with pytest.raises(ValueError, match=r"^MLP.from_torch: layer 2's weight holds a non-finite"):
        MLP.from_torch(net)


def test_a_plain_linear_for_a_shared_bias_layer_is_refused_by_torch() -> None:
    """The article's state dict has one bias per layer: a hand-made Linear has two."""
    net = _seq(L(2, 2, dtype=F64), torch.nn.Sigmoid(), L(2, 2, dtype=F64), torch.nn.Sigmoid())
    state = {k: torch.tensor(v, dtype=F64) for k, v in mazur.network().state_dict().items()}
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):
        net.load_state_dict(state)
    # ...and the same Sequential comes across as an MLP with a bias per neuron
    assert MLP.from_torch(net).layers[0].shared_bias is False


# -- the documentation ---------------------------------------------------------------


def test_the_page_to_pytorch_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "torch.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "docs/torch.md", "exec"), namespace)  # the project's own text
    printed = capsys.readouterr().out
    assert "0.082167041" in printed
    back = namespace["back"]
    assert isinstance(back, MLP) and back.state_dict() == mazur.network().state_dict()
