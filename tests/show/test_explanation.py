"""explain(): the article's chain-rule derivations, number for number, and any graph's."""

from __future__ import annotations

import math
import time

import pytest

from nn import MLP, mazur
from tinygrad_bp import Value, cli, explain
from tinygrad_bp.graph import topological_order
from tinygrad_bp.show import derivation
from tinygrad_bp.show.explanation import Explainer

# ../shared/REFERENCE.md: ∂E_total/∂w for the article's network
GRADIENTS = {
    "w1": 0.000438568,
    "w2": 0.000877135,
    "w3": 0.000497713,
    "w4": 0.000995425,
    "w5": 0.082167041,
    "w6": 0.082667628,
    "w7": -0.022602540,
    "w8": -0.022740242,
}


@pytest.fixture
def article() -> tuple[MLP, Value]:
    model, step = mazur.backpropagated()
    return model, step.E_total


def nine(x: float) -> float:
    return round(x, 9)


def numeric_gradient(model: MLP, label: str, h: float = 1e-6) -> float:
    """∂E_total/∂label by central differences of the forward pass alone."""
    w = mazur.weight(model, label)
    w.data += h
    up = mazur.forward(model).E_total.data
    w.data -= 2 * h
    down = mazur.forward(model).E_total.data
    w.data += h
    return (up - down) / (2 * h)


# -- the article ------------------------------------------------------------------------


def test_w5_as_the_article_writes_it(article: tuple[MLP, Value]) -> None:
    _, E_total = article
    assert explain(E_total, "w5").splitlines() == [
        "∂E_total/∂w5 = ∂E_total/∂out_o1 × ∂out_o1/∂net_o1 × ∂net_o1/∂w5",
        "             = 0.74136507 × 0.186815602 × 0.593269992 = 0.082167041",
    ]
    d = derivation(E_total, "w5")
    (factors,) = d.lines[0].terms
    assert [f.name for f in factors] == ["∂E_total/∂out_o1", "∂out_o1/∂net_o1", "∂net_o1/∂w5"]
    assert [nine(f.value) for f in factors] == [0.741365070, 0.186815602, 0.593269992]
    assert nine(d.value) == 0.082167041


def test_w1_with_the_sum_over_both_outputs(article: tuple[MLP, Value]) -> None:
    _, E_total = article
    text = explain(E_total, "w1")
    lines = [line.strip() for line in text.splitlines()]
    assert lines[:2] == [
        "∂E_total/∂w1 = ∂E_total/∂out_h1 × ∂out_h1/∂net_h1 × ∂net_h1/∂w1",
        "= 0.036350306 × 0.241300709 × 0.05 = 0.000438568",
    ]
    assert lines[2:4] == [
        "∂E_total/∂out_h1 = ∂E_o1/∂out_h1 + ∂E_o2/∂out_h1",
        "= 0.055399425 + -0.019049118 = 0.036350306",
    ]
    # each term as the article works it: ∂E_o1/∂out_h1 = ∂E_o1/∂net_o1 × ∂net_o1/∂out_h1
    assert "∂E_o1/∂out_h1 = ∂E_o1/∂net_o1 × ∂net_o1/∂out_h1" in lines
    assert "= 0.138498562 × 0.4 = 0.055399425" in lines
    assert "∂E_o1/∂net_o1 = ∂E_o1/∂out_o1 × ∂out_o1/∂net_o1" in lines
    assert "= 0.74136507 × 0.186815602 = 0.138498562" in lines
    assert "∂E_o2/∂out_h1 = ∂E_o2/∂net_o2 × ∂net_o2/∂out_h1" in lines
    assert "= -0.038098237 × 0.5 = -0.019049118" in lines

    d = derivation(E_total, "w1")
    assert nine(d.value) == 0.000438568
    head = d.lines[1]
    assert head.lhs.name == "∂E_total/∂out_h1" and nine(head.value) == 0.036350306
    assert [[nine(f.value) for f in t] for t in head.terms] == [[0.055399425], [-0.019049118]]


def test_every_weight_matches_the_reference_and_finite_differences(
    article: tuple[MLP, Value],
) -> None:
    model, E_total = article
    explainer = Explainer(E_total)
    for label, expected in GRADIENTS.items():
        d = explainer.derivation(label)
        assert nine(d.value) == expected, label
        assert d.value == pytest.approx(numeric_gradient(model, label), rel=1e-6), label
        assert f"= {expected:.9f}".rstrip("0") in d.text(), label
        assert d.notes == ()  # w.grad is this pass's: nothing to warn about


def test_the_numbers_are_backwards_and_the_recorded_edges(article: tuple[MLP, Value]) -> None:
    model, E_total = article
    d = derivation(E_total, "w1")
    top, sigmoid, edge = d.lines[0].terms[0]
    out_h1 = top.wrt
    assert top.kind == "gradient" and top.value == out_h1.grad
    assert sigmoid.kind == "local" and sigmoid.edges == ((out_h1, 0),)
    assert sigmoid.value == out_h1.local_grads[0]
    net_h1, k = edge.edges[0]
    assert net_h1.parents[k] is mazur.weight(model, "w1")
    assert edge.value == net_h1.local_grads[k] == 0.05
    # the folded factor of w5 is read from E_o1's edge, through E_total's 1
    folded = derivation(E_total, "w5").lines[0].terms[0][0]
    assert [c.label for c, _ in folded.edges] == ["E_o1", "E_total"]


def test_other_nodes_of_the_article(article: tuple[MLP, Value]) -> None:
    _, E_total = article
    # a leaf that feeds two neurons: a sum, each term through ∂E_total/∂net
    i1 = derivation(E_total, "i1")
    assert i1.lines[0].lhs.name == "∂E_total/∂i1"
    assert [[f.name for f in t] for t in i1.lines[0].terms] == [
        ["∂E_total/∂net_h1", "∂net_h1/∂i1"],
        ["∂E_total/∂net_h2", "∂net_h2/∂i1"],
    ]
    assert i1.value == pytest.approx(0.15 * 0.008771355 + 0.25 * 0.009954255, abs=1e-9)
    # an error term: one edge into the sum
    assert explain(E_total, "E_o1").splitlines()[0] == "∂E_total/∂E_o1 = 1"
    assert explain(E_total, "E_total").splitlines()[0] == "∂E_total/∂E_total = 1"
    # the shared bias b2: one term per output neuron
    b2 = derivation(E_total, "b2")
    assert [t[0].name for t in b2.lines[0].terms] == ["∂E_o1/∂b2", "∂E_o2/∂b2"]
    assert nine(b2.value) == nine(0.138498562 + -0.038098237)


# -- any graph --------------------------------------------------------------------------


def test_a_node_used_twice_adds_its_edges() -> None:
    a = Value(3.0, "a")
    b = a * a
    b.label = "b"
    b.backward()
    assert explain(b, a).splitlines()[0] == "∂b/∂a = 3 + 3 = 6"
    assert derivation(b, a).lines[0].terms[0][0].edges == ((b, 0), (b, 1))


def test_a_diamond_sums_over_both_branches_by_their_gradients() -> None:
    x = Value(0.3, "x")
    u, v = x.tanh(), x.exp()
    y = (u * v).sigmoid()
    y.backward()
    d = derivation(y, x)
    # the branches meet at [*], so neither term can be named after a summand
    assert [[f.name for f in t] for t in d.lines[0].terms] == [
        ["∂[sigmoid]/∂[tanh]", "∂[tanh]/∂x"],
        ["∂[sigmoid]/∂[exp]", "∂[exp]/∂x"],
    ]
    s = 1 / (1 + math.exp(-math.tanh(0.3) * math.exp(0.3)))
    by_hand = (
        s * (1 - s) * ((1 - math.tanh(0.3) ** 2) * math.exp(0.3) + math.tanh(0.3) * math.exp(0.3))
    )
    assert d.value == pytest.approx(by_hand, rel=1e-12)
    assert d.value == pytest.approx(x.grad, rel=1e-12)


def test_a_summand_name_is_used_only_where_it_is_exact() -> None:
    a, b = Value(2.0, "a"), Value(5.0, "b")
    c = a * b
    c.label = "c"
    d = c + a  # ∂d/∂a = ∂c/∂a + 1: a reaches c only through its edge into c
    d.label = "d"
    d.backward()
    assert explain(d, "a").splitlines()[:2] == ["∂d/∂a = ∂c/∂a + ∂d/∂a", "      = 5 + 1 = 6"]
    e = c * a + a
    e.label = "e"
    e.backward()
    terms = derivation(e, "a").lines[0].terms
    # c·a sits right under e's sum, but a reaches it both directly and through c: the
    # direct term is not all of ∂(c·a)/∂a, so it is not named so
    assert [[f.name for f in t] for t in terms] == [
        ["∂e/∂c", "∂c/∂a"],
        ["∂e/∂[*]", "∂[*]/∂a"],
        ["∂e/∂a"],
    ]
    assert derivation(e, "a").value == pytest.approx(2 * 2.0 * 5.0 + 1)


def test_unlabelled_and_repeated_names_are_readable() -> None:
    x = Value(1.0)
    y = (x * 2).tanh() + (x * 3).tanh()
    y.backward()
    text = explain(y, x)
    assert "∂[+]/∂[leaf]" in text
    assert "[*]#1" in text and "[*]#2" in text and "[tanh]#1" in text


def test_work_is_linear_even_with_exponentially_many_paths() -> None:
    x = Value(1.0, "x")
    y = x
    for _ in range(60):  # 2**60 paths from x to the root
        y = y * 0.5 + y * 0.5
    y.backward()
    start = time.perf_counter()
    d = derivation(y, x)
    assert time.perf_counter() - start < 1.0
    assert d.value == pytest.approx(1.0) and x.grad == pytest.approx(1.0)


def test_a_chain_far_past_the_recursion_limit() -> None:
    x = Value(1.0, "x")
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.label = "y"
    y.backward()
    d = derivation(y, x)
    assert len(d.lines[0].terms[0]) == 20_000
    assert d.value == pytest.approx(1.0001**20_000, rel=1e-9)
    text = d.text(max_factors=6)
    assert "… (19994 more)" in text and len(text) < 1000


# -- what cannot be derived --------------------------------------------------------------


def test_nodes_the_root_does_not_depend_on(article: tuple[MLP, Value]) -> None:
    model, E_total = article
    later = E_total * 2
    d = derivation(E_total, later)
    assert d.value == 0.0
    assert "is computed from E_total" in d.text()
    nodes = {n.label: n for n in topological_order(E_total) if n.label}
    E_o1 = nodes["E_o1"]
    w7 = mazur.weight(model, "w7")
    side = w7 * nodes["out_h1"]  # shares out_h1 with E_o1's graph, but E_o1 does not use it
    d = derivation(E_o1, side)
    assert d.value == 0.0 and d.text().startswith("∂E_o1/∂[*] = 0")
    assert "does not depend on" in d.text() and "out_h1" in d.text()
    with pytest.raises(ValueError, match="stranger is not in the graph of E_total"):
        explain(E_total, Value(1.0, "stranger"))
    with pytest.raises(ValueError, match="no node labelled 'w9'.*w5"):
        explain(E_total, "w9")


def test_a_label_must_name_one_node() -> None:
    a = Value(1.0, "t")
    b = a * 2
    b.label = "t"
    b.backward()
    with pytest.raises(ValueError, match="2 nodes are labelled 't'.*pass the Value itself"):
        explain(b, "t")
    assert explain(b, a).startswith("∂t#2/∂t#1 = 2")


def test_backward_must_have_run_from_the_root() -> None:
    a = Value(1.0, "a")
    b = a.exp()
    b.label = "b"
    with pytest.raises(ValueError, match=r"b.grad is 0.0, not 1: call b.backward\(\) first"):
        explain(b, a)


def test_an_accumulated_leaf_gradient_is_pointed_out() -> None:
    a = Value(2.0, "a")
    b = a * 3.0
    b.label = "b"
    b.backward()
    b.backward()
    d = derivation(b, a)
    assert d.value == 3.0  # this pass's contribution
    assert "a.grad holds 6.0" in d.text() and "adds up over backward() calls" in d.text()


def test_a_sum_that_is_inf_minus_inf_or_overflows_is_nan_or_inf_as_backward_gives() -> None:
    # x feeds two sqrt nodes whose local derivatives at 0 are inf: inf − inf in the sum
    x = Value(0.0, "x")
    y = x.sqrt() - x.sqrt()
    y.label = "y"
    y.backward()
    d = derivation(y, x)
    assert math.isnan(x.grad) and math.isnan(d.value)
    assert explain(y, x).splitlines()[1].endswith("= inf + -1 × inf = nan")
    # 1e308 + 1e308: each term is finite, the sum overflows
    a, b = Value(1.0, "a"), Value(1e308, "b")
    z = a * b + a * b
    z.label = "z"
    z.backward()
    assert a.grad == math.inf and derivation(z, a).value == math.inf
    assert explain(z, a).splitlines()[1].endswith("= 1e+308 + 1e+308 = inf")


def test_a_nan_gradient_gets_no_false_note() -> None:
    x = Value(0.0, "x")
    y = x.sqrt() * 0.0  # 0 × inf: the gradient is nan, and so is what explain derives
    y.label = "y"
    y.backward()
    assert math.isnan(x.grad)
    text = explain(y, x)
    assert "note" not in text and "adds up over backward() calls" not in text
    assert text.splitlines()[1].endswith("= 0 × inf = nan")
    # a leaf's grad left from an earlier pass still gets the note
    x.grad = math.nan
    y2 = x * 2.0
    y2.label = "y2"
    y2.backward()
    assert "a leaf's grad adds up over backward() calls" in explain(y2, x)


def test_labels_cannot_reach_the_terminal_raw() -> None:
    a = Value(1.0, "evil\x1b[2J\nname")
    b = a * 2
    b.backward()
    text = explain(b, a)
    assert "\x1b" not in text and "evil\\x1b[2J\\nname" in text
    assert len(text.splitlines()) == 2


# -- the command ---------------------------------------------------------------------------


def test_cli_explains_one_weight(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mazur", "--explain", "w5", "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "∂E_total/∂w5 = ∂E_total/∂out_o1 × ∂out_o1/∂net_o1 × ∂net_o1/∂w5" in out
    # from the first backward pass, though training went on to 3 updates
    assert "= 0.74136507 × 0.186815602 × 0.593269992 = 0.082167041" in out
    assert out.index("The forward pass") < out.index("∂E_total/∂w5 = ∂E_total/∂out_o1")
    assert "∂E_total/∂w1 = ∂E_total" not in out


def test_cli_explains_all_weights(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mazur", "--explain", "all"]) == 0
    out = capsys.readouterr().out
    for label, value in GRADIENTS.items():
        assert f"∂E_total/∂{label} = ∂E_total/∂" in out, label
        assert f" = {value:.9f}".rstrip("0") + "\n" in out, label
    assert "∂E_total/∂out_h1 = ∂E_o1/∂out_h1 + ∂E_o2/∂out_h1" in out


def test_cli_rejects_an_unknown_label(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["mazur", "--explain", "w9"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown label 'w9'" in err
    assert "all or one of: w1, w2, w3, w4, w5, w6, w7, w8, b1, b2" in err
