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
