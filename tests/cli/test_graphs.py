"""draw, viz and explain on a graph of one's own: a formula, or file.py:function."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nn import mazur
from tinygrad_bp import cli, explain
from tinygrad_bp.show.dot import PARAMETER_FILL

ROOT = Path(__file__).resolve().parents[2]  # the checkout: tests/<part>/this file
NEURON = ["tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(status: int, err: str) -> str:
    assert status == 1
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    return err


# -- formulas ----------------------------------------------------------------------------
def test_draw_a_formula(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "neuron.dot"
    status, out, err = run(["draw", *NEURON, "-o", str(target), "--parameters", "w1,w2,b"], capsys)
    assert status == 0, err
    assert (
        out == f"Wrote {target}: out = tanh(x1*w1 + x2*w2 + b) after one backward pass (10 nodes)\n"
    )
    source = target.read_text()
    for label in ("x1", "x2", "w1", "w2", "b", "out"):
        assert f"{label} |" in source or f">{label}<" in source or label in source
    assert source.count(PARAMETER_FILL) == 3  # w1, w2, b; x1 and x2 are inputs


def test_draw_a_formula_as_svg_with_a_highlight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "neuron.svg"
    status, _, err = run(["draw", *NEURON, "-o", str(target), "--highlight", "w1"], capsys)
    assert status == 0, err
    assert target.read_bytes().lstrip().startswith((b"<?xml", b"<svg"))


def test_viz_a_formula(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "neuron.html"
    status, out, err = run(["viz", *NEURON, "-o", str(target)], capsys)
    assert status == 0, err
    assert out.startswith(f"Wrote {target}: out = tanh(x1*w1 + x2*w2 + b) in 5 forward and ")
    page = target.read_text()
    assert "<title>out = tanh(x1*w1 + x2*w2 + b), node by node</title>" in page


def test_explain_a_formula(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["explain", *NEURON, "--wrt", "w1"], capsys)
    assert status == 0, err
    assert out == (
        "out = tanh(x1*w1 + x2*w2 + b) = 0.707106781\n"
        "\n"
        "∂out/∂w1 = ∂out/∂[+]#2 × ∂[+]#2/∂[+]#1 × ∂[+]#1/∂[*]#1 × ∂[*]#1/∂w1\n"
        "         = 0.5 × 1 × 1 × 2 = 1\n"
    )


def test_explain_all_the_names_of_a_named_formula(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["explain", "f = (x + y) * z", "x=-2", "y=5", "z=-4", "--precision", "3"]
    status, out, err = run(argv, capsys)
    assert status == 0, err
    assert out.splitlines()[0] == "f = (x + y) * z = -12"
    assert "\n∂f/∂x = ∂f/∂[+] × ∂[+]/∂x\n      = -4 × 1 = -4\n" in out
    assert "\n∂f/∂y = ∂f/∂[+] × ∂[+]/∂y\n      = -4 × 1 = -4\n" in out
    assert "\n∂f/∂z = 3\n" in out


def test_explain_the_article(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["explain", "mazur", "--wrt", "w5"], capsys)
    assert status == 0
    _, step = mazur.backpropagated()
    assert out == f"E_total = 0.298371109\n\n{explain(step.E_total, 'w5')}\n"
    status, out, _ = run(["explain", "mazur"], capsys)
    heads = [block.split(" = ")[0] for block in out.split("\n\n")[1:]]
    assert heads == [f"∂E_total/∂w{k}" for k in range(1, 9)]  # the weights, as mazur --explain


def test_a_formula_starting_with_a_minus_goes_after_a_double_dash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(["explain", "--wrt", "x", "--", "-x*y", "x=2", "y=3"], capsys)
    assert status == 0, err
    assert out.splitlines()[0] == "out = -x*y = -6"


@pytest.mark.parametrize(
    "argv",
    [
        ["draw", "-x*y", "x=2", "y=3", "-o", "{dir}/g.svg"],
        ["draw", "-o", "{dir}/g.svg", "-x*y", "x=2", "y=3", "--precision", "2"],
        ["draw", "-o{dir}/g.svg", "--no-edge-labels", "-x*y", "x=2", "y=3"],
        ["viz", "-x*y", "x=2", "y=3", "-o", "{dir}/g.html", "--parameters", "x"],
        ["viz", "--out={dir}/g.html", "-x*y", "x=2", "y=3"],
        ["explain", "-x*y", "x=2", "y=3"],
        ["explain", "--wrt", "x", "-x*y", "x=2", "y=3"],
        ["explain", "--prec", "3", "-x*y", "x=2", "y=3"],
    ],
)
def test_a_formula_starting_with_a_minus_is_the_formula(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run([a.format(dir=tmp_path) for a in argv], capsys)
    assert status == 0 and err == "", err
    if argv[0] == "explain":
        assert out.splitlines()[0] == "out = -x*y = -6"
    else:
        assert re.match(rf"Wrote {re.escape(str(tmp_path))}/g\.(svg|html): out = -x\*y ", out)


@pytest.mark.parametrize(
    ("formula", "last"),
    [
        (["sqrt(x) - sqrt(x)", "x=0"], "= inf + -1 × inf = nan"),  # what backward() gives: nan
        (["x*y + x*y", "x=0.5", "y=1e308"], "= 1e+308 + 1e+308 = inf"),  # value finite, grad inf
    ],
)
def test_explain_and_viz_show_a_sum_of_inf_minus_inf_or_one_that_overflows(
    formula: list[str], last: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["explain", *formula, "--wrt", "x"], capsys)
    assert status == 0 and err == "", err
    assert out.splitlines()[3].endswith(last)
    status, out, err = run(["viz", *formula, "-o", str(tmp_path / "g.html")], capsys)
    assert status == 0 and err == "", err
    assert out.startswith(f"Wrote {tmp_path / 'g.html'}: out = ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["draw", "x.__class__", "x=1"],
            "not allowed: attribute access, in x.__class__; a formula",
        ),
        (["draw", "x * y", "x=1"], "the formula uses y but gives it no value; add y=NUMBER"),
        (["draw", "x", "x=1", "y=2"], "y=2.0 is given, but the formula does not use y"),
        (["viz", "9**9**9"], r"9\*\*9\*\*9 is too large for a float"),
        (["explain", "x", "x=one"], "'x=one': 'one' is not a number"),
        (["explain", "x", "x"], "'x' is not NAME=VALUE"),
        (["draw", "mazur", "x=1"], "x=1: values are for a formula; mazur .* takes none"),
        (["draw", "x", "x=1", "--parameters", "w"], "--parameters w: w not among the formula's"),
        (["draw", "mazur", "--parameters", "w1"], "--parameters is for a formula"),
        (["draw", "x + 1", "x=1", "--highlight", "w"], "--highlight: unknown label 'w'"),
        (["explain", "x + 1", "x=1", "--wrt", "y"], "--wrt: unknown label 'y'; expected one of"),
        (["explain", "x*x", "x=1", "--wrt", "x\x1b[2J"], r"unknown label 'x\\x1b\[2J'"),
    ],
)
def test_a_bad_graph_is_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] == "draw":
        argv = [*argv, "-o", str(tmp_path / "g.svg")]
    elif argv[0] == "viz":
        argv = [*argv, "-o", str(tmp_path / "g.html")]
    status, out, err = run(argv, capsys)
    line = one_line_error(status, err)
    assert out == "" and re.search(message, line), line
    assert "\x1b" not in err
    assert list(tmp_path.iterdir()) == []


def terms(n: int) -> list[str]:
    """tanh(x*w1) + … + tanh(x*wn) and its values: 3n + 1 leaves and nodes, n − 1 sums."""
    formula = " + ".join(f"tanh(x*w{k})" for k in range(1, n + 1))
    return [formula, "x=0.5", *(f"w{k}={k / n:.3f}" for k in range(1, n + 1))]


@pytest.mark.parametrize("command", ["draw", "viz"])
def test_a_graph_over_max_nodes_is_one_line_naming_the_flag(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / ("g.svg" if command == "draw" else "g.html")
    big = terms(130)  # 130 · 3 + 1 leaf x + 129 sums = 520 nodes
    status, out, err = run([command, *big, "-o", str(target)], capsys)
    line = one_line_error(status, err)
    assert line == (
        "tinygrad-bp: error: the graph has 520 nodes, more than --max-nodes 500; "
        f"to {'draw' if command == 'draw' else 'play'} it, give --max-nodes 520\n"
    )
    assert out == "" and not target.exists()
    status, out, err = run([command, *big, "-o", str(target), "--max-nodes", "520"], capsys)
    assert status == 0, err
    assert target.exists()
    # the article's network, collapsed, fits: the advice says so
    status, _, err = run([command, "mazur", "-o", str(target), "--max-nodes", "10"], capsys)
    assert one_line_error(status, err).endswith(
        "give --max-nodes 23 or --collapse-neurons (9 nodes)\n"
    )


def test_max_nodes_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for given, said in [
        ("1001", "expected at most 1,000 nodes"),
        ("0", "expected a number of at least 1, got 0"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["draw", "mazur", "-o", str(tmp_path / "g.svg"), "--max-nodes", given])
        assert exit_info.value.code == 2
        assert f"argument --max-nodes: {said}" in capsys.readouterr().err


# -- a function in a file -------------------------------------------------------------------
CIRCUIT = """
    from tinygrad_bp import Value

    def circuit():
        x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
        f = (x + y) * z
        f.label = "f"
        return f, [z]

    def broken():
        return helper()

    def helper():
        raise RuntimeError("my mistake")
"""


@pytest.fixture
def circuit(tmp_path: Path) -> Path:
    path = tmp_path / "circuit.py"
    path.write_text(textwrap.dedent(CIRCUIT))
    return path


def test_draw_viz_and_explain_a_function(
    circuit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dot = tmp_path / "c.dot"
    status, out, err = run(["draw", f"{circuit}:circuit", "-o", str(dot)], capsys)
    assert status == 0, err
    assert out == f"Wrote {dot}: the graph of {circuit}:circuit after one backward pass (5 nodes)\n"
    assert dot.read_text().count(PARAMETER_FILL) == 1  # z, as the function said

    page = tmp_path / "c.html"
    status, out, err = run(["viz", f"{circuit}:circuit", "-o", str(page)], capsys)
    assert status == 0 and out.startswith(f"Wrote {page}: the graph of {circuit}:circuit in ")

    status, out, err = run(["explain", f"{circuit}:circuit"], capsys)
    assert status == 0
    assert (
        out
        == "f = -12\n\n∂f/∂z = 3\n  (the local derivative of * recorded on the edge from z to f)\n"
    )
    status, out, err = run(["explain", f"{circuit}:circuit", "--wrt", "x"], capsys)
    assert out.splitlines()[-1].strip() == "= -4 × 1 = -4"


ODD = """
from tinygrad_bp import Value

def made_by_an_op():
    a = Value(2.0, "a")
    b = a * 3.0
    b.label = "b"
    return (b * a).tanh(), [a, b]

def hostile():
    x = Value(2.0, "x")
    y = x * x
    y.label = "y\\x00\\x1b[31m"
    return y
"""


@pytest.fixture
def odd(tmp_path: Path) -> Path:
    path = tmp_path / "odd.py"
    path.write_text(ODD)
    return path


def test_viz_of_parameters_made_by_an_op_is_one_line(
    odd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "c.html"
    status, out, err = run(["viz", f"{odd}:made_by_an_op", "-o", str(page)], capsys)
    assert one_line_error(status, err) == (
        f"tinygrad-bp: error: {odd}:made_by_an_op returned parameters[1] ('b', made by *): "
        "the update steps change parameters in place, so expected leaves (Values made with "
        "Value(...), not computed by an op)\n"
    )
    assert out == "" and not page.exists()


def test_explain_escapes_the_roots_label_on_its_first_line(
    odd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["explain", f"{odd}:hostile", "--wrt", "x"], capsys)
    assert status == 0, err
    assert "\x1b" not in out and "\x00" not in out
    lines = out.splitlines()
    assert lines[0] == "y\\x00\\x1b[31m = 4"
    assert lines[2].startswith("∂y\\x00\\x1b[31m/∂x = ")  # as the lines below were


def test_an_error_in_the_users_function_shows_their_traceback(
    circuit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["draw", f"{circuit}:broken", "-o", str(tmp_path / "g.svg")], capsys)
    assert status == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"tinygrad-bp draw: {circuit}:broken raised an error:"
    assert lines[1] == "Traceback (most recent call last):"
    assert f'File "{circuit}", line 11, in broken' in err and "in helper" in err
    assert lines[-1] == "RuntimeError: my mistake"
    assert "cli.py" not in err and "userfile.py" not in err


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("{path}:nope", "has no function nope; functions defined there: circuit, broken, helper"),
        ("{path}", "name the function to call after a colon"),
        ("{dir}/none.py:f", "cannot open .*none.py': no such file"),
    ],
)
def test_a_reference_that_leads_nowhere_is_one_line(
    circuit: Path, reference: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["explain", reference.format(path=circuit, dir=circuit.parent)]
    status, _, err = run(argv, capsys)
    assert re.search(message, one_line_error(status, err))


def test_values_are_refused_for_a_function(
    circuit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(["explain", f"{circuit}:circuit", "x=1"], capsys)
    assert "values are for a formula" in one_line_error(status, err)


def test_the_command_as_a_new_user_types_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_bp", "draw", *NEURON, "-o", "neuron.svg"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Wrote neuron.svg: out = tanh(x1*w1 + x2*w2 + b)")
    assert (tmp_path / "neuron.svg").stat().st_size > 1000


def test_the_example_file(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["explain", str(ROOT / "examples" / "neuron.py:neuron")], capsys)
    assert status == 0, err
    assert out.startswith("o = 0.707106781\n\n∂o/∂w1 = ")
    assert [block.split(" = ")[0] for block in out.split("\n\n")[1:]] == [
        "∂o/∂w1",
        "∂o/∂w2",
        "∂o/∂b",
    ]


def test_explain_all_is_the_parameters_when_named(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["explain", *NEURON, "--parameters", "w2,b"], capsys)
    assert status == 0
    assert [block.split(" = ")[0] for block in out.split("\n\n")[1:]] == ["∂out/∂w2", "∂out/∂b"]
