"""The count of generated graphs each op appeared in, printed at the end of the session.

``test_against_torch.py`` adds every graph it checks to the ``op_tally``;
the terminal summary then lists, for each op (and each kind of a binary op:
``pow cv`` is number ** Value), the number of those graphs it appeared in.
"""

from __future__ import annotations

import pytest
from graphgen import OpTally

_TALLY = pytest.StashKey[OpTally]()


@pytest.fixture
def op_tally(request: pytest.FixtureRequest) -> OpTally:
    """The session's tally of the generated graphs checked."""
    return request.config.stash.setdefault(_TALLY, OpTally())


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    tally = config.stash.get(_TALLY, None)
    if tally is None or not tally.graphs:
        return
    terminalreporter.section("ops in the generated graphs checked against PyTorch")
    terminalreporter.write_line(str(tally))
