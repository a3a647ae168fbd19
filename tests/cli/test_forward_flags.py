"""explain --forward and viz --forward: forward mode on the command line, beside reverse mode."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from nn import mazur
from tinygrad_bp import cli
from tinygrad_bp.show import explain_forward

BAYDIN = ["f = log(x1) + x1*x2 - sin(x2)", "x1=2", "x2=5"]
ARTICLE_SWEEPS = (
    "forward mode: 8 sweeps of 23 node visits (184 in all); reverse mode: 1 sweep of 23"
)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def page_json(page: str) -> Any:
    found = re.search(r'<script type="application/json" id="tg-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


# -- explain --forward --------------------------------------------------------------------
def test_explain_forward_baydins_example(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["explain", *BAYDIN, "--forward", "--wrt", "x1"], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[:5] == [
        "f = log(x1) + x1*x2 - sin(x2) = 11.652071455",
        "",
        "Forward mode for ∂f/∂x1: one sweep from the inputs, each node's tangent",
        "d(node)/dx1 = Σ over its edges of ∂node/∂parent × d(parent)/dx1",
        "seed: dx1/dx1 = 1, and 0 on every other leaf (x2)",
    ]
    assert "d[+]/dx1 = ∂[+]/∂[log] × d[log]/dx1 + ∂[+]/∂[*] × d[*]/dx1" in lines
    assert lines[-1] == "∂f/∂x1 = df/dx1 = 5.5 by forward mode = 5.5 by reverse mode (backward)"
    status, out, _ = run(
        ["explain", *BAYDIN, "--forward", "--wrt", "x2", "--precision", "3"], capsys
    )
    assert out.splitlines()[-1] == (
        "∂f/∂x2 = df/dx2 = 1.716 by forward mode = 1.716 by reverse mode (backward)"
    )


def test_explain_forward_all_is_a_sweep_per_input_and_the_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(["explain", *BAYDIN, "--forward"], capsys)
    assert status == 0, err
    assert out.count("Forward mode for ") == 2
    assert "∂f/∂x1 = df/dx1 = 5.5 by forward mode = 5.5 by reverse mode (backward)\n" in out
    assert out.endswith(
        "\n\nforward mode: 2 sweeps of 7 node visits (14 in all); reverse mode: 1 sweep of 7\n"
    )


def test_explain_forward_the_article(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["explain", "mazur", "--forward", "--wrt", "w5"], capsys)
    assert status == 0, err
    _, step = mazur.backpropagated()
    assert out == f"E_total = 0.298371109\n\n{explain_forward(step.E_total, 'w5')}\n"
    assert out.splitlines()[-1] == (
        "∂E_total/∂w5 = dE_total/dw5 = 0.082167041 by forward mode "
        "= 0.082167041 by reverse mode (backward)"
    )
    # Reverse mode's own explain ends on the same figure.
    status, back, _ = run(["explain", "mazur", "--wrt", "w5"], capsys)
    assert back.splitlines()[-1].endswith("= 0.082167041")
    # Every weight: eight sweeps, and what they cost against one backward sweep.
    status, out, _ = run(["explain", "mazur", "--forward"], capsys)
    assert status == 0
    assert out.count("Forward mode for ∂E_total/∂w") == 8
    assert out.splitlines()[-1] == ARTICLE_SWEEPS


def test_explain_forward_escapes_labels_as_explain_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "odd.py"
    path.write_text(
        textwrap.dedent(
            """
            from tinygrad_bp import Value

            def odd():
                x = Value(2.0, "x\\x1b[31m")
                y = x * x
                y.label = "y\\x00"
                return y
            """
        )
    )
    status, out, err = run(["explain", f"{path}:odd", "--forward"], capsys)
    assert status == 0, err
    assert "\x1b" not in out and "\x00" not in out
    assert "dy\\x00/dx\\x1b[31m = ∂y\\x00/∂x\\x1b[31m × dx\\x1b[31m/dx\\x1b[31m + " in out
    assert out.splitlines()[-1].startswith("∂y\\x00/∂x\\x1b[31m = dy\\x00/dx\\x1b[31m = 4 by")
    status, back, _ = run(["explain", f"{path}:odd"], capsys)
    assert back.splitlines()[0] == out.splitlines()[0] == "y\\x00 = 4"


def test_explain_forward_of_an_unknown_label_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(["explain", *BAYDIN, "--forward", "--wrt", "x3"], capsys)
    assert status == 1 and len(err.splitlines()) == 1
    assert err.startswith("tinygrad-bp: error: --wrt: unknown label 'x3'")


# -- viz --forward ------------------------------------------------------------------------
def test_viz_forward_the_article(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "both.html"
    status, out, err = run(
        ["viz", "mazur", "--forward", "--wrt", "w5", "--updates", "0", "-o", str(target)], capsys
    )
    assert status == 0, err
    assert out.splitlines() == [
        f"Wrote {target}: the article's network in 11 forward, 12 forward-mode steps (tangents "
        "with respect to w5) and 23 backward steps, 8 update steps, the forward pass again; "
        "open it in a browser (Right/Left step, Space plays)",
        ARTICLE_SWEEPS,
    ]
    data = page_json(target.read_text(encoding="utf-8"))
    assert data["sweeps"] == ARTICLE_SWEEPS
    last = next(s for s in data["steps"] if s["counter"] == "tangent 11/11")
    assert last["text"].endswith(
        "= 0.082167041 by forward mode = 0.082167041 by reverse mode (backward)"
    )


def test_viz_forward_defaults_to_the_first_parameter_or_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "baydin.html"
    status, out, err = run(["viz", *BAYDIN, "--forward", "-o", str(target)], capsys)
    assert status == 0, err
    assert "6 forward-mode steps (tangents with respect to x1)" in out
    assert out.splitlines()[-1] == (
        "forward mode: 2 sweeps of 7 node visits (14 in all); reverse mode: 1 sweep of 7"
    )
    data = page_json(target.read_text(encoding="utf-8"))
    f = next(n for n in data["nodes"] if n["name"] == "f")
    assert f["tangent"] == "tangent 5.500000000"
    # Named parameters: the first of them, and the count is over them alone.
    status, out, err = run(
        ["viz", *BAYDIN, "--parameters", "x2", "--forward", "--updates", "0", "-o", str(target)],
        capsys,
    )
    assert status == 0, err
    assert "(tangents with respect to x2)" in out
    assert out.splitlines()[-1].startswith("forward mode: 1 sweep")


def test_viz_forward_of_a_function_with_no_label_sweeps_from_its_first_leaf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bare.py"
    path.write_text(
        "from tinygrad_bp import Value\n\n"
        "def bare():\n"
        "    return (Value(2.0) * Value(3.0)).tanh()\n"
    )
    target = tmp_path / "bare.html"
    status, out, err = run(["viz", f"{path}:bare", "--forward", "-o", str(target)], capsys)
    assert status == 0, err
    assert "(tangents with respect to [leaf]#1)" in out
    assert out.splitlines()[-1] == (
        "forward mode: 2 sweeps of 4 node visits (8 in all); reverse mode: 1 sweep of 4"
    )


def test_viz_without_forward_says_what_it_always_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "plain.html"
    status, out, err = run(["viz", *BAYDIN, "-o", str(target)], capsys)
    assert status == 0, err
    assert out == (
        f"Wrote {target}: f = log(x1) + x1*x2 - sin(x2) in 5 forward and 7 backward steps; "
        "open it in a browser (Right/Left step, Space plays)\n"
    )
    assert "sweeps" not in page_json(target.read_text(encoding="utf-8"))


def test_viz_wrt_needs_forward_and_a_known_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x.html"
    status, _, err = run(["viz", *BAYDIN, "--wrt", "x1", "-o", str(target)], capsys)
    assert status == 1 and err == (
        "tinygrad-bp: error: --wrt is for --forward: it names the input forward mode sweeps "
        "from; give --forward too\n"
    )
    status, _, err = run(["viz", "mazur", "--forward", "--wrt", "w9", "-o", str(target)], capsys)
    assert status == 1 and err.startswith("tinygrad-bp: error: --wrt: unknown label 'w9'")
    assert not target.exists()


@pytest.mark.parametrize("command", ["explain", "viz"])
def test_the_help_says_what_forward_does(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--forward" in out and "tangent" in out and "Σ local derivative" in out
