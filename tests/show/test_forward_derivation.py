"""Forward mode written out: each node's tangent = Σ local derivative × its parent's tangent.

The numbers are checked against closed forms (Baydin et al.'s example), the
article's figure, the engine's own forward sweep (``forward_mode.tangents``)
and reverse mode (``explain``).
"""

from __future__ import annotations

import math

import pytest

from nn import MLP
from tinygrad_bp import Value, total
from tinygrad_bp.forward_mode import tangents
from tinygrad_bp.graph import topological_order
from tinygrad_bp.show import ForwardDerivation, explain, explain_forward, forward_derivation
from tinygrad_bp.show.explanation import Explainer


def baydin() -> tuple[Value, Value, Value]:
    """f(x1, x2) = ln x1 + x1·x2 − sin x2 at (2, 5), after backward()."""
    x1, x2 = Value(2.0, "x1"), Value(5.0, "x2")
    f = x1.log() + x1 * x2 - x2.sin()
    f.label = "f"
    f.backward()
    return f, x1, x2


def test_baydins_example_by_one_sweep_per_input() -> None:
    f, x1, x2 = baydin()
    assert round(f.data, 3) == 11.652
    by_x1 = forward_derivation(f, x1)
    by_x2 = forward_derivation(f, "x2")
    assert by_x1.value == 5.5  # 1/x1 + x2, exactly
    assert round(by_x2.value, 3) == 1.716
    assert by_x2.value == pytest.approx(2.0 - math.cos(5.0), abs=1e-15)  # x1 − cos x2
    # Reverse mode gives the same: one backward sweep for both.
    assert (by_x1.reverse, by_x2.reverse) == (x1.grad, x2.grad)
    assert by_x1.visits == by_x2.visits == len(topological_order(f)) == 7


def test_baydins_lines_in_symbols_then_numbers() -> None:
    f, _, _ = baydin()
    text = explain_forward(f, "x1")
    lines = text.split("\n")
    assert lines[:3] == [
        "Forward mode for ∂f/∂x1: one sweep from the inputs, each node's tangent",
        "d(node)/dx1 = Σ over its edges of ∂node/∂parent × d(parent)/dx1",
        "seed: dx1/dx1 = 1, and 0 on every other leaf (x2)",
    ]
    assert "d[log]/dx1 = ∂[log]/∂x1 × dx1/dx1\n           = 0.5 × 1 = 0.5" in text
    product = [
        "d[*]/dx1 = ∂[*]/∂x1 × dx1/dx1 + ∂[*]/∂x2 × dx2/dx1",
        "         = 5 × 1 + 2 × 0 = 5",
    ]
    root = [
        "df/dx1 = ∂f/∂[+] × d[+]/dx1 + ∂f/∂[sin] × d[sin]/dx1",
        "       = 1 × 5.5 + -1 × 0 = 5.5",
    ]
    assert "\n".join(product) in text and "\n".join(root) in text
    assert lines[-1] == "∂f/∂x1 = df/dx1 = 5.5 by forward mode = 5.5 by reverse mode (backward)"
    last = explain_forward(f, "x2").split("\n")[-1]
    assert last == (
        "∂f/∂x2 = df/dx2 = 1.716337815 by forward mode = 1.716337815 by reverse mode (backward)"
    )
    # Reverse mode's own text ends on the same figure.
    assert "= 2 + -1 × 0.283662185 = 1.716337815\n" in explain(f, "x2")


def test_the_articles_w5_by_forward_mode(article: tuple[MLP, Value, dict[str, Value]]) -> None:
    _, root, nodes = article
    d = forward_derivation(root, "w5")
    assert round(d.value, 9) == 0.082167041
    assert d.value == pytest.approx(nodes["w5"].grad, rel=1e-12)
    # A line per node computed from others, in topological order: 11 of the 23.
    assert [line.node.label for line in d.lines] == [
        "net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "E_o1",
        "net_o2", "out_o2", "E_o2", "E_total",
    ]  # fmt: skip
    assert d.visits == 23
    text = d.text()
    # The three factors of the article's chain rule, met going forward.
    assert (
        "dnet_o1/dw5 = ∂net_o1/∂w5 × dw5/dw5 + ∂net_o1/∂w6 × dw6/dw5 + "
        "∂net_o1/∂out_h1 × dout_h1/dw5 + ∂net_o1/∂out_h2 × dout_h2/dw5 + "
        "∂net_o1/∂b2 × db2/dw5\n"
        "            = 0.593269992 × 1 + 0.596884378 × 0 + 0.4 × 0 + 0.45 × 0 + 1 × 0 "
        "= 0.593269992"
    ) in text
    assert "dout_o1/dw5 = ∂out_o1/∂net_o1 × dnet_o1/dw5\n" in text
    assert "= 0.186815602 × 0.593269992 = 0.110832091" in text
    assert "= 0.74136507 × 0.110832091 = 0.082167041" in text
    assert text.endswith(
        "∂E_total/∂w5 = dE_total/dw5 = 0.082167041 by forward mode "
        "= 0.082167041 by reverse mode (backward)"
    )
    assert "seed: dw5/dw5 = 1, and 0 on every other leaf (w6, w1, w2, i1, i2, b1, " in text


def test_every_tangent_is_the_engines_forward_sweep(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    _, root, nodes = article
    for label in ("w1", "w5", "w8", "b1", "i2"):
        d = forward_derivation(root, label)
        swept = tangents(root, {nodes[label]: 1.0})
        assert d.tangents == swept  # the same sums in the same order: equal, not just close
        assert d.value == swept[root]
        assert d.value == pytest.approx(d.reverse, rel=1e-12, abs=1e-15)


def test_a_node_used_twice_has_a_term_per_edge() -> None:
    a = Value(3.0, "a")
    b = a * a
    b.label = "b"
    b.backward()
    text = explain_forward(b, "a")
    assert "db/da = ∂b/∂a × da/da + ∂b/∂a × da/da\n      = 3 × 1 + 3 × 1 = 6" in text
    assert text.endswith("∂b/∂a = db/da = 6 by forward mode = 6 by reverse mode (backward)")


def test_a_node_computed_from_others_is_where_the_sweep_starts(
    article: tuple[MLP, Value, dict[str, Value]],
) -> None:
    _, root, nodes = article
    d = forward_derivation(root, "out_h1")
    assert d.value == pytest.approx(Explainer(root).derivation("out_h1").value, rel=1e-12)
    assert round(d.value, 9) == 0.036350306
    assert d.tangents[nodes["net_h1"]] == 0.0  # what out_h1 is computed from is held still
    assert d.tangents[nodes["out_h1"]] == 1.0
    assert "out_h1" not in [line.node.label for line in d.lines]
    assert "(out_h1 is computed from others: the sweep starts from it" in d.text()


def test_without_backward_there_is_no_reverse_figure() -> None:
    x = Value(0.5, "x")
    y = (x * 4.0).tanh()
    y.label = "y"
    d = forward_derivation(y, x)
    assert d.reverse is None
    assert d.value == pytest.approx(4.0 * (1.0 - math.tanh(2.0) ** 2), rel=1e-12)
    assert d.text().split("\n")[-1].endswith("by forward mode")


def test_the_root_itself_and_a_node_the_root_does_not_depend_on() -> None:
    x, w = Value(2.0, "x"), Value(3.0, "w")
    y = x * 2.0
    y.label = "y"
    z = y * w  # computed from y: y does not depend on it
    y.backward()
    d = forward_derivation(y, y)
    assert d.value == 1.0 and d.lines == ()
    assert d.text().split("\n")[-2:] == [
        "∂y/∂y = 1 by forward mode = 1 by reverse mode (backward)",
        "(the root itself: its tangent is the seed, dy/dy = 1)",
    ]
    absent = forward_derivation(y, z)
    assert absent.value == 0.0 and absent.seeds == ()
    assert "y does not depend on" in absent.text()
    with pytest.raises(ValueError, match="not in the graph of y"):
        forward_derivation(y, Value(1.0, "stranger"))
    with pytest.raises(ValueError, match="no node labelled 'nope'"):
        forward_derivation(y, "nope")


def test_labels_are_written_as_explain_writes_them() -> None:
    hostile = "w\x1b[31m\n<b>"
    w = Value(2.0, hostile)
    x = Value(3.0, "x")
    y = (w * x).tanh()
    y.label = "y"
    y.backward()
    text = explain_forward(y, w)
    assert "\x1b" not in text and "\n<b>" not in text
    shown = Explainer(y).names[w]
    assert shown == "w\\x1b[31m\\n<b>"
    assert f"seed: d{shown}/d{shown} = 1" in text
    assert f"∂y/∂{shown}" in explain(y, w) and f"∂y/∂{shown} = dy/d{shown}" in text


def test_a_long_sum_is_shortened_in_the_middle_and_still_adds_up() -> None:
    xs = [Value(float(k), f"x{k}") for k in range(20)]
    s = total([x * x for x in xs])
    s.label = "s"
    s.backward()
    d = forward_derivation(s, "x7")
    assert d.value == 14.0
    line = d.lines[-1].text()
    assert "⋯ (8 more)" in line and line.endswith("= 14")
    assert "x10" not in d.start_text()  # the leaves listed at 0 are shortened too
    assert isinstance(d, ForwardDerivation)
