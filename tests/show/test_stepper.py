"""The stepper page's content without a browser: steps, equations, escaping, errors.

What the page does in a browser is tested in tests/browser/.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from nn import MLP
from tinygrad_bp import Value, cli, draw, explain, op, total, weighted_sum
from tinygrad_bp.graph import topological_order
from tinygrad_bp.show import Stepper, save_stepper, stepper_html
from tinygrad_bp.show import stepper as stepper_module
from tinygrad_bp.show.drawing import DEFAULT_MAX_NODES

HOSTILE = "</script><script>alert(1)</script><!--"
HOSTILE_IMG = '<img src=x onerror="alert(2)">'


def page_json(page: str) -> Any:
    found = re.search(r'<script type="application/json" id="tg-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def labels_of(step: stepper_module.Step) -> list[str]:
    return [v.label for v in step.values]


# -- the steps ---------------------------------------------------------------------------


def test_the_articles_steps_forward_in_topological_order_backward_layer_by_layer(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    model, root, _ = article
    s = Stepper(root, parameters=model.parameters())
    counters = [step.counter for step in s.steps]
    assert counters == (
        ["start"]
        + [f"forward {k}/11" for k in range(1, 12)]
        + [f"backward {k}/23" for k in range(1, 24)]
    )
    # The leaves are given at the start; forward computes each other node once.
    assert sorted(labels_of(s.steps[0])) == sorted(
        ["i1", "i2", "b1", "b2"] + [f"w{k}" for k in range(1, 9)]
    )
    forward = [labels_of(step)[0] for step in s.steps[1:12]]
    assert forward == [
        "net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "E_o1",
        "net_o2", "out_o2", "E_o2", "E_total",
    ]  # fmt: skip
    # Backward as the article works it: the output layer's weights, then the hidden layer's.
    backward = [labels_of(step)[0] for step in s.steps[12:]]
    assert backward == [
        "E_total", "E_o1", "E_o2", "out_o1", "out_o2", "net_o1", "net_o2",
        "w5", "w6", "w7", "w8", "out_h1", "out_h2", "b2", "net_h1", "net_h2",
        "w1", "w2", "w3", "w4", "i1", "i2", "b1",
    ]  # fmt: skip
    assert s.steps[19].counter == "backward 8/23" and labels_of(s.steps[19]) == ["w5"]


def test_every_backward_step_comes_after_every_node_it_feeds() -> None:
    a, b = Value(1.5, "a"), Value(-2.0, "b")
    c = a * b
    d = (c + a).tanh() * c
    e = d.exp() + d * b
    e.label = "e"
    e.backward()
    s = Stepper(e)
    done: set[Value] = set()
    for step in (st for st in s.steps if st.kind == "backward"):
        (v,) = step.values
        assert all(consumer in done for consumer in topological_order(e) if v in consumer.parents)
        done.add(v)
    assert done == set(topological_order(e))


def test_w5s_step_is_explains_text_with_the_articles_four_numbers(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    model, root, nodes = article
    s = Stepper(root, parameters=model.parameters())
    step = s.steps[19]
    assert step.text == explain(root, "w5")
    for figure in ["0.74136507", "0.186815602", "0.593269992", "0.082167041"]:
        assert figure in step.text
    net_o1 = nodes["net_o1"]
    ids = s.drawing.edge_ids
    # The gradient came back along w5 -> net_o1's op -> net_o1.
    k = net_o1.parents.index(nodes["w5"])
    assert step.edges == (ids[(net_o1, k)], f"{s.drawing.node_ids[net_o1]}_out")
    assert step.node == s.drawing.node_ids[nodes["w5"]]
    assert step.sources == (s.drawing.node_ids[net_o1],)
    # The rest of the path: the edges whose local derivatives are the factors.
    out_o1 = nodes["out_o1"]
    assert ids[(out_o1, 0)] in step.path


def test_forward_equations_with_the_articles_figures(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    _, root, _ = article
    texts = {
        labels_of(step)[0]: step.text for step in Stepper(root).steps if step.kind == "forward"
    }
    assert texts["net_h1"] == (
        "net_h1 = w1·i1 + w2·i2 + b1\n       = 0.15 × 0.05 + 0.2 × 0.1 + 0.35 = 0.3775"
    )
    assert texts["out_h1"] == (
        "out_h1 = sigmoid(net_h1)\n       = sigmoid(0.3775) = 0.593269992"
    )  # fmt: skip
    assert texts["out_o1"].endswith("= sigmoid(1.105905967) = 0.75136507")
    assert texts["E_total"] == (
        "E_total = E_o1 + E_o2\n        = 0.274811083 + 0.023560026 = 0.298371109"
    )


def test_forward_equations_say_where_plain_numbers_went() -> None:
    x, y, w = Value(3.0, "x"), Value(0.5, "y"), Value(2.0, "w")
    nodes = {
        "scaled": x * 2.5,
        "plus": x + 1.0,
        "minus": 1.0 - x,
        "ratio": x / y,
        "summed": total([x, y, 4.0]),
        "net": weighted_sum([w], [1.5], 0.25),
        "neg": -y,
    }
    for name, v in nodes.items():
        v.label = name
    root = total(list(nodes.values()))
    root.label = "root"
    root.backward()
    texts = {
        labels_of(step)[0]: step.text for step in Stepper(root).steps if step.kind == "forward"
    }
    assert texts["scaled"] == "scaled = x × 2.5\n       = 3 × 2.5 = 7.5"  # the edge's local grad
    # A number beside a Value is kept by the node (in args) and written out.
    assert texts["plus"].splitlines()[:2] == ["plus = x + 1", "     = 3 + 1 = 4"]
    assert texts["minus"].splitlines()[:2] == ["minus = 1 - x", "      = 1 - 3 = -2"]
    assert "…" not in texts["plus"] + texts["minus"]
    assert texts["ratio"] == "ratio = x / y\n      = 3 / 0.5 = 6"
    assert texts["summed"].splitlines()[:2] == ["summed = x + y + 4", "       = 3 + 0.5 + 4 = 7.5"]
    assert texts["net"].splitlines()[:2] == ["net = w·1.5 + 0.25", "    = 2 × 1.5 + 0.25 = 3.25"]
    assert "…" not in texts["summed"] + texts["net"]  # every number the node was given is kept
    assert texts["neg"] == "neg = -y\n    = -(0.5) = -0.5"
    assert texts["root"].startswith("root = scaled + plus + minus + ratio + summed + net + neg\n")


def test_every_op_by_its_name_with_its_local_derivative() -> None:
    @op(name="sin")
    def sin(x: float) -> tuple[float, tuple[float]]:
        return math.sin(x), (math.cos(x),)

    @op(name="atan2")
    def atan2(y: float, x: float) -> tuple[float, tuple[float, float]]:
        r2 = x * x + y * y
        return math.atan2(y, x), (x / r2, -y / r2)

    x, y = Value(0.5, "x"), Value(2.0, "y")
    out = sin(x)
    out.label = "out"
    angle = atan2(y, x)
    angle.label = "angle"
    shifted = atan2(x, 3.0)  # a plain number gets no edge, and the node keeps it
    shifted.label = "shifted"
    rest = y % x
    rest.label = "rest"
    root = out + angle + shifted + rest
    root.label = "root"
    root.backward()
    s = Stepper(root, precision=6)
    texts = {labels_of(step)[0]: step.text for step in s.steps if step.kind == "forward"}
    assert texts["out"] == "out = sin(x)\n    = sin(0.5) = 0.479426"
    assert texts["angle"] == "angle = atan2(y, x)\n      = atan2(2, 0.5) = 1.325818"
    assert texts["shifted"].splitlines()[:2] == [
        "shifted = atan2(x, 3)",
        "        = atan2(0.5, 3) = 0.165149",
    ]
    assert texts["rest"] == "rest = y % x\n     = 2 % 0.5 = 0"
    # backward: the local derivative cos(0.5) is a factor, read from sin's edge
    back = {labels_of(step)[0]: step.text for step in s.steps if step.kind == "backward"}
    assert "∂out/∂x" in back["x"] and "0.877583" in back["x"]
    assert "∂out/∂x" in explain(root, x) and "0.877582562" in explain(root, x)
    assert explain(root, x, precision=6) == back["x"]
    # drawn: the op's node shows its name, its edge the local derivative
    g = draw(root, edge_labels=True, precision=6)
    assert "label=<sin>" in g.source and "label=<atan2>" in g.source
    edge = next(line for line in g.source.splitlines() if f"id={g.edge_ids[(out, 0)]}" in line)
    assert "label=0.877583" in edge


def test_a_long_sum_is_shortened_in_the_middle() -> None:
    xs = [Value(float(k), f"x{k}") for k in range(1, 31)]
    s = total(xs)
    s.label = "s"
    s.backward()
    (forward,) = [step for step in Stepper(s).steps if step.kind == "forward"]
    assert forward.text == (
        "s = x1 + x2 + x3 + x4 + x5 + x6 + ⋯ (18 more) + x25 + x26 + x27 + x28 + x29 + x30\n"
        "  = 1 + 2 + 3 + 4 + 5 + 6 + ⋯ (18 more) + 25 + 26 + 27 + 28 + 29 + 30 = 465"
    )


def test_a_collapsed_neuron_is_one_step_each_way(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    model, root, nodes = article
    s = Stepper(root, parameters=model.parameters(), collapse_neurons=True)
    counters = [step.counter for step in s.steps]
    # 4 neurons, E_o1, E_o2, E_total computed; 7 of them and i1, i2 get gradients.
    assert counters[-1] == "backward 9/9" and counters[7] == "forward 7/7"
    o1 = next(step for step in s.steps if step.kind == "backward" and "out_o1" in labels_of(step))
    assert labels_of(o1)[:2] == ["out_o1", "net_o1"]
    # Each folded weight is derived with its neuron; b2 (shared) with the last of its two.
    assert set(labels_of(o1)[2:]) == {"w5", "w6"}
    o2 = next(step for step in s.steps if step.kind == "backward" and "out_o2" in labels_of(step))
    assert set(labels_of(o2)[2:]) == {"w7", "w8", "b2"}
    assert explain(root, "out_o1") in o1.text and explain(root, "w5").splitlines()[0] in o1.text
    derived = {v for step in s.steps if step.kind == "backward" for v in step.values}
    assert derived == set(topological_order(root))
    forward = next(step for step in s.steps if step.kind == "forward")
    assert forward.text.splitlines()[0] == "net_h1 = w1·i1 + w2·i2 + b1"
    assert forward.text.splitlines()[2] == "out_h1 = sigmoid(net_h1)"


def test_a_collapsed_network_with_a_regularizer_derives_every_node_once() -> None:
    from nn.losses import l2

    model = MLP(2, [3, 1], seed=0)
    out = model([0.5, -1.0])
    assert isinstance(out, Value)
    loss = (out - 1.0) ** 2 + 0.01 * l2(model.parameters())
    loss.backward()
    s = Stepper(loss, collapse_neurons=True, parameters=model.parameters())
    # 4 neurons, then - ** l2 * + : one node each; every parameter folded into a neuron
    assert [step.counter for step in s.steps][-1] == "backward 9/9"
    derived = [v for step in s.steps if step.kind == "backward" for v in step.values]
    assert len(derived) == len(set(derived)) == len(topological_order(loss))


def test_a_collapsed_step_does_not_repeat_a_line() -> None:
    model = MLP(2, [3, 1], activation="tanh", seed=1)
    out = model([0.4, -0.7])
    assert isinstance(out, Value)
    loss = (out - 0.5) ** 2
    loss.backward()
    s = Stepper(loss, collapse_neurons=True)
    for step in s.steps:
        lines = [line for line in step.text.splitlines() if line.strip()]
        firsts = [line for line in lines if line.startswith("∂")]
        assert len(firsts) == len(set(firsts)), step.counter


def test_a_2_16_16_1_mlp_collapsed_within_the_drawing_limit(
    mlp_loss: tuple[MLP, Value],
) -> None:
    _, loss = mlp_loss
    with pytest.raises(ValueError, match="collapse_neurons=True"):
        Stepper(loss)
    s = Stepper(loss, collapse_neurons=True, precision=4)
    kinds = [step.kind for step in s.steps]
    assert kinds.count("backward") == 145  # the collapsed drawing's nodes
    derived = [v for step in s.steps if step.kind == "backward" for v in step.values]
    assert len(derived) == len(set(derived)) == len(topological_order(loss)) == 610
    data = page_json(s.html)
    assert len(data["nodes"]) == 145 <= DEFAULT_MAX_NODES


# -- the page ----------------------------------------------------------------------------


def test_the_page_holds_every_value_and_gradient_that_backward_computed(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    model, root, _ = article
    s = Stepper(root, parameters=model.parameters())
    data = page_json(s.html)
    by_id = {s.drawing.node_ids[v]: v for v in topological_order(root)}
    assert len(data["nodes"]) == len(by_id) == 23
    for node in data["nodes"]:
        v = by_id[node["id"]]
        assert float(node["data"].removeprefix("data ")) == pytest.approx(v.data, abs=5e-10)
        assert float(node["grad"].removeprefix("grad ")) == pytest.approx(v.grad, abs=5e-10)
        # Leaves are known from the start; every node's gradient at its backward step.
        assert node["known"] == (0 if not v.parents else data["steps"].index(
            next(st for st in data["steps"] if st["kind"] == "forward" and st["node"] == node["id"])
        ))  # fmt: skip
        assert data["steps"][node["derived"]]["node"] == node["id"]
    assert [st["counter"] for st in data["steps"]] == [step.counter for step in s.steps]
    assert data["steps"][19]["text"] == explain(root, "w5")
    # The SVG's data and grad cells are marked for the script.
    assert s.html.count('class="tg-data"') == s.html.count('class="tg-grad"') == 23


def test_the_page_is_self_contained(article: tuple[MLP, Value, dict[str, Value]]) -> None:
    _, root, _ = article
    page = stepper_html(root)
    assert page.startswith("<!DOCTYPE html>")
    without_namespace = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for needle in ["http:", "https:", "//cdn", "<link", "@import", "url(", " src=", "href="]:
        assert needle not in without_namespace, needle
    # Only the page's own script may run: the policy names it by its hash.
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert "default-src 'none'" in page


def test_hostile_labels_stay_text_in_the_graph_the_json_and_the_title() -> None:
    x = Value(1.0, HOSTILE)
    w = Value(2.0, HOSTILE_IMG)
    y = (x * w).tanh()
    y.label = "a\u2028b & <c>"
    y.backward()
    page = Stepper(y, title=f"title {HOSTILE}").html
    assert page.count("<script") == 2  # the JSON and the page's own script
    assert "alert(1)</script>" not in page and "<img" not in page and "<!--\n" not in page
    assert "\u2028" not in page.split('id="tg-data">')[1]
    data = page_json(page)
    names = {node["name"] for node in data["nodes"]}
    assert {HOSTILE, HOSTILE_IMG, "a\\u2028b & <c>"} <= names  # explain's names, unprintables shown
    assert data["title"] == f"title {HOSTILE}"
    assert f"<title>title {html.escape(HOSTILE)}</title>" in page
    assert html.escape(HOSTILE, quote=False) in page  # the SVG's text, escaped


def test_the_title_is_cleaned_as_labels_are_and_a_failed_save_leaves_no_file(
    tmp_path: Path,
) -> None:
    @op(name="odd\ud800\x1b")
    def odd(x: float) -> tuple[float, tuple[float]]:
        return 2 * x, (2.0,)

    x = Value(1.0, "x\ud800")
    y = odd(x)
    y.backward()
    target = tmp_path / "s.html"
    save_stepper(y, target, title="t\ud800 \x1b[31m\nnext\x00")
    page = target.read_text(encoding="utf-8")  # UTF-8 throughout
    shown = "t\\ud800 \\x1b[31m\\nnext\\x00"
    assert f"<title>{shown}</title>" in page and f'<h1 id="tg-title">{shown}</h1>' in page
    assert page_json(page)["title"] == shown
    assert "\x1b" not in page and "\x00" not in page
    assert "odd\\ud800\\x1b(x\\ud800)" in page_json(page)["steps"][1]["text"]

    # Whatever fails, it fails before the file is opened.
    s = Stepper(y)
    s.html = "\ud800"
    failed = tmp_path / "failed.html"
    with pytest.raises(UnicodeEncodeError):
        s.save(failed)
    assert not failed.exists()


def test_the_page_refuses_an_svg_with_anything_but_shapes_and_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = Value(1.0, "x")
    y = x.exp()
    y.backward()
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><g id="v0">{}</g></svg>'
    for inner, fault in [
        ("<script>alert(1)</script>", "<script> element"),
        ('<text onclick="alert(1)">x</text>', "'onclick' attribute"),
        ("<foreignObject/>", "<foreignObject> element"),
    ]:
        monkeypatch.setattr(stepper_module, "render_bytes", lambda g, f, i=inner: svg.format(i))
        with pytest.raises(RuntimeError, match=fault):
            Stepper(y)


def test_jupyter_shows_the_page_in_a_sandboxed_iframe(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    _, root, _ = article
    s = Stepper(root, title='say "<hi>"')
    shown = s._repr_html_()

    class Attributes(HTMLParser):
        found: list[dict[str, str | None]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "iframe":
                self.found.append(dict(attrs))

    parser = Attributes()
    parser.feed(shown)
    (iframe,) = parser.found
    assert iframe["srcdoc"] == s.html  # escaped, then read back whole
    assert iframe["sandbox"] == "allow-scripts"
    assert shown.count("<iframe") == 1 and "<script" not in shown.replace("&lt;script", "")


# -- errors ------------------------------------------------------------------------------


def test_bad_input_is_refused_with_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        Stepper(1.0)  # type: ignore[arg-type]
    x = Value(2.0, "x")
    y = x * x
    y.label = "y"
    with pytest.raises(ValueError, match=r"y\.grad is 0\.0, not 1: call y\.backward\(\) first"):
        Stepper(y)
    y.backward()
    with pytest.raises(ValueError, match="seconds_per_step must be a number from 0.05 to 60"):
        Stepper(y, seconds_per_step=0)
    with pytest.raises(ValueError, match="precision must be a whole number from 0 to 17"):
        Stepper(y, precision=40)
    with pytest.raises(ValueError, match="direction must be one of"):
        Stepper(y, direction="up")
    target = tmp_path / "never.html"
    with pytest.raises(ValueError, match="max_nodes=2"):
        save_stepper(y, target, max_nodes=1)
    assert not target.exists()  # built before anything is written


def test_a_single_value_is_one_backward_step() -> None:
    x = Value(4.0, "x")
    x.backward()
    s = Stepper(x)
    assert [step.counter for step in s.steps] == ["start", "backward 1/1"]
    assert s.steps[1].text == explain(x, x)


def test_a_gradient_of_inf_minus_inf_or_one_that_overflows_is_a_step_not_a_crash() -> None:
    x = Value(0.0, "x")
    y = x.sqrt() - x.sqrt()
    y.label = "y"
    y.backward()
    assert math.isnan(x.grad)
    (step,) = [s for s in Stepper(y).steps if s.kind == "backward" and x in s.values]
    assert step.text.splitlines()[1].endswith("= nan")
    a, b = Value(1.0, "a"), Value(1e308, "b")
    z = a * b + a * b
    z.backward()
    (step,) = [s for s in Stepper(z).steps if s.kind == "backward" and a in s.values]
    assert a.grad == math.inf and step.text.splitlines()[1].endswith("= inf")


# -- the command -------------------------------------------------------------------------


def test_viz_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "backprop.html"
    assert cli.main(["viz", "mazur", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "11 forward and 23 backward steps" in said
    page = out.read_text(encoding="utf-8")
    data = page_json(page)
    assert data["steps"][19]["counter"] == "backward 8/23"
    assert "0.74136507 × 0.186815602 × 0.593269992 = 0.082167041" in data["steps"][19]["text"]

    assert cli.main(["viz", "mazur", "-o", str(out), "--collapse-neurons"]) == 0
    assert "7 forward and 9 backward steps" in capsys.readouterr().out

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["viz", "mazur", "-o", str(tmp_path / "page.svg")])
    assert exit_info.value.code == 2
    assert "use a name ending in .html or .htm" in capsys.readouterr().err
    assert cli.main(["viz", "mazur", "-o", str(tmp_path / "missing" / "p.html")]) == 1
    assert "cannot write" in capsys.readouterr().err
