"""The stepper page in a real browser: headless Chromium driven by Playwright.

The browser is the system's Chromium (Debian's ``chromium`` package, or the
one named by TINYGRAD_BP_CHROMIUM); no browser is ever downloaded. Without
Playwright or Chromium these tests are skipped, saying how to enable them;
with TINYGRAD_BP_REQUIRE_BROWSER=1 (as CI sets it) that is a failure
instead, so a missing browser cannot pass silently.

Each page is opened from disk (file://) and driven by its buttons and keys;
what it shows is read back from the DOM and compared with backward() and
explain().
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import VIEWPORT, Opened, launched, open_file, require_chromium  # tests/support

CHROMIUM = require_chromium()  # or this file is skipped
from playwright.sync_api import Browser, expect  # noqa: E402

from nn import MLP, mazur  # noqa: E402  (after the skip: nothing to import if skipped)
from tinygrad_bp import Value, cli, explain  # noqa: E402
from tinygrad_bp.graph import topological_order  # noqa: E402
from tinygrad_bp.show import Stepper  # noqa: E402

W5_STEP = 19  # 11 forward steps, then E_total .. net_o2 (7), then w5: "backward 8/23"
W5_FIGURES = ["0.74136507", "0.186815602", "0.593269992", "0.082167041"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched(CHROMIUM)


class StepperPage(Opened):
    """The stepper page: where it is, and what each node shows."""

    def counter(self) -> str:
        return self.page.inner_text("#tg-counter")

    def equation(self) -> str:
        return self.text("#tg-equation")

    def current(self) -> str:
        ids = self.page.eval_on_selector_all("g.tg-current", "els => els.map(e => e.id)")
        assert len(ids) == 1, ids
        return str(ids[0])

    def marked(self, cls: str) -> set[str]:
        return set(self.page.eval_on_selector_all(f"g.{cls}", "els => els.map(e => e.id)"))

    def cells(self) -> dict[str, tuple[str, str]]:
        """Each drawn node's id -> the data and grad text it shows now."""
        found = self.page.eval_on_selector_all(
            "g.node",
            """els => els.filter(g => g.querySelector('text.tg-data')).map(g => [g.id,
                 g.querySelector('text.tg-data').textContent,
                 g.querySelector('text.tg-grad').textContent])""",
        )
        return {i: (d, g) for i, d, g in found}


def open_page(browser: Browser, path: Path) -> StepperPage:
    opened = open_file(browser, path, StepperPage)
    assert opened.counter() == "start"
    return opened


@pytest.fixture
def article_page(
    browser: Browser, tmp_path: Path, article: tuple[MLP, Value, dict[str, Value]]
) -> Iterator[tuple[StepperPage, Stepper]]:
    model, root, _ = article
    s = Stepper(root, parameters=model.parameters())
    opened = open_page(browser, s.save(tmp_path / "backprop.html"))
    yield opened, s
    opened.page.close()


# -- the article ---------------------------------------------------------------------------


def test_next_19_times_shows_w5s_chain_rule(
    article_page: tuple[StepperPage, Stepper],
    article: tuple[MLP, Value, dict[str, Value]],
    tmp_path: Path,
) -> None:
    opened, s = article_page
    _, root, nodes = article
    for _ in range(W5_STEP):
        opened.page.click("#tg-next")
    assert opened.counter() == "backward 8/23"
    w5 = s.drawing.node_ids[nodes["w5"]]
    assert opened.current() == w5
    shown = opened.page.text_content(f"g#{w5}") or ""
    assert "w5" in shown and "grad 0.082167041" in shown and "data 0.400000000" in shown
    equation = opened.equation()
    assert equation == explain(root, "w5")
    for figure in W5_FIGURES:
        assert figure in equation
    assert opened.page.text_content("#tg-heading") == "Backward: ∂E_total/∂w5"
    assert opened.page.text_content("#tg-legend-edges") == "edges its gradient came back along"
    # The gradient came back to w5 along its edge into net_o1 (and net_o1's op edge).
    net_o1 = nodes["net_o1"]
    into = s.drawing.edge_ids[(net_o1, net_o1.parents.index(nodes["w5"]))]
    assert opened.marked("tg-carried") == {into, f"{s.drawing.node_ids[net_o1]}_out"}
    assert s.drawing.edge_ids[(nodes["out_o1"], 0)] in opened.marked("tg-path")
    assert opened.marked("tg-source") == {s.drawing.node_ids[net_o1]}
    # w6's gradient is not yet shown; net_o1's is.
    cells = opened.cells()
    assert cells[s.drawing.node_ids[nodes["w6"]]][1] == "grad ?"
    assert cells[s.drawing.node_ids[net_o1]][1] == "grad 0.138498562"
    shot = tmp_path / "w5.png"
    opened.page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    opened.check_quiet()


def test_keys_step_jump_and_play(browser: Browser, tmp_path: Path) -> None:
    model = mazur.network()
    step = mazur.forward(model)
    step.E_total.backward()
    fast = Stepper(step.E_total, seconds_per_step=0.05).save(tmp_path / "fast.html")
    opened = open_page(browser, fast)
    keys = opened.page.keyboard
    for _ in range(W5_STEP):
        keys.press("ArrowRight")
    assert opened.counter() == "backward 8/23"
    assert "0.082167041" in opened.equation()
    keys.press("ArrowLeft")
    assert opened.counter() == "backward 7/23"
    assert opened.page.text_content("#tg-heading") == "Backward: ∂E_total/∂net_o2"
    keys.press("End")
    assert opened.counter() == "backward 23/23"
    assert opened.page.is_disabled("#tg-next") and opened.page.is_disabled("#tg-end")
    keys.press("ArrowRight")  # nothing past the end
    assert opened.counter() == "backward 23/23"
    keys.press("Home")
    assert opened.counter() == "start"
    assert opened.page.is_disabled("#tg-prev") and not opened.page.is_disabled("#tg-next")
    keys.press("ArrowLeft")  # nothing before the start
    assert opened.counter() == "start"
    # Space plays to the end (0.05 s a step here) and stops there.
    keys.press(" ")
    assert opened.page.inner_text("#tg-play") == "❚❚ Pause"
    # (expect polls without eval, which the page's Content-Security-Policy forbids)
    expect(opened.page.locator("#tg-counter")).to_have_text("backward 23/23", timeout=10_000)
    expect(opened.page.locator("#tg-play")).to_have_text("▶ Play", timeout=2_000)
    # Play at the end starts over; Space again pauses where it is.
    keys.press(" ")
    expect(opened.page.locator("#tg-counter")).to_have_text(
        re.compile(r"forward ([3-9]|1[01])/11"), timeout=5_000
    )
    keys.press(" ")
    held = opened.counter()
    opened.page.wait_for_timeout(300)
    assert opened.counter() == held
    assert opened.page.inner_text("#tg-play") == "▶ Play"
    opened.check_quiet()


def test_space_on_a_focused_button_plays_and_does_not_press_it(
    browser: Browser, tmp_path: Path
) -> None:
    x = Value(2.0, "x")
    y = x.exp()
    y.label = "y"
    y.backward()
    slow = Stepper(y, seconds_per_step=60).save(tmp_path / "slow.html")
    opened = open_page(browser, slow)
    opened.page.click("#tg-next")  # the button keeps the focus
    assert opened.counter() == "forward 1/1"
    opened.page.keyboard.press(" ")
    assert opened.page.inner_text("#tg-play") == "❚❚ Pause"
    assert opened.counter() == "forward 1/1"
    opened.page.keyboard.press(" ")
    assert opened.page.inner_text("#tg-play") == "▶ Play"
    assert opened.counter() == "forward 1/1"
    opened.page.click("#tg-end")
    assert opened.counter() == "backward 2/2"
    opened.page.click("#tg-prev")
    opened.page.click("#tg-start")
    assert opened.counter() == "start"
    opened.check_quiet()


def test_start_forward_and_end_show_what_is_known(
    article_page: tuple[StepperPage, Stepper], article: tuple[MLP, Value, dict[str, Value]]
) -> None:
    opened, s = article_page
    _, root, nodes = article
    by_id = {s.drawing.node_ids[v]: v for v in topological_order(root)}
    # At the start only the leaves (inputs and parameters) have values.
    for nid, (data, grad) in opened.cells().items():
        v = by_id[nid]
        assert data == (f"data {v.data:.9f}" if not v.parents else "data ?"), v.label
        assert grad == "grad ?"
    # One step forward: net_h1 and nothing else.
    opened.page.keyboard.press("ArrowRight")
    assert opened.counter() == "forward 1/11"
    assert opened.current() == s.drawing.node_ids[nodes["net_h1"]]
    cells = opened.cells()
    assert cells[s.drawing.node_ids[nodes["net_h1"]]][0] == "data 0.377500000"
    assert cells[s.drawing.node_ids[nodes["out_h1"]]][0] == "data ?"
    assert opened.equation() == (
        "net_h1 = w1·i1 + w2·i2 + b1\n       = 0.15 × 0.05 + 0.2 × 0.1 + 0.35 = 0.3775"
    )
    assert opened.page.text_content("#tg-legend-edges") == "edges its inputs came in by"
    assert opened.page.is_hidden("#tg-legend-path")
    # At the end every gradient shown is the one backward() computed.
    opened.page.keyboard.press("End")
    cells = opened.cells()
    assert len(cells) == 23
    for nid, (data, grad) in cells.items():
        v = by_id[nid]
        assert float(data.removeprefix("data ")) == pytest.approx(v.data, abs=5e-10)
        assert float(grad.removeprefix("grad ")) == pytest.approx(v.grad, abs=5e-10), v.label
    article_grads = {"w5": 0.082167041, "w1": 0.000438568, "w8": -0.022740242}
    for label, figure in article_grads.items():
        shown = cells[s.drawing.node_ids[nodes[label]]][1]
        assert float(shown.removeprefix("grad ")) == pytest.approx(figure, abs=5e-10)
    opened.check_quiet()


def test_the_viz_command_page_plays_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    out = tmp_path / "backprop.html"
    assert cli.main(["viz", "mazur", "-o", str(out)]) == 0
    opened = open_page(browser, out)
    for _ in range(W5_STEP):
        opened.page.keyboard.press("ArrowRight")
    assert opened.counter() == "backward 8/23"
    equation = opened.equation()
    assert all(figure in equation for figure in W5_FIGURES)
    opened.page.screenshot(path=str(tmp_path / "viz-w5.png"))
    opened.check_quiet()


# -- any graph ---------------------------------------------------------------------------


def test_hostile_labels_stay_text_and_run_nothing(browser: Browser, tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    img = '<img src=x onerror="alert(2)">'
    x = Value(1.5, hostile)
    w = Value(-0.5, img)
    y = (x * w + x).tanh()
    y.label = "</script><script>alert(3)</script>"
    y.backward()
    opened = open_page(browser, Stepper(y, title=hostile).save(tmp_path / "hostile.html"))
    keys = opened.page.keyboard
    seen: list[str] = []
    for _ in range(8):  # from the start through 3 forward and 5 backward steps
        keys.press("ArrowRight")
        seen.append(opened.equation())
    assert opened.counter() == "backward 5/5"
    # The labels are on the page as text: in the graph, in the equations and the title.
    texts = opened.page.eval_on_selector_all("svg text", "els => els.map(e => e.textContent)")
    assert hostile in texts and img in texts and y.label in texts
    assert any(f"∂{y.label}/∂{hostile}" in text for text in seen)
    assert opened.page.text_content("#tg-title") == hostile
    assert opened.page.title() == hostile
    assert opened.page.is_visible(f"svg text:text-is('{hostile}')")
    # Nothing ran, nothing was added: no dialog, no <img>, only the page's two scripts.
    assert opened.page.eval_on_selector_all("img", "els => els.length") == 0
    assert opened.page.eval_on_selector_all("script", "els => els.length") == 2
    opened.page.screenshot(path=str(tmp_path / "hostile.png"))
    opened.check_quiet()


def test_a_collapsed_2_16_16_1_mlp_plays_to_the_end(
    browser: Browser, tmp_path: Path, mlp_loss: tuple[MLP, Value]
) -> None:
    model, loss = mlp_loss
    s = Stepper(loss, parameters=model.parameters(), collapse_neurons=True, precision=4)
    opened = open_page(browser, s.save(tmp_path / "mlp.html"))
    forward = sum(1 for step in s.steps if step.kind == "forward")
    opened.page.keyboard.press("ArrowRight")
    assert opened.counter() == f"forward 1/{forward}"
    assert "relu(Σwx+b)" in (opened.page.text_content("g.tg-current") or "")
    opened.page.keyboard.press("End")
    assert opened.counter() == "backward 145/145"
    cells = opened.cells()
    assert len(cells) == 145
    order = topological_order(loss)
    for nid, (data, grad) in cells.items():
        # draw names a node "v<k>" after the Value it shows, k its place in topological
        # order; a neuron's node shows its output.
        v = order[int(nid[1:])]
        assert float(grad.removeprefix("grad ")) == pytest.approx(v.grad, abs=5e-5), nid
        assert float(data.removeprefix("data ")) == pytest.approx(v.data, abs=5e-5), nid
    opened.page.keyboard.press("Home")
    opened.page.screenshot(path=str(tmp_path / "mlp-start.png"))
    opened.check_quiet()


def test_jupyters_inline_iframe_plays(
    browser: Browser, article: tuple[MLP, Value, dict[str, Value]]
) -> None:
    _, root, _ = article
    page = browser.new_page(viewport=VIEWPORT)
    opened = Opened(page)
    page.set_content(f"<!DOCTYPE html><p>notebook cell</p>{Stepper(root)._repr_html_()}")
    frame = page.frame_locator("iframe")
    frame.locator("#tg-next").click()
    assert frame.locator("#tg-counter").inner_text() == "forward 1/11"
    frame.locator("#tg-end").click()
    assert frame.locator("#tg-counter").inner_text() == "backward 23/23"
    assert "∂E_total/∂b1" in (frame.locator("#tg-equation").text_content() or "")
    assert opened.errors == [] and opened.dialogs == []
    page.close()


# -- forward mode ------------------------------------------------------------------------

ARTICLE_SWEEPS = (
    "forward mode: 8 sweeps of 23 node visits (184 in all); reverse mode: 1 sweep of 23"
)


def test_viz_forward_plays_the_sweep_of_tangents_for_w5(browser: Browser, tmp_path: Path) -> None:
    out = tmp_path / "both.html"
    assert cli.main(["viz", "mazur", "--forward", "--wrt", "w5", "-o", str(out)]) == 0
    opened = open_page(browser, out)
    page = opened.page
    _, step = mazur.backpropagated()
    order = topological_order(step.E_total)
    ids = {v.label: f"v{k}" for k, v in enumerate(order)}  # draw names a node after its place
    # The count the library measured is on the page from the start.
    assert page.inner_text("#tg-sweeps") == ARTICLE_SWEEPS
    # The controls keep their accessible names.
    for name in ("start", "previous", "play", "next", "end", "zoom out", "fit", "zoom in"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(1)
    for _ in range(12):  # through the 11 forward steps to the seed
        page.keyboard.press("ArrowRight")
    assert opened.counter() == "forward mode: seed"
    assert opened.current() == ids["w5"]
    cells = opened.cells()
    assert cells[ids["w5"]][1] == "tangent 1.000000000"
    assert cells[ids["w6"]][1] == cells[ids["i1"]][1] == "tangent 0.000000000"
    assert cells[ids["net_o1"]][1] == cells[ids["E_total"]][1] == "tangent ?"
    assert "seed: dw5/dw5 = 1, and 0 on every other leaf" in opened.equation()
    # Node by node, in topological order, each with its tangent's line.
    for k in range(1, 12):
        page.click("#tg-next")
        assert opened.counter() == f"tangent {k}/11"
    assert opened.current() == ids["E_total"]
    assert page.text_content("#tg-heading") == "Forward mode: dE_total/dw5"
    equation = opened.equation()
    assert "= 1 × 0.082167041 + 1 × 0 = 0.082167041" in equation
    assert equation.splitlines()[-1] == (
        "∂E_total/∂w5 = dE_total/dw5 = 0.082167041 by forward mode "
        "= 0.082167041 by reverse mode (backward)"
    )
    cells = opened.cells()
    assert cells[ids["E_total"]][1] == "tangent 0.082167041"
    assert cells[ids["out_o1"]][1] == "tangent 0.110832091"
    assert cells[ids["net_o1"]][1] == "tangent 0.593269992"
    assert cells[ids["out_h1"]][1] == "tangent 0.000000000"
    # The node's incoming edges are marked, and the nodes it reads from.
    e_total = step.E_total
    root = ids["E_total"]
    assert opened.marked("tg-carried") == {f"{root}_e0", f"{root}_e1", f"{root}_out"}
    assert opened.marked("tg-source") == {ids[p.label] for p in e_total.parents}
    assert page.text_content("#tg-legend-edges") == "edges its parents' tangents came in by"
    page.screenshot(path=str(tmp_path / "tangent-E_total.png"))
    # Then backpropagation, as without --forward: the gradients come back.
    page.keyboard.press("ArrowRight")
    assert opened.counter() == "backward 1/23"
    cells = opened.cells()
    assert cells[ids["E_total"]][1] == "grad 1.000000000"
    assert cells[ids["w5"]][1] == "grad ?"
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    assert opened.counter() == "backward 8/23"
    assert all(figure in opened.equation() for figure in W5_FIGURES)
    assert opened.cells()[ids["w5"]][1] == "grad 0.082167041"  # the same figure, backward
    opened.check_quiet()
