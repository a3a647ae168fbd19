"""The examples run as a user would run them, and print the article's figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_mazur_example() -> None:
    out = run("mazur.py")
    assert "E_total = 0.298371109" in out
    assert "dE_total/dw5 =  0.082167041" in out
    assert "after 1 update: E_total = 0.291027774" in out
    assert "after 10000 updates: E_total = 3.5102e-05" in out


def test_trace_example() -> None:
    out = run("trace_expression.py")
    compile(out.split("\n\n")[0], "<printed code>", "exec")  # the code it prints is Python
    assert "    z = mul1 + b\n" in out
    assert "softplus1, (dsoftplus1_dz,) = softplus(z)" in out
    assert "y = 1.274061868, dy/dw = 0.540266999" in out
    assert "least squares: a = 3.000000" in out
