"""The stepper page with forward mode: the seed and a tangent step per node, between the passes.

Checked without a browser: the steps, their equations and edges, the page's
data and the count of sweeps; tests/browser/ plays the page.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from nn import MLP, mazur
from tinygrad_bp import Value
from tinygrad_bp.forward_mode import count_sweeps, tangents
from tinygrad_bp.graph import topological_order
from tinygrad_bp.show import Stepper, explain_forward

ARTICLE_SWEEPS = (
    "forward mode: 8 sweeps of 23 node visits (184 in all); reverse mode: 1 sweep of 23"
)
HOSTILE = "</script><script>alert(1)</script><!--"


def page_json(page: str) -> Any:
    found = re.search(r'<script type="application/json" id="tg-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def article_page(article: tuple[MLP, Value, dict[str, Value]], wrt: str = "w5") -> Stepper:
    model, root, _ = article
    return Stepper(
        root,
        parameters=model.parameters(),
        forward_mode=wrt,
        forward_mode_inputs=mazur.trained_parameters(model),
    )


def test_the_sweep_plays_between_the_passes(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    s = article_page(article)
    assert [step.counter for step in s.steps] == (
        ["start"]
        + [f"forward {k}/11" for k in range(1, 12)]
        + ["forward mode: seed"]
        + [f"tangent {k}/11" for k in range(1, 12)]
        + [f"backward {k}/23" for k in range(1, 24)]
    )
    # The tangent steps go through the nodes as the forward steps do: topological order.
    forward = [step.node for step in s.steps if step.kind == "forward"]
    assert [step.node for step in s.steps if step.kind == "tangent"] == forward


def test_each_tangent_step_is_explain_forwards_line(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    _, root, nodes = article
    s = article_page(article)
    seed = s.steps[12]
    assert seed.kind == "seed" and seed.node == s.drawing.node_ids[nodes["w5"]]
    assert seed.heading == "Forward mode for ∂E_total/∂w5: the seed, a tangent of 1 on w5"
    assert seed.text.splitlines()[2].startswith("seed: dw5/dw5 = 1, and 0 on every other leaf")
    whole = explain_forward(root, "w5")
    for step in s.steps[13:24]:
        assert step.text.split("\n\n")[0] in whole
    net_o1 = s.steps[17]
    assert net_o1.heading == "Forward mode: dnet_o1/dw5"
    assert net_o1.text.endswith(
        "= 0.593269992 × 1 + 0.596884378 × 0 + 0.4 × 0 + 0.45 × 0 + 1 × 0 = 0.593269992"
    )
    # Its incoming edges light up, as on the forward step, and its parents are the sources.
    node = nodes["net_o1"]
    edges = {s.drawing.edge_ids[(node, k)] for k in range(len(node.parents))}
    assert set(net_o1.edges) == edges | {f"{s.drawing.node_ids[node]}_out"}
    assert set(net_o1.sources) == {s.drawing.node_ids[p] for p in node.parents}
    last = s.steps[23]
    assert last.heading == "Forward mode: dE_total/dw5"
    assert last.text.splitlines()[-1] == (
        "∂E_total/∂w5 = dE_total/dw5 = 0.082167041 by forward mode "
        "= 0.082167041 by reverse mode (backward)"
    )


def test_the_page_holds_each_tangent_and_the_measured_count(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    model, root, nodes = article
    s = article_page(article)
    data = page_json(s.html)
    assert data["sweeps"] == ARTICLE_SWEEPS == str(s.sweeps)
    assert s.sweeps == count_sweeps(root, mazur.trained_parameters(model))
    swept = tangents(root, {nodes["w5"]: 1.0})
    by_id = {s.drawing.node_ids[v]: v for v in topological_order(root)}
    for node in data["nodes"]:
        v = by_id[node["id"]]
        assert float(node["tangent"].removeprefix("tangent ")) == pytest.approx(swept[v], abs=5e-10)
        step = data["steps"][node["swept"]]
        # A leaf's tangent is the seed; every other node's comes on its own tangent step.
        assert (step["kind"], step["node"]) == (
            ("seed", s.drawing.node_ids[nodes["w5"]]) if not v.parents else ("tangent", node["id"])
        )
    e_total = next(n for n in data["nodes"] if n["name"] == "E_total")
    assert e_total["tangent"] == "tangent 0.082167041"
    # By default the count is over the parameters given: here the biases too.
    with_biases = Stepper(root, parameters=model.parameters(), forward_mode="w5")
    assert str(with_biases.sweeps).startswith("forward mode: 10 sweeps of 23 node visits")


def test_without_forward_mode_the_page_is_as_before(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    model, root, _ = article
    s = Stepper(root, parameters=model.parameters())
    assert s.forward_mode is None and s.sweeps is None
    data = page_json(s.html)
    assert "sweeps" not in data
    assert all("tangent" not in node and "swept" not in node for node in data["nodes"])
    assert {step["kind"] for step in data["steps"]} == {"start", "forward", "backward"}


def test_collapsed_neurons_sweep_a_neuron_a_step(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    model, root, nodes = article
    s = Stepper(root, parameters=model.parameters(), collapse_neurons=True, forward_mode="w5")
    tangent_steps = [step for step in s.steps if step.kind == "tangent"]
    assert len(tangent_steps) == 7  # 4 neurons, E_o1, E_o2, E_total
    o1 = next(step for step in tangent_steps if nodes["out_o1"] in step.values)
    assert [v.label for v in o1.values] == ["net_o1", "out_o1"]
    assert "dnet_o1/dw5 = " in o1.text and "dout_o1/dw5 = " in o1.text
    data = page_json(s.html)
    e_total = next(n for n in data["nodes"] if n["name"] == "E_total")
    assert e_total["tangent"] == "tangent 0.082167041"


def test_labels_stay_text_in_the_forward_mode_steps() -> None:
    x = Value(1.0, HOSTILE)
    w = Value(2.0, "w")
    y = (x * w).tanh()
    y.label = "y"
    y.backward()
    page = Stepper(y, forward_mode=x).html
    assert page.count("<script") == 2 and "alert(1)</script>" not in page
    data = page_json(page)
    texts = [step["text"] for step in data["steps"] if step["kind"] in ("seed", "tangent")]
    assert any(f"d{HOSTILE}/d{HOSTILE}" in text for text in texts)
    assert (
        data["sweeps"]
        == "forward mode: 2 sweeps of 4 node visits (8 in all); reverse mode: 1 sweep of 4"
    )


def test_forward_mode_names_a_node_of_the_graph() -> None:
    x = Value(2.0, "x")
    y = x * 3.0
    y.label = "y"
    y.backward()
    with pytest.raises(ValueError, match="no node labelled 'z'"):
        Stepper(y, forward_mode="z")
    with pytest.raises(ValueError, match="forward_mode is not a node of the graph of y"):
        Stepper(y, forward_mode=Value(1.0, "elsewhere"))
    with pytest.raises(ValueError, match="forward_mode_inputs must be nodes of the graph"):
        Stepper(y, forward_mode=x, forward_mode_inputs=[Value(1.0)])
    with pytest.raises(ValueError, match="forward_mode_inputs is for forward_mode"):
        Stepper(y, forward_mode_inputs=[x])
