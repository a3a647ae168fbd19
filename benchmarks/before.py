"""An earlier version of tinygrad_bp as a contender, run in a process of its own.

``python benchmarks/run.py --before DIR`` times the tinygrad_bp of another
checkout (DIR, say a ``git worktree`` of an earlier commit) in the same run,
interleaved with everything else, so that a change is measured before and
after under the same load. Two versions of one package cannot share a
process, so this module is also the worker: started as
``python benchmarks/before.py DIR``, it imports DIR's own ``benchmarks``,
``nn`` and ``tinygrad_bp`` and answers one JSON request a line on standard
input. Each timed request is timed in the worker by ``timed`` below, the
one rule every contender of run.py is timed by (run.py imports it from
here: this module imports no version of the package at the top).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Before:
    """The parent's handle on a worker that runs DIR's tinygrad_bp."""

    def __init__(self, tree: Path) -> None:
        if not (tree / "tinygrad_bp").is_dir() or not (tree / "benchmarks").is_dir():
            raise SystemExit(
                f"--before {tree}: expected a checkout of tinygrad_bp (with tinygrad_bp/ "
                "and benchmarks/), e.g. git worktree add /tmp/before <commit>"
            )
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(tree)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.version = self.ask({"what": "version"})

    def ask(self, request: dict[str, Any]) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"the --before worker: {answer['error']}")
        return answer["result"]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


class BeforeMoons:
    """The moons step of the earlier version: a contender of run.py's moons comparison."""

    name = "tinygrad_bp before"

    def __init__(self, before: Before, points: int, layers: list[int]) -> None:
        self.before = before
        before.ask({"what": "moons", "points": points, "layers": layers})

    def timed_step(self, mode: str) -> tuple[float, float]:
        seconds, loss = self.before.ask({"what": "step", "mode": mode})
        return float(seconds), float(loss)

    def parameters(self) -> list[float]:
        return [float(p) for p in self.before.ask({"what": "parameters"})]


# -- timing, and the worker ---------------------------------------------------------


def timed(run: Callable[[], Any], mode: str) -> tuple[float, Any]:
    """Seconds ``run`` takes; with the collector on, collecting its garbage too.

    Garbage of earlier runs is collected first, untimed. A graph with
    reference cycles (micrograd's closures point back at their node) is not
    freed when the run returns but by the collector, later, at about the
    cost of the run itself; an acyclic graph is freed on return. Either way
    a training loop pays for it every step, so "GC on" counts it: one
    collection right after the run, timed with it.
    """
    gc.collect()
    if mode == "off":
        gc.disable()
    try:
        start = time.perf_counter()
        result = run()
        if mode == "on":
            gc.collect()
        seconds = time.perf_counter() - start
    finally:
        gc.enable()
    return seconds, result


def _serve(tree: str) -> None:
    sys.path.insert(0, tree)  # DIR's packages before anything installed
    import tinygrad_bp
    from benchmarks import contenders  # DIR's own, matching its API

    state: dict[str, Any] = {}

    def answer(request: dict[str, Any]) -> Any:
        what = request["what"]
        if what == "version":
            return f"{tinygrad_bp.__version__} at {Path(tinygrad_bp.__file__).parent.parent}"
        if what == "moons":
            problem = contenders.moons_problem(request["points"], request["layers"], seed=0)
            state["moons"] = contenders.TinygradMoons(problem)
            return None
        if what == "step":
            return timed(state["moons"].step, request["mode"])
        if what == "parameters":
            return state["moons"].parameters()
        if what == "elementwise":
            value = tinygrad_bp.Value

            def run() -> tuple[float, list[float]]:
                root, h0, w = contenders.elementwise_graph(
                    value, value.tanh, request["width"], request["depth"], seed=3
                )
                root.backward()
                return root.data, [float(v.grad) for v in (*h0, *w)]

            return timed(run, request["mode"])
        if what == "elementwise bytes":
            value = tinygrad_bp.Value
            gc.collect()
            tracemalloc.start()
            try:
                start = tracemalloc.get_traced_memory()[0]
                graph = contenders.elementwise_graph(
                    value, value.tanh, request["width"], request["depth"], seed=3
                )
                used = tracemalloc.get_traced_memory()[0] - start
            finally:
                tracemalloc.stop()
            del graph
            return used
        raise ValueError(f"unknown request {what!r}")

    for line in sys.stdin:
        try:
            print(json.dumps({"result": answer(json.loads(line))}), flush=True)
        except Exception as error:  # said to the parent, which stops the run
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)


if __name__ == "__main__":
    _serve(sys.argv[1])
