"""The benchmark: tinygrad_bp side by side with micrograd, PyTorch and plain floats.

    python benchmarks/run.py           the full run (a minute or two)
    python benchmarks/run.py --quick   small sizes: a smoke test that the contenders agree
    python benchmarks/run.py --json results.json   ... and every figure written as JSON

Each comparison runs its contenders interleaved in this one process (the
order rotating between repetitions) and reports the median time and its
ratio to tinygrad_bp's, with the cyclic garbage collector on (as Python
runs by default, collecting included) and paused (as ``timeit`` does).
Before a time counts the contenders must agree (the same losses to 1e-9
after every training step, the same values and gradients); if they do not,
the run stops with exit status 1. README.md, "Performance", has the method,
the results and what profiling found.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

# Run as a script from anywhere: the repository root holds tinygrad_bp, nn, benchmarks.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import contenders as c  # noqa: E402
from benchmarks.before import Before, BeforeMoons, timed  # noqa: E402
from tinygrad_bp import Value, __version__  # noqa: E402
from tinygrad_bp.tracing.tracer import forget_compiled  # noqa: E402

MODES = ("on", "off")  # the cyclic garbage collector during a timed run


@dataclass(frozen=True)
class Sizes:
    points: int
    layers: tuple[int, ...]
    repeats: int
    width: int
    depth: int
    chain: int
    micrograd_chain: int
    updates: int


FULL = Sizes(100, (2, 16, 16, 1), 7, 200, 100, 1_000_000, 10_000, 10_000)
QUICK = Sizes(12, (2, 4, 4, 1), 2, 20, 10, 20_000, 2_000, 100)


def say(text: str = "") -> None:
    print(text, flush=True)


def rotated(items: list[Any], k: int) -> list[Any]:
    k %= len(items)
    return items[k:] + items[:k]


def median_ms(samples: Iterable[float]) -> float:
    return statistics.median(samples) * 1e3


def fmt_ms(ms: float) -> str:
    return f"{ms:,.1f}" if ms >= 10 else f"{ms:.2f}"


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.2f}×"


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(cells, widths)) + " |"

    say(line(header))
    say("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        say(line(row))


class Report:
    """The medians of every comparison, and the targets they are held to."""

    def __init__(self) -> None:
        self.targets: list[tuple[str, float, str, float]] = []  # (what, value, op, goal)
        self.figures: dict[str, dict[str, Any]] = {}  # by section: every figure, for --json
        self.before: Before | None = None  # --before: an earlier version, timed alongside

    def target(self, what: str, value: float, op: str, goal: float) -> None:
        self.targets.append((what, value, op, goal))

    def record(self, section: str, key: str, value: Any) -> None:
        self.figures.setdefault(section, {})[key] = value

    def timing_table(
        self,
        times: dict[tuple[str, str], list[float]],
        names: list[str],
        unit: str,
        section: str = "",
    ) -> dict[tuple[str, str], float]:
        """Print medians and ratios to tinygrad_bp; return the ratios."""
        ratios: dict[tuple[str, str], float] = {}
        header = ["contender"]
        for mode in MODES:
            header += [f"GC {mode}: median {unit}", f"GC {mode}: ÷ tinygrad_bp"]
        rows = []
        for name in names:
            row = [name]
            for mode in MODES:
                ms = median_ms(times[name, mode])
                ratio = ms / median_ms(times["tinygrad_bp", mode])
                ratios[name, mode] = ratio
                row += [fmt_ms(ms), "1" if name == "tinygrad_bp" else fmt_ratio(ratio)]
                if section:
                    self.record(
                        section,
                        f"{name}, GC {mode}",
                        {
                            f"median {unit}": ms,
                            "÷ tinygrad_bp": ratio,
                            f"samples {unit}": [t * 1e3 for t in times[name, mode]],
                        },
                    )
            rows.append(row)
        table(header, rows)
        return ratios


# -- 1. the moons training step ------------------------------------------------------


def moons(sizes: Sizes, report: Report) -> None:
    problem = c.moons_problem(sizes.points, sizes.layers, seed=0)
    runners: list[c.MoonsContender] = [c.TinygradMoons(problem), c.TracedMoons(problem)]
    if available("numpy"):
        runners.append(c.BatchedMoons(problem))
    if available("micrograd"):
        runners.append(c.MicrogradMoons(problem))
    else:
        say("(micrograd is not installed: pip install micrograd==0.1.0; left out)")
    if available("torch"):
        runners.append(c.TorchMoons(problem))
    else:
        say("(torch is not installed: pip install torch==2.13.0; left out)")
    runners.append(c.FloatMoons(problem))
    if available("numpy"):  # the array bound: the whole batch at once
        runners.append(c.NumpyMoons(problem))
    if available("torch"):
        runners.append(c.TorchTensorMoons(problem))
    if report.before is not None:
        runners.append(BeforeMoons(report.before, sizes.points, list(sizes.layers)))  # type: ignore[arg-type]
    names = [r.name for r in runners]

    def one_round(mode: str | None, k: int) -> None:
        losses: dict[str, float] = {}
        for runner in rotated(runners, k):
            if isinstance(runner, BeforeMoons):  # timed in its own process, by the same rule
                seconds, losses[runner.name] = runner.timed_step(mode or "on")
            else:
                seconds, losses[runner.name] = timed(runner.step, mode or "on")
            if mode is not None:
                times[runner.name, mode].append(seconds)
        c.check_agree(f"moons: the loss at step {k + 1}", {n: losses[n] for n in names})

    times: dict[tuple[str, str], list[float]] = {(n, m): [] for n in names for m in MODES}
    one_round(None, 0)  # a first step untimed: imports, caches, first-call costs
    step = 1
    for _ in range(sizes.repeats):
        for mode in MODES:
            one_round(mode, step)
            step += 1
    after = {r.name: r.parameters() for r in runners}
    for i in range(len(after[names[0]])):
        c.check_agree(f"moons: parameter {i} after {step} steps", {n: after[n][i] for n in names})

    say(
        f"## Moons training step: {'-'.join(map(str, sizes.layers))} MLP, "
        f"{sizes.points} points, hinge loss + 1e-4·Σp², SGD"
    )
    say(
        f"Forward, backward and update; median of {sizes.repeats} steps per mode. "
        f"All {len(names)} reached the same loss at each of {step} steps (to 1e-9)."
    )
    say()
    ratios = report.timing_table(times, names, "ms", "moons")
    say()
    traced = ratios["tinygrad_bp traced", "on"] / ratios["hand-written floats", "on"]
    cost = trace_cost(problem, sizes.repeats)
    report.record("moons", "trace, generate and compile one point's graph, ms", cost)
    say(
        f"tinygrad_bp traced: {traced:.2f}× the hand-written floats' time (GC on). Tracing one "
        f"point's graph, generating its code and compiling it, once before training: "
        f"{fmt_ms(cost['median ms'])} ms ({cost['lines']:,} lines of Python)."
    )
    say()
    # The interpreted engine is shaped for reading; the trace is the fast path.
    for name, goal in (("micrograd", 20), ("PyTorch", 15)):
        if name in names:
            report.target(
                f"moons step: {name} ÷ tinygrad_bp (GC on)", ratios[name, "on"], "≥", goal
            )
    report.target("moons step: tinygrad_bp traced ÷ hand-written floats (GC on)", traced, "≤", 0.5)
    batched = "tinygrad_bp batched trace"
    for peer, op, goal in (("NumPy (hand-written)", "≤", 2.0), ("PyTorch tensors", "<", 1.0)):
        if batched in names and peer in names:
            ratio = ratios[batched, "on"] / ratios[peer, "on"]
            report.target(f"moons step: {batched} ÷ {peer} (GC on)", ratio, op, goal)
    report.target("moons: trace + generate + compile one point, ms", cost["median ms"], "<", 100)


def trace_cost(problem: c.MoonsProblem, repeats: int) -> dict[str, Any]:
    """Milliseconds to trace one point's graph, generate its code and compile it, from cold."""
    runner = c.TracedMoons(problem)
    samples = []
    for _ in range(max(repeats, 3)):
        forget_compiled()
        gc.collect()
        start = time.perf_counter()
        traced = runner.trace()
        traced.source  # noqa: B018 -- generated and compiled when first asked for
        samples.append(time.perf_counter() - start)
    return {
        "median ms": median_ms(samples),
        "samples ms": [t * 1e3 for t in samples],
        "lines": traced.source.count("\n"),
    }


# -- 1b. an epoch of the digits ------------------------------------------------------


def digits(sizes: Sizes, report: Report) -> None:
    quick = sizes.points < 100
    problem = c.digits_problem(limit=96 if quick else None)
    runners: list[c.DigitsContender] = [c.TinygradDigits(problem, "interpreted")]
    runners.append(c.TinygradDigits(problem, "traced"))
    if available("numpy"):
        runners += [c.TinygradDigits(problem, "batched"), c.NumpyDigits(problem)]
    if available("torch"):
        runners.append(c.TorchDigits(problem))
    names = [r.name for r in runners]
    times: dict[str, list[float]] = {n: [] for n in names}
    repeats = 1 if quick else max(2, sizes.repeats // 3)
    for k in range(repeats + 1):  # the first epoch untimed: first calls, compiling
        losses: dict[str, list[float]] = {}
        for runner in rotated(runners, k):
            seconds, losses[runner.name] = timed(runner.epoch, "on")
            if k:
                times[runner.name].append(seconds)
        for b in range(len(problem.batches)):
            c.check_agree(f"digits: epoch {k + 1}, batch {b + 1}", {n: losses[n][b] for n in names})
    batches = len(problem.batches)
    medians = {n: median_ms(times[n]) for n in names}
    sample = 2  # micrograd on the first batches of a fresh start, its time scaled to the epoch
    if available("micrograd"):
        fresh = c.digits_problem(limit=96 if quick else None)
        mine = c.MicrogradDigits(fresh)
        seconds, theirs = timed(partial(mine.epoch, sample), "on")
        ours = c.NumpyDigits(fresh).epoch(sample) if available("numpy") else theirs
        for b in range(sample):
            c.check_agree(
                f"digits: micrograd, batch {b + 1}", {"micrograd": theirs[b], "ours": ours[b]}
            )
        medians["micrograd (scaled)"] = seconds * 1e3 * batches / sample
    say(
        f"## An epoch of the digits: 64-32-10 MLP, ReLU, softmax cross-entropy + 1e-4·Σp², "
        f"{len(problem.batches)} minibatches of 32, SGD"
    )
    say(
        f"Median of {repeats} epochs (GC on); every contender's loss agreed on every batch "
        f"(to 1e-9). micrograd: {sample} batches timed, scaled to {batches}."
    )
    say()
    base = medians["tinygrad_bp"]
    rows = [[n, fmt_ms(ms), fmt_ratio(ms / base)] for n, ms in medians.items()]
    table(["contender", "median ms per epoch", "÷ tinygrad_bp"], rows)
    for n, ms in medians.items():
        report.record("digits", n, {"median ms per epoch": ms, "÷ tinygrad_bp": ms / base})
    say()
    cost = []
    for _ in range(3):
        forget_compiled()
        gc.collect()
        start = time.perf_counter()
        c.TinygradDigits(problem, "batched").traced.batched  # noqa: B018 -- made when asked for
        cost.append(time.perf_counter() - start)
    compile_ms = median_ms(cost)
    report.record("digits", "trace and generate the batched code, ms", compile_ms)
    say(
        f"Tracing one digit's graph and generating and compiling its batched code: "
        f"{fmt_ms(compile_ms)} ms."
    )
    say()
    report.target("digits: trace and generate the batched code, ms", compile_ms, "<", 1000)


# -- 2. the elementwise graph ------------------------------------------------------


def elementwise(sizes: Sizes, report: Report) -> None:
    if not available("micrograd"):
        say("(micrograd is not installed: the elementwise comparison is skipped)")
        return
    from micrograd.engine import Value as MValue

    width, depth = sizes.width, sizes.depth
    ops = c.elementwise_ops(width, depth)
    builders: dict[str, Callable[[], Any]] = {
        "tinygrad_bp": lambda: c.elementwise_graph(Value, Value.tanh, width, depth, seed=3),
        "micrograd": lambda: c.elementwise_graph(MValue, c.micrograd_tanh, width, depth, seed=3),
    }
    names = list(builders)
    if report.before is not None:
        names.append(BeforeMoons.name)

    def run(name: str) -> Callable[[], tuple[float, list[float]]]:
        def forward_backward() -> tuple[float, list[float]]:
            root, h0, w = builders[name]()
            root.backward()
            return root.data, [float(v.grad) for v in (*h0, *w)]

        return forward_backward

    times: dict[tuple[str, str], list[float]] = {(n, m): [] for n in names for m in MODES}
    for k in range(sizes.repeats):
        for mode in MODES:
            results = {}
            for name in rotated(names, k):
                if name == BeforeMoons.name and report.before is not None:
                    ask = {"what": "elementwise", "mode": mode, "width": width, "depth": depth}
                    seconds, results[name] = report.before.ask(ask)
                else:
                    seconds, results[name] = timed(run(name), mode)
                times[name, mode].append(seconds)
            c.check_agree("elementwise: the root", {n: results[n][0] for n in names})
            for i in range(2 * width):
                c.check_agree(
                    f"elementwise: leaf {i}'s gradient", {n: results[n][1][i] for n in names}
                )

    say(f"## Elementwise graph: {ops:,} ops of +, * and tanh ({width} wide, {depth} deep)")
    say(
        f"Build the graph, then backward; median of {sizes.repeats} per mode. "
        "Both gave the same root and leaf gradients (to 1e-9)."
    )
    say()
    ratios = report.timing_table(times, names, "ms", "elementwise")
    say()
    report.target("elementwise: micrograd ÷ tinygrad_bp (GC on)", ratios["micrograd", "on"], "≥", 4)

    # -- 3. memory: the same graph, kept alive, under tracemalloc
    per_op = {name: graph_bytes(builders[name]) / ops for name in builders}
    if report.before is not None:
        ask = {"what": "elementwise bytes", "width": width, "depth": depth}
        per_op[BeforeMoons.name] = report.before.ask(ask) / ops
    say("## Memory: bytes per elementwise op (tracemalloc, the graph above kept alive)")
    say()
    kinds = {
        "Value * Value": lambda y, x: y * x,
        "Value + Value": lambda y, x: y + x,
        "Value * 0.5": lambda y, x: y * 0.5,
        "Value + 0.5": lambda y, x: y + 0.5,
        "tanh": None,
    }
    rows = [["the graph above", *(f"{per_op[n]:.0f}" for n in builders), ratio_of(per_op)]]
    n_ops = max(2_000, ops // 10)
    for kind, fn in kinds.items():
        by_name = {}
        for name, value, tanh in (
            ("tinygrad_bp", Value, Value.tanh),
            ("micrograd", MValue, c.micrograd_tanh),
        ):
            step = fn if fn is not None else (lambda y, x, tanh=tanh: tanh(y))
            by_name[name] = graph_bytes(partial(op_chain, value, step, n_ops)) / n_ops
        rows.append([f"one {kind}", *(f"{by_name[n]:.0f}" for n in builders), ratio_of(by_name)])
    table(["", *(f"{n}: bytes" for n in builders), "micrograd ÷ tinygrad_bp"], rows)
    for row in rows:
        report.record("memory", f"bytes per op, {row[0]}", dict(zip(builders, row[1:])))
    if report.before is not None:
        before_bytes = per_op[BeforeMoons.name]
        say(f"\n{BeforeMoons.name}: {before_bytes:.0f} bytes per op in the graph above.")
        report.record("memory", "bytes per op, the graph above, before", before_bytes)
    say()
    report.target(
        "memory: micrograd ÷ tinygrad_bp bytes per elementwise op",
        per_op["micrograd"] / per_op["tinygrad_bp"],
        "≥",
        4,
    )


def ratio_of(by_name: dict[str, float]) -> str:
    return fmt_ratio(by_name["micrograd"] / by_name["tinygrad_bp"])


def op_chain(value: Callable[[float], Any], step: Callable[[Any, Any], Any], n: int) -> Any:
    """``n`` ops of one kind in a row, each on the last result (and a shared leaf)."""
    x = value(0.25)
    y = value(0.5)
    for _ in range(n):
        y = step(y, x)
    return y, x


def graph_bytes(build: Callable[[], Any]) -> int:
    """Bytes still allocated once ``build()`` returns, its result kept alive."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        graph = build()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del graph
    return used


# -- 4. depth ------------------------------------------------------------------------


def depth(sizes: Sizes, report: Report) -> None:
    n = sizes.chain
    exact = c.chain_gradient(n)
    times: dict[str, list[float]] = {"build": [], "backward": []}
    for _ in range(sizes.repeats if n < 100_000 else max(2, sizes.repeats // 2)):
        gc.collect()
        start = time.perf_counter()
        y, x = c.chain(n)
        built = time.perf_counter()
        y.backward()
        done = time.perf_counter()
        times["build"].append(built - start)
        times["backward"].append(done - built)
        c.check_agree("depth: dy/dx", {"backward()": x.grad, "closed form": exact})
        del y, x
    # Memory in a separate run: tracemalloc slows every allocation down.
    gc.collect()
    tracemalloc.start()
    try:
        y, x = c.chain(n)
        graph, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        y.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del y, x
    gc.collect()

    micrograd_note = "micrograd not installed"
    if available("micrograd"):
        my, mx = c.micrograd_chain(sizes.micrograd_chain)
        try:
            my.backward()
            micrograd_note = f"micrograd: backward through {sizes.micrograd_chain:,} deep worked"
        except RecursionError:
            micrograd_note = (
                f"micrograd: RecursionError already at {sizes.micrograd_chain:,} deep "
                f"(recursion limit {sys.getrecursionlimit()})"
            )
        del my, mx
        gc.collect()

    say(f"## Depth: backward through a {n:,}-deep chain (GC on)")
    say()
    table(
        ["build", "backward", "graph (tracemalloc)", "backward's extra peak", "dy/dx"],
        [
            [
                f"{median_ms(times['build']):,.0f} ms",
                f"{median_ms(times['backward']):,.0f} ms",
                f"{graph / 2**20:,.0f} MiB ({graph / n:.0f} B/node)",
                f"{(peak - graph) / 2**20:,.0f} MiB",
                f"{exact:.12g} (exact)",
            ]
        ],
    )
    say(micrograd_note + ".")
    say()
    for key, value in (
        ("depth", n),
        ("build ms", median_ms(times["build"])),
        ("backward ms", median_ms(times["backward"])),
        ("graph bytes", graph),
        ("backward extra peak bytes", peak - graph),
        ("micrograd", micrograd_note),
    ):
        report.record("depth", key, value)


# -- 5. the article --------------------------------------------------------------------


def article(sizes: Sizes, report: Report) -> None:
    updates = sizes.updates
    runs = {
        "tinygrad_bp": lambda: c.article_tinygrad(updates),
        "tinygrad_bp traced": lambda: c.article_traced(updates),
        "hand-written floats": lambda: c.article_floats(updates),
    }
    names = list(runs)
    times: dict[tuple[str, str], list[float]] = {(n, m): [] for n in names for m in MODES}
    repeats = sizes.repeats  # the traced run and the floats' take milliseconds: noise needs many
    final: dict[str, float] = {}
    for k in range(repeats):
        for mode in MODES:
            for name in rotated(names, k):
                seconds, final[name] = timed(runs[name], mode)
                times[name, mode].append(seconds)
            c.check_agree("article: E_total", final)
    say(f"## The article: {updates:,} updates of Mazur's 2-2-2 network")
    say(
        f"E_total after them: {final['tinygrad_bp']:.10g} from all {len(names)} "
        f"(the reference: 3.5101878e-05 after 10,000); median of {repeats} per mode. "
        "The traced run's time includes tracing the graph and generating its code."
    )
    say()
    ratios = report.timing_table(times, names, "ms", "article")
    say()
    report.record("article", "E_total", final["tinygrad_bp"])
    report.target(
        "article: tinygrad_bp traced ÷ hand-written floats (GC on)",
        ratios["tinygrad_bp traced", "on"] / ratios["hand-written floats", "on"],
        "≤",
        1.0,
    )


# -- the run ---------------------------------------------------------------------------


SECTIONS: dict[str, Callable[[Sizes, Report], None]] = {
    "moons": moons,
    "digits": digits,
    "elementwise": elementwise,
    "depth": depth,
    "article": article,
}


def machine_note() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.2f} at the start"
    return (
        f"{platform.python_implementation()} {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs{load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: seconds, not minutes")
    parser.add_argument(
        "--only",
        choices=list(SECTIONS),
        action="append",
        help="run only this comparison (may be given more than once)",
    )
    parser.add_argument(
        "--repeats", type=int, help="timed repetitions per mode (default 7; 2 quick)"
    )
    parser.add_argument(
        "--json", metavar="FILE", help="also write every figure of the run to FILE as JSON"
    )
    parser.add_argument(
        "--before",
        metavar="DIR",
        help="also time the tinygrad_bp of the checkout DIR (e.g. a git worktree of an "
        "earlier commit) in this run, interleaved: a change measured before and after",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error(f"--repeats: expected at least 1, got {args.repeats}")
        sizes = Sizes(**{**sizes.__dict__, "repeats": args.repeats})
    # torch warns once that it cannot find NumPy; it needs none here.
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

    # The version of the package imported (the source tree, installed or not).
    versions = [f"tinygrad_bp {__version__}"]
    versions.append(
        f"micrograd {version('micrograd')}" if available("micrograd") else "no micrograd"
    )
    if available("torch"):
        import torch

        versions.append(f"PyTorch {torch.__version__} (float64 0-d tensors, 1 thread)")
    else:
        versions.append("no PyTorch")
    # Everything imported so far (three libraries' worth of modules) lives as
    # long as the process: keep the collector from walking it again and again,
    # which would charge each contender for the others' imports.
    gc.collect()
    gc.freeze()
    say(f"# tinygrad_bp benchmark{' (quick)' if args.quick else ''}")
    say(f"Contenders: {', '.join(versions)}.")
    say(f"Machine: {machine_note()}.")
    say()
    report = Report()
    if args.before is not None:
        report.before = Before(Path(args.before).resolve())
        say(f"Before: tinygrad_bp {report.before.version} (--before), in a process of its own.")
        say()
    failed = None
    try:
        for name in args.only or list(SECTIONS):
            SECTIONS[name](sizes, report)
    except c.AgreementError as error:
        failed = str(error)
        say(f"FAILED: the contenders disagree, so no time means anything. {error}")
    if failed is None and args.quick:
        say("(Quick sizes are far too small for the targets, which are for the full run.)")
    elif failed is None and report.targets:
        say("## Targets (ratios from this run)")
        say()
        for what, value, op, goal in report.targets:
            verdict = "met" if met(value, op, goal) else "MISSED"
            say(f"- {what}: {value:.2f} (target {op} {goal:g}): {verdict}")
    if report.before is not None:
        report.before.close()
    if args.json is not None:
        document = {
            "quick": args.quick,
            "sizes": sizes.__dict__,
            "contenders": versions,
            "machine": machine_note(),
            "failed": failed,
            "sections": report.figures,
            "targets": [
                {"what": w, "value": v, "op": op, "goal": g, "met": met(v, op, g)}
                for w, v, op, g in report.targets
            ],
        }
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(document, f, indent=2, ensure_ascii=False)
                f.write("\n")
        except OSError as error:
            say(f"cannot write {args.json!r}: {error.strerror or error}")
            return 1
    return 0 if failed is None else 1


def met(value: float, op: str, goal: float) -> bool:
    return {"≥": value >= goal, "≤": value <= goal, "<": value < goal}[op]


if __name__ == "__main__":
    sys.exit(main())
