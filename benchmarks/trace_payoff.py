"""What tracing one point's graph costs and saves, per node and edge, on this machine.

    python benchmarks/trace_payoff.py

For MLPs on moons (100 points), from 66 to 124,000 nodes and edges: the time
to trace, generate and compile one point's graph (cold), the peak memory of
that (tracemalloc), and one training step traced and interpreted. The
constants of ``nn.train.trace_pays`` and ``MAX_SIZE`` come from these
figures: compile µs per node and edge, the saving in ns per node and edge
per point and step, and the break-even in points × steps.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script from anywhere: the repository root holds tinygrad_bp and nn.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nn import MLP, make_moons  # noqa: E402
from nn.train import _PerExample, svm_loss  # noqa: E402
from tinygrad_bp.tracing.tracer import forget_compiled  # noqa: E402

POINTS = 100
SHAPES = [[4], [8, 8], [16, 16], [32, 32], [64, 64], [100, 100], [128, 128], [200, 200], [16] * 8]


def median_seconds(run: Callable[[], Any], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    X, y = make_moons(POINTS, seed=0, signed=True)
    for layers in SHAPES:
        model = MLP(2, [*layers, 1], seed=0)

        def cold(model: MLP = model) -> _PerExample:
            forget_compiled()
            per_example = _PerExample(svm_loss, model, X, y, None)
            per_example.traced.source  # noqa: B018 -- generated and compiled when first asked for
            return per_example

        per_example = cold()
        size = per_example.traced.size
        compile_s = median_seconds(cold, 2)
        forget_compiled()
        gc.collect()
        tracemalloc.start()
        cold()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        traced_s = median_seconds(per_example.step)

        def interpreted(model: MLP = model) -> None:
            loss, _ = svm_loss(model, X, y)
            loss.backward()

        interpreted_s = median_seconds(interpreted)
        per_unit = compile_s / size
        saving = (interpreted_s - traced_s) / (POINTS * size)
        print(
            f"{str(layers):26} {size:7,} nodes and edges: compile {compile_s * 1e3:7.1f} ms "
            f"({per_unit * 1e6:4.1f} µs each, peak {peak / size / 1e3:3.1f} kB each); step traced "
            f"{traced_s * 1e3:6.1f} ms, interpreted {interpreted_s * 1e3:6.1f} ms (saves "
            f"{saving * 1e9:5.1f} ns each per point); pays from {per_unit / saving:4.0f} "
            "points × steps",
            flush=True,
        )


if __name__ == "__main__":
    main()
