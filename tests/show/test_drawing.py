"""Drawing and rendering: DOT content, files of every format, no system Graphviz needed."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pygraphviz
import pytest

from nn import MLP, mazur
from nn.losses import l2
from tinygrad_bp import Value, cli, draw, op
from tinygrad_bp.graph import topological_order
from tinygrad_bp.show import Drawing, render, render_bytes
from tinygrad_bp.show import dot as dot_module
from tinygrad_bp.show.dot import HIGHLIGHT, LONG_EDGES_LAYOUT, slow_layout
from tinygrad_bp.show.drawing import DEFAULT_MAX_NODES
from tinygrad_bp.show.neurons import WEIGHTED_SUM_OP

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def path_without_dot() -> str:
    """PATH with every directory that holds a ``dot`` program left out."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and not (Path(d) / "dot").exists())


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", path_without_dot())
    assert shutil.which("dot") is None


@pytest.fixture
def article() -> tuple[MLP, mazur.ForwardPass, dict[str, Value]]:
    model, step = mazur.backpropagated()
    nodes = {n.label: n for n in topological_order(step.E_total) if n.label}
    return model, step, nodes


def parsed(drawing: Drawing) -> pygraphviz.AGraph:
    return pygraphviz.AGraph(string=drawing.source)


def svg_texts(svg: bytes | str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


# -- the DOT source ---------------------------------------------------------------


def test_dot_source_holds_every_label_data_and_grad() -> None:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    d.backward()
    # by hand: d = ab + a, ∂d/∂a = b + 1 = -2, ∂d/∂b = a = 2
    expected = {a: (2.0, -2.0), b: (-3.0, 2.0), c: (-6.0, 1.0), d: (-4.0, 1.0)}
    g = draw(d, precision=3)
    agraph = parsed(g)
    assert agraph.number_of_nodes() == 4 + 2  # four records, two op nodes
    for v, (data, grad) in expected.items():
        label = agraph.get_node(g.node_ids[v]).attr["label"]
        assert f"<b>{v.label}</b>" in label
        assert f"data {data:.3f}" in label and f"grad {grad:.3f}" in label
    assert agraph.get_node(g.node_ids[c] + "_op").attr["label"] == "*"
    assert agraph.get_node(g.node_ids[d] + "_op").attr["label"] == "+"


def test_a_times_a_gives_two_edges_labelled_with_their_local_derivatives() -> None:
    a = Value(3.0, "a")
    b = a * a
    b.backward()
    g = draw(b, edge_labels=True, precision=2)
    agraph = parsed(g)
    into_op = [e for e in agraph.edges(keys=True) if e[1] == g.node_ids[b] + "_op"]
    assert len(into_op) == 2 and all(e[0] == g.node_ids[a] for e in into_op)
    assert g.edge_ids[(b, 0)] != g.edge_ids[(b, 1)]
    labels = [agraph.get_edge(*e).attr["label"] for e in into_op]
    assert labels == ["3.00", "3.00"]  # ∂(a·a)/∂a per edge is the other factor, a


def test_edges_come_in_parent_order_with_their_own_local_derivatives() -> None:
    x, y = Value(5.0, "x"), Value(2.0, "y")
    z = x / y  # ∂z/∂x = 1/y = 0.5, ∂z/∂y = -x/y² = -1.25
    z.backward()
    g = draw(z, edge_labels=True)
    lines = [line.strip() for line in g.source.splitlines()]
    e0 = next(i for i, s in enumerate(lines) if f"id={g.edge_ids[(z, 0)]}" in s)
    e1 = next(i for i, s in enumerate(lines) if f"id={g.edge_ids[(z, 1)]}" in s)
    assert e0 < e1
    assert lines[e0].startswith(f"{g.node_ids[x]} -> ") and "label=0.5000 " in lines[e0]
    assert lines[e1].startswith(f"{g.node_ids[y]} -> ") and "label=-1.2500 " in lines[e1]


def test_direction_precision_and_colours() -> None:
    w, x = Value(0.5, "w"), Value(2.0, "x")
    y = (w * x).relu()
    y.backward()
    assert "rankdir=LR" in draw(y).source
    assert "rankdir=TB" in draw(y, direction="TB").source
    g = draw(y, parameters=[w])
    agraph = parsed(g)

    def fill(v: Value) -> str:
        return agraph.get_node(g.node_ids[v]).attr["label"].split('bgcolor="')[1][:7]

    colours = {fill(w), fill(x), fill(y), fill(y.parents[0])}
    assert len(colours) == 4  # parameter, input, root, intermediate all apart
    plain = draw(y, color=False)
    assert plain.source.count('bgcolor="#ffffff"') == 4
    assert "data 0.5000000" in draw(y, precision=7).source
    with pytest.raises(ValueError, match="direction must be one of LR, TB, RL, BT, got 'up'"):
        draw(y, direction="up")
    with pytest.raises(ValueError, match="precision must be a whole number from 0 to 17"):
        draw(y, precision=-1)
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        draw(1.0)  # type: ignore[arg-type]


def test_highlight_marks_the_path_from_a_node_to_the_root(
    article: tuple[MLP, mazur.ForwardPass, dict[str, Value]],
) -> None:
    _, step, nodes = article
    g = draw(step.E_total, highlight=nodes["w1"])
    agraph = parsed(g)
    lit = {
        label
        for label, v in nodes.items()
        if HIGHLIGHT in agraph.get_node(g.node_ids[v]).attr["label"]
    }
    # w1 feeds net_h1 → out_h1, which feeds both output neurons and so both errors
    assert lit == {
        "w1", "net_h1", "out_h1", "net_o1", "net_o2", "out_o1", "out_o2",
        "E_o1", "E_o2", "E_total",
    }  # fmt: skip
    red_edges = [e for e in agraph.edges() if agraph.get_edge(*e).attr["color"] == HIGHLIGHT]
    # w1→Σ, Σ→net_h1, net_h1→σ, σ→out_h1, out_h1→Σ (×2), Σ→net_o (×2), net_o→σ (×2),
    # σ→out_o (×2), out_o→½(t−o)² (×2), →E_o (×2), E_o→+ (×2), +→E_total
    assert len(red_edges) == 19
    with pytest.raises(ValueError, match="highlight 'stranger' is not in the graph of 'E_total'"):
        draw(step.E_total, highlight=Value(1.0, "stranger"))


def test_node_ids_are_stable_and_become_svg_ids(no_dot: None) -> None:
    a, b = Value(1.5, "a"), Value(-0.5, "b")
    y = (a * b).tanh()
    y.backward()
    first, second = draw(y), draw(y)
    assert first.node_ids == second.node_ids and first.edge_ids == second.edge_ids
    root = ET.fromstring(render_bytes(first, "svg"))
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert set(first.node_ids.values()) <= ids
    assert set(first.edge_ids.values()) <= ids


# -- labels are text ---------------------------------------------------------------

HOSTILE = 'x" ]; evil [color=red]; <b>bold</b> {a|b} \\N & \\\\G\nline2 \x1b[31m'


def test_hostile_labels_stay_text(no_dot: None) -> None:
    @op(name='<i>"op"</i> {|}')
    def odd(x: float) -> tuple[float, tuple[float]]:
        return 2 * x, (2.0,)

    a = Value(1.0, HOSTILE)
    b = odd(a)
    b.label = "}|{<>"
    b.backward()
    g = draw(b, edge_labels=True)
    agraph = parsed(g)
    assert sorted(agraph.nodes()) == sorted([g.node_ids[a], g.node_ids[b], g.node_ids[b] + "_op"])
    assert agraph.number_of_edges() == 2
    for name in agraph.nodes():
        assert set(agraph.get_node(name).attr.keys()) >= {"label"}
        assert agraph.get_node(name).attr.get("color") in (None, "")  # nothing injected
    texts = svg_texts(render_bytes(g, "svg"))
    joined = "\n".join(texts)
    # every character comes out as itself: the newline as a line break, ESC as \x1b
    assert 'x" ]; evil [color=red]; <b>bold</b> {a|b} \\N & \\\\G' in joined
    assert "line2 \\x1b[31m" in joined
    assert '<i>"op"</i> {|}' in joined
    assert "}|{<>" in joined
    assert "evil" not in agraph.nodes()


def test_a_very_long_label_is_cut() -> None:
    v = Value(1.0, "x" * 20_000)
    assert "x" * 79 + "…" in draw(v).source
    assert render_bytes(draw(v), "svg").startswith(b"<?xml")


# -- files, without any dot on PATH ---------------------------------------------------


def test_svg_png_pdf_and_dot_files_with_no_dot_on_path(
    no_dot: None, tmp_path: Path, article: tuple[MLP, mazur.ForwardPass, dict[str, Value]]
) -> None:
    model, step, nodes = article
    g = draw(step.E_total, parameters=model.parameters())
    texts = svg_texts(render(g, tmp_path / "g.svg").read_text(encoding="utf-8"))
    for label in ["w1", "w5", "b2", "i1", "net_h1", "out_o2", "E_o1", "E_total"]:
        assert label in texts
    assert "data 0.4000" in texts and "grad 0.0822" in texts  # w5, ∂E_total/∂w5 = 0.082167041

    png = render(g, tmp_path / "g.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert width > 500 and height > 100

    assert render(g, tmp_path / "G.PDF").read_bytes().startswith(b"%PDF")
    assert render(g, tmp_path / "g.dot").read_text(encoding="utf-8") == g.source


def test_an_unknown_extension_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.dot"):
        render(draw(Value(1.0)), tmp_path / "g.jpeg")
    with pytest.raises(ValueError, match="no extension"):
        render(draw(Value(1.0)), tmp_path / "g")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="unsupported format 'gif'"):
        render_bytes(draw(Value(1.0)), "gif")
    with pytest.raises(ValueError, match="could not parse"):
        render_bytes("digraph {", "svg")


def test_jupyter_displays_svg_with_no_dot_on_path(no_dot: None) -> None:
    x = Value(0.5, "x")
    y = x.sigmoid()
    y.backward()
    bundle = draw(y)._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    assert "x" in svg_texts(bundle["image/svg+xml"])
    png = draw(y)._repr_mimebundle_(include=["image/png"])["image/png"]
    assert png.startswith(PNG_SIGNATURE)


# -- big graphs -------------------------------------------------------------------------


def test_the_node_limit_and_the_collapsed_view_on_a_2_16_16_1_mlp(
    mlp_loss: tuple[MLP, Value],
) -> None:
    model, loss = mlp_loss
    total = len(topological_order(loss))
    # 337 parameters, and per point 33 nets, 32 ReLUs, "-" and "**"; then 4 "+" and a 0
    assert total == 337 + 4 * (33 + 32 + 2) + 4 + 1 == 610
    with pytest.raises(ValueError) as refused:
        draw(loss)
    message = str(refused.value)
    assert f"the graph has 610 nodes, more than max_nodes={DEFAULT_MAX_NODES}" in message
    assert "draw(root, max_nodes=610)" in message
    assert "draw(root, collapse_neurons=True) (145 nodes)" in message

    g = draw(loss, collapse_neurons=True)
    agraph = parsed(g)
    records = [n for n in agraph.nodes() if not n.endswith("_op")]
    # one node per neuron per point (4 · 33), the 4·3 loss nodes, the starting 0
    assert len(records) == 4 * 33 + 4 * 3 + 1 == 145 < DEFAULT_MAX_NODES
    labels = [agraph.get_node(n).attr["label"] for n in records]
    assert sum("relu(Σwx+b), 3 params" in s for s in labels) == 4 * 16  # 2 weights + bias
    assert sum("relu(Σwx+b), 17 params" in s for s in labels) == 4 * 16
    assert sum(f"{WEIGHTED_SUM_OP}, 17 params" in s for s in labels) == 4  # linear output
    for p in model.parameters():  # folded away, mapped to a neuron's node
        assert g.node_ids[p] in records
    # an output neuron's node shows its output's data and grad
    out = next(v for v in topological_order(loss) if v.label == "net_o1")
    assert f"data {out.data:.4f}" in agraph.get_node(g.node_ids[out]).attr["label"]
    assert f"grad {out.grad:.4f}" in agraph.get_node(g.node_ids[out]).attr["label"]
    assert render_bytes(g, "svg").startswith(b"<?xml")

    assert len(draw(loss, max_nodes=610).node_ids) == 610
    # the advice is a setting that works: still collapsed, with the limit raised
    with pytest.raises(
        ValueError, match="raise the limit: draw\\(root, collapse_neurons=True, max_nodes=145\\)$"
    ):
        draw(loss, collapse_neurons=True, max_nodes=100)


def test_collapsing_folds_weights_that_also_feed_a_regularizer(
    mlp_loss: tuple[MLP, Value],
) -> None:
    model, loss = mlp_loss
    params = model.parameters()
    reg = l2(params)
    objective = loss + 1e-4 * reg
    objective.backward()
    g = draw(objective, collapse_neurons=True)
    agraph = parsed(g)
    records = {n for n in agraph.nodes() if not n.endswith("_op")}
    # the 145 nodes of the loss alone, and l2, 1e-4 * l2, loss + ...
    assert len(records) == 145 + 3
    neurons = {n for n in records if "Σwx+b" in agraph.get_node(n).attr["label"]}
    assert {g.node_ids[p] for p in params} <= neurons  # every parameter folded
    # the regularizer's edges come from the neurons that hold the parameters
    tails = [tail for tail, _ in agraph.in_edges(g.node_ids[reg] + "_op")]
    assert len(tails) == len(params) and set(tails) == {g.node_ids[p] for p in params}
    assert all(g.edge_ids[(reg, k)] for k in range(len(params)))

    # past the limit even collapsed: the advice is a setting that works, with its size
    with pytest.raises(ValueError) as refused:
        draw(objective, max_nodes=100)
    message = str(refused.value)
    assert "draw(root, collapse_neurons=True, max_nodes=148) (148 nodes)" in message
    assert len(set(draw(objective, collapse_neurons=True, max_nodes=148).node_ids.values())) == 148


def test_highlight_takes_a_label_of_one_node() -> None:
    a, b = Value(2.0, "a"), Value(3.0, "b")
    c = a * b + b
    c.label = "c"
    c.backward()
    assert draw(c, highlight="a").source == draw(c, highlight=a).source
    with pytest.raises(ValueError, match="draw: no node labelled 'z' in the graph of 'c'.*a, b"):
        draw(c, highlight="z")
    twice = a * a
    twice.label = "a"
    (twice + c).backward()
    with pytest.raises(ValueError, match="2 nodes are labelled 'a'.*pass the Value itself"):
        draw(twice + c, highlight="a")
    with pytest.raises(TypeError, match="highlight must be a Value or a label, got int"):
        draw(c, highlight=5)  # type: ignore[arg-type]


def test_collapsed_article_network_keeps_inputs_and_shows_each_neuron(
    article: tuple[MLP, mazur.ForwardPass, dict[str, Value]],
) -> None:
    _, step, nodes = article
    g = draw(step.E_total, collapse_neurons=True, edge_labels=True, precision=9)
    agraph = parsed(g)
    shown = {
        label
        for label, v in nodes.items()
        if f"<b>{label}</b>" in agraph.get_node(g.node_ids[v]).attr["label"]
    }
    assert shown == {"i1", "i2", "out_h1", "out_h2", "out_o1", "out_o2", "E_o1", "E_o2", "E_total"}
    assert g.node_ids[nodes["net_o1"]] == g.node_ids[nodes["out_o1"]]
    assert g.node_ids[nodes["w5"]] == g.node_ids[nodes["out_o1"]]
    # out_h1 → out_o1 carries ∂out_o1/∂out_h1 = ∂out_o1/∂net_o1 · w5 = 0.186815602 · 0.40
    edge = agraph.get_edge(g.node_ids[nodes["out_h1"]], g.node_ids[nodes["out_o1"]])
    assert edge.attr["label"] == f"{0.186815602 * 0.40:.9f}"


def test_big_graphs_are_laid_out_in_seconds(
    mlp_loss: tuple[MLP, Value], article: tuple[MLP, mazur.ForwardPass, dict[str, Value]]
) -> None:
    # One input fed to nodes far apart along a chain: each edge crosses every rank
    # between, and Graphviz took minutes (155 s of CPU for these 151 nodes).
    x = Value(0.5, "x")
    y = x
    for k in range(100):
        y = (y * 0.999).tanh() if k % 2 else y + x
    y.backward()
    g = draw(y, edge_labels=True)
    start = time.process_time()  # Graphviz runs in this process
    svg = render_bytes(g, "svg")
    assert time.process_time() - start < 10.0
    assert len(svg_texts(svg)) > 151
    assert "splines=false" in g.source  # its edges are drawn straight
    # Past QUICK_LAYOUT_FROM nodes the layout passes stop early; the article is drawn as ever.
    _, loss = mlp_loss
    assert "mclimit=0.1" in draw(loss, max_nodes=610).source
    _, step, _ = article
    assert "mclimit" not in draw(step.E_total).source
    assert "splines" not in draw(step.E_total).source


def sum_of_tanhs(n: int) -> Value:
    """tanh(x*w1) + … + tanh(x*wn), backpropagated: x feeds nodes 2 to 2n ranks away."""
    x = Value(0.5, "x")
    terms = [(x * Value(k / n, f"w{k}")).tanh() for k in range(1, n + 1)]
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    out.backward()
    return out


def graph_attrs(g: Drawing) -> dict[str, str]:
    """The attributes of the DOT source's graph statement."""
    (statement,) = re.findall(r"^\tgraph \[(.*)\]$", g.source, flags=re.M)
    return dict(pair.split("=", 1) for pair in statement.split())


def test_a_graph_whose_edges_cross_many_ranks_is_drawn_straight_with_passes_cut_short() -> None:
    # One input feeding every term of a long sum: 99 terms took 255 s with curved
    # edges (59: 35 s); with these settings 0.8 s (59: 0.2 s).
    for n in (59, 99):
        g = draw(sum_of_tanhs(n), edge_labels=True)
        attrs = graph_attrs(g)
        assert {k: attrs.get(k) for k in LONG_EDGES_LAYOUT} == LONG_EDGES_LAYOUT, n
        assert attrs["splines"] == "false" and attrs["nslimit1"] == "0.001"
        assert not slow_layout(g)
    # 250 terms (1,000 nodes, the most the command line takes) is still drawn; it is slow
    assert slow_layout(draw(sum_of_tanhs(250), max_nodes=1000))
    # a short sum keeps its curved edges and the full passes, as ever
    small = graph_attrs(draw(sum_of_tanhs(10), edge_labels=True))
    assert not {"splines", "mclimit", "nslimit", "nslimit1", "remincross"} & set(small)


def test_the_command_says_when_a_layout_will_be_slow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the article's network: 23 nodes, 73 with its op nodes and edges (and no hidden node)
    monkeypatch.setattr(dot_module, "SLOW_LAYOUT_FROM", 73)
    for command, name in [("draw", "g.svg"), ("viz", "g.html")]:
        assert cli.main([command, "mazur", "-o", str(tmp_path / name)]) == 0
        err = capsys.readouterr().err
        assert err.startswith(f"tinygrad-bp {command}: laying out 23 nodes whose edges cross many")
        assert "may take from several seconds to minutes\n" in err
    assert cli.main(["draw", "mazur", "-o", str(tmp_path / "g.dot")]) == 0
    assert capsys.readouterr().err == ""  # DOT source is not laid out
    monkeypatch.setattr(dot_module, "SLOW_LAYOUT_FROM", 74)
    assert cli.main(["draw", "mazur", "-o", str(tmp_path / "g.svg")]) == 0
    assert capsys.readouterr().err == ""


def test_walks_are_iterative(no_dot: None) -> None:
    x = Value(1.0, "x")
    y = x
    for _ in range(5_000):  # far past Python's recursion limit
        y = y * 1.0
    y.backward()
    with pytest.raises(ValueError, match="the graph has 5001 nodes"):
        draw(y)
    assert len(draw(y, max_nodes=5_001).node_ids) == 5_001


# -- the command --------------------------------------------------------------------------


def test_cli_draws_the_article_in_every_format(tmp_path: Path, no_dot: None) -> None:
    for ext in ["svg", "png", "pdf", "dot"]:
        assert cli.main(["draw", "mazur", "-o", str(tmp_path / f"mazur.{ext}")]) == 0
    texts = svg_texts((tmp_path / "mazur.svg").read_bytes())
    for figure in ["w5", "data 0.400000000", "grad 0.082167041", "E_total", "data 0.298371109"]:
        assert figure in texts, figure
    assert "0.186815602" in texts  # ∂out_o1/∂net_o1 on its edge
    assert (tmp_path / "mazur.png").read_bytes().startswith(PNG_SIGNATURE)
    assert (tmp_path / "mazur.pdf").read_bytes().startswith(b"%PDF")
    dot = (tmp_path / "mazur.dot").read_text(encoding="utf-8")
    assert dot.startswith("digraph") and "<b>w5</b>" in dot


def test_cli_rejects_an_unknown_extension_and_a_bad_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["draw", "mazur", "-o", str(tmp_path / "g.jpg")])
    assert exit_info.value.code == 2
    assert "use one of .svg, .png, .pdf, .dot" in capsys.readouterr().err
    # A label is checked against the graph once it is built: one line, status 1.
    assert cli.main(["draw", "mazur", "-o", str(tmp_path / "g.svg"), "--highlight", "w9"]) == 1
    assert "unknown label 'w9'" in capsys.readouterr().err
    assert cli.main(["draw", "mazur", "-o", str(tmp_path / "missing" / "g.svg")]) == 1
    assert "cannot write" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_command_renders_in_a_fresh_process_with_no_dot_on_path(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=path_without_dot())
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_bp", "draw", "mazur", "-o", "g.svg", "--highlight", "w5"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    assert "Wrote g.svg" in done.stdout
    assert "Fontconfig" not in done.stderr
    texts = svg_texts((tmp_path / "g.svg").read_bytes())
    assert "w5" in texts and "E_total" in texts


def test_the_collapsed_view_knows_the_engines_ops() -> None:
    from tinygrad_bp import weighted_sum
    from tinygrad_bp.show.neurons import ACTIVATIONS, is_net

    x = Value(0.5)
    net = weighted_sum([x], [2.0], 1.0)
    assert is_net(net) and net.op == WEIGHTED_SUM_OP and not is_net(x * 2.0)
    assert {x.sigmoid().creator, x.tanh().creator, x.relu().creator} == ACTIVATIONS
