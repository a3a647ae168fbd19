"""The counts of what the cross-checks exercised, printed at the end of the session.

``test_against_torch.py`` adds every graph it checks to the ``op_tally``;
the terminal summary then lists, for each op (and each kind of a binary op:
``pow cv`` is number ** Value), the number of those graphs it appeared in.
``test_second_order.py`` does the same for the graphs whose Hessians
(``second_order_tally``) and jvps (``jvp_tally``) it checks, and counts the
points at which it checks each op alone (``point_tally``): one table, an op
a line, for the closing note of the work to quote.
"""

from __future__ import annotations

from collections import Counter

import pytest
from graphgen import OPS, OpTally

_TALLY = pytest.StashKey[OpTally]()
_SECOND = pytest.StashKey[OpTally]()
_JVP = pytest.StashKey[OpTally]()
_POINTS = pytest.StashKey[Counter[tuple[str, str]]]()


@pytest.fixture
def op_tally(request: pytest.FixtureRequest) -> OpTally:
    """The session's tally of the generated graphs checked."""
    return request.config.stash.setdefault(_TALLY, OpTally())


@pytest.fixture
def second_order_tally(request: pytest.FixtureRequest) -> OpTally:
    """The session's tally of the generated graphs whose Hessians were checked."""
    return request.config.stash.setdefault(_SECOND, OpTally())


@pytest.fixture
def jvp_tally(request: pytest.FixtureRequest) -> OpTally:
    """The session's tally of the generated graphs whose jvps were checked."""
    return request.config.stash.setdefault(_JVP, OpTally())


@pytest.fixture
def point_tally(request: pytest.FixtureRequest) -> Counter[tuple[str, str]]:
    """Points checked per ("hessian" or "jvp", op kind), each op on its own."""
    return request.config.stash.setdefault(_POINTS, Counter())


def second_order_table(second: OpTally, jvps: OpTally, points: Counter[tuple[str, str]]) -> str:
    """Per op (and kind): graphs and single-op points checked at second order and by jvp."""
    names = {*second.counts, *jvps.counts, *(name for _, name in points)}
    order = [*OPS, *sorted(names - set(OPS))]
    width = max(map(len, order))
    head = f"{'op':<{width}}  hessian: graphs points   jvp: graphs points"
    lines = [head, f"{'(of)':<{width}}  {second.graphs:>15}          {jvps.graphs:>11}"]
    for name in order:
        # A bare op name's points are the sum of its kinds' (pow = pow vv + vc + cv).
        def pts(what: str, name: str = name) -> int:
            return sum(n for (w, k), n in points.items() if w == what and k.split()[0] == name)

        if name in OPS:
            h, j = pts("hessian"), pts("jvp")
        else:
            h, j = points["hessian", name], points["jvp", name]
        lines.append(
            f"{name:<{width}}  {second.counts[name]:>15} {h:>6}   {jvps.counts[name]:>11} {j:>6}"
        )
    return "\n".join(lines)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    tally = config.stash.get(_TALLY, None)
    if tally is not None and tally.graphs:
        terminalreporter.section("ops in the generated graphs checked against PyTorch")
        terminalreporter.write_line(str(tally))
    second, jvps = config.stash.get(_SECOND, OpTally()), config.stash.get(_JVP, OpTally())
    points = config.stash.get(_POINTS, Counter())
    if second.graphs or jvps.graphs or points:
        terminalreporter.section("second derivatives and jvp checked against PyTorch, per op")
        terminalreporter.write_line(second_order_table(second, jvps, points))
