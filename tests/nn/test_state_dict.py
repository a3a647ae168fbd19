"""The bridge's parts that need no PyTorch: state dicts, and torch staying unimported.

The bridge itself, against PyTorch, is checked in tests/torch/test_bridge.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nn import MLP, mazur

ROOT = Path(__file__).resolve().parents[2]  # the checkout: tests/<part>/this file


def test_the_articles_state_dict_has_pytorchs_keys_and_one_bias_per_layer() -> None:
    assert mazur.network().state_dict() == {
        "0.weight": [[0.15, 0.20], [0.25, 0.30]],
        "0.bias": [0.35],
        "2.weight": [[0.40, 0.45], [0.50, 0.55]],
        "2.bias": [0.60],
    }


def test_the_keys_are_the_sequentials_indices() -> None:
    # a linear layer has no activation module after it, so the next Linear is one on
    assert list(MLP(2, [3, 3, 1], activation=None).state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias",
    ]  # fmt: skip
    assert list(MLP(2, [3, 1], output_activation="sigmoid").state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias",
    ]  # fmt: skip


def test_a_state_dict_is_plain_lists_of_floats_matching_get_weights() -> None:
    model = MLP(3, [4, 2], seed=2)
    state = model.state_dict()
    weights, biases = model.get_weights()
    assert state["0.weight"] == weights[0] and state["2.weight"] == weights[1]
    assert state["0.bias"] == biases[0] and state["2.bias"] == biases[1]
    assert all(type(x) is float for row in state["0.weight"] for x in row)


def test_a_state_dict_round_trip_is_exact() -> None:
    source = MLP(2, [16, 16, 1], seed=0)
    target = MLP(2, [16, 16, 1], seed=1)
    assert target.get_weights() != source.get_weights()
    target.load_state_dict(source.state_dict())
    assert target.get_weights() == source.get_weights()
    shared = mazur.network()
    for p in shared.parameters():
        p.data = 0.0
    shared.load_state_dict(mazur.network().state_dict())
    assert shared.get_weights() == mazur.network().get_weights()


class Listish:
    """Stands for a tensor: anything with ``tolist()`` is read through it."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def tolist(self) -> Any:
        return self.value


def test_load_state_dict_reads_anything_with_tolist() -> None:
    model = mazur.network()
    state = {k: Listish(v) for k, v in mazur.network().state_dict().items()}
    state["2.bias"] = Listish([0.5])
    model.load_state_dict(state)
    assert model.state_dict()["2.bias"] == [0.5]


def _bad(key: str, value: object) -> dict[str, object]:
    state: dict[str, object] = dict(mazur.network().state_dict())
    state[key] = value
    return state


MISSING = {k: v for k, v in mazur.network().state_dict().items() if k != "2.bias"}
KEYS = "(this model's keys: 0.weight, 0.bias, 2.weight, 2.bias)"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ([], "load_state_dict: expected a dict with keys 0.weight, 0.bias, 2.weight, 2.bias, "
         "got a list of 0"),
        (MISSING, f"load_state_dict: missing 2.bias {KEYS}"),
        ({**MISSING, "1.weight": [[1.0]]}, f"load_state_dict: missing 2.bias; unexpected "
         f"'1.weight' {KEYS}"),
        (_bad("2.weight", [[0.4, 0.45]]), "load_state_dict: 2.weight must have 2 rows (one per "
         "neuron), got a list of 1"),
        (_bad("2.weight", [[0.4, 0.45], [0.5]]), "load_state_dict: 2.weight[1] must have 2 "
         "weights (one per input), got a list of 1"),
        (_bad("2.weight", 0.4), "load_state_dict: 2.weight must be a list, got 0.4"),
        (_bad("2.weight", [[0.4, 0.45], [0.5, float("inf")]]), "load_state_dict: "
         "2.weight[1][1]: expected a finite number, got inf"),
        (_bad("2.weight", [[0.4, 0.45], [0.5, "0.55"]]), "load_state_dict: 2.weight[1][1]: "
         "expected a finite number, got '0.55'"),
        (_bad("2.bias", [0.6, 0.6]), "load_state_dict: 2.bias must have 1 value (its neurons "
         "share one bias), got a list of 2"),
        (_bad("2.bias", [True]), "load_state_dict: 2.bias[0]: expected a finite number, got True"),
    ],
)  # fmt: skip
def test_load_state_dict_refuses_in_one_line_and_changes_nothing(
    state: object, message: str
) -> None:
    model = mazur.network()
    for p in model.parameters():
        p.data = 1.0
    before = model.get_weights()
    with pytest.raises((ValueError, TypeError)) as e:
        model.load_state_dict(state)  # type: ignore[arg-type]
    assert str(e.value) == message
    assert model.get_weights() == before  # the earlier keys were fine: none was applied


def test_per_neuron_biases_need_one_per_neuron() -> None:
    model = MLP(2, [3, 1])
    state = model.state_dict()
    state["0.bias"] = [0.1]
    with pytest.raises(ValueError, match=r"^load_state_dict: 0.bias must have 3 values \(one per"):
        model.load_state_dict(state)


def test_importing_nn_and_the_bridge_does_not_import_torch() -> None:
    code = (
        "import sys, nn, nn.torch_bridge, tinygrad_bp\n"
        "from nn import mazur\n"
        "mazur.network().state_dict()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_bridge_without_torch_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    message = (
        r'^the PyTorch bridge needs PyTorch: pip install "\.\[torch\]" \(tinygrad-bp\[torch\]\)$'
    )
    with pytest.raises(ImportError, match=message):
        mazur.network().to_torch()
    with pytest.raises(ImportError, match=message):
        MLP.from_torch(object())  # type: ignore[arg-type]
