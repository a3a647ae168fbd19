"""The lessons in examples/notebooks: stored without outputs, and each one runs top to bottom.

Every ``*.ipynb`` in the folder is picked up; a new lesson needs no change here.

The first check reads the files as JSON and always runs. The second runs each
notebook with nbclient on a fresh kernel of this Python (the interpreter
running the tests, whatever Jupyter kernels the machine has installed), from a
temporary folder, and fails on any error in any cell. It needs the
``notebooks`` extra (``pip install ".[notebooks]"``); without it the run is
skipped, and ``TINYGRAD_BP_REQUIRE_NOTEBOOKS=1`` makes that a failure, as CI
sets it. Each notebook's run time is printed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "examples" / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
TIMEOUT = 600  # seconds per cell
REQUIRE = os.environ.get("TINYGRAD_BP_REQUIRE_NOTEBOOKS") == "1"


def ids(path: Path) -> str:
    return path.stem


def test_the_lessons_are_there() -> None:
    assert len(NOTEBOOKS) >= 4, f"expected the lessons in {FOLDER}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb.get("nbformat") == 4, f"{path.name}: not a version 4 notebook"
    stored = [
        k
        for k, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not stored, (
        f"{path.name}: cells {stored} hold outputs or execution counts; clear them before "
        "committing (Jupyter: Edit > Clear Outputs of All Cells, then save)"
    )
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: widget state is stored"


def _kernel_manager(spec_dir: Path) -> Any:
    """A kernel manager for a kernel of exactly this interpreter.

    The kernel spec is written to a temporary folder, so a "python3" kernel
    installed elsewhere on the machine cannot be picked instead.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernel = spec_dir / "tinygrad-bp"
    kernel.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tinygrad-bp tests",
        "language": "python",
    }
    (kernel / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir)])
    return KernelManager(kernel_name="tinygrad-bp", kernel_spec_manager=specs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_runs_top_to_bottom(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as error:
        message = f'running the notebooks needs pip install ".[notebooks]" ({error})'
        if REQUIRE:
            pytest.fail(f"TINYGRAD_BP_REQUIRE_NOTEBOOKS=1 but {message}")
        pytest.skip(message)

    nb = nbformat.read(path, as_version=4)
    work = tmp_path / "run"
    work.mkdir()
    client = NotebookClient(
        nb,
        km=_kernel_manager(tmp_path / "kernels"),
        timeout=TIMEOUT,
        resources={"metadata": {"path": str(work)}},
    )
    env = dict(os.environ)
    # The kernel imports this checkout, as the tests do, whether or not it is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    start = time.perf_counter()
    try:
        client.execute(env=env)
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}", pytrace=False)
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n  {path.name}: ran in {seconds:.1f} s", end="")
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: {errors}"
