"""The update steps and the learning view in a real browser: headless Chromium via Playwright.

As tests/browser/test_stepper_browser.py: the system's Chromium, never a
downloaded one; skipped without it unless TINYGRAD_BP_REQUIRE_BROWSER=1.
Each page is opened from disk, driven by its keys, buttons and scrubber, and
what it shows is read back from the DOM.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import VIEWPORT, Opened, launched, open_file, require_chromium  # tests/support

CHROMIUM = require_chromium()  # or this file is skipped
from playwright.sync_api import Browser  # noqa: E402

from nn import mazur  # noqa: E402  (after the skip: nothing to import if skipped)
from tinygrad_bp import cli  # noqa: E402
from tinygrad_bp.show import Learning, Stepper  # noqa: E402

FIRST_UPDATE = 35  # the start, 11 forward and 23 backward steps, then "update 1/8": w5
W5_UPDATE = "w5⁺ = w5 − η·∂E_total/∂w5 = 0.4 − 0.5 × 0.082167041 = 0.358916480"
SCREENSHOT = os.environ.get("TINYGRAD_BP_LEARNING_SCREENSHOT")  # docs/ makes its picture so


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched(CHROMIUM)


class LearningPage(Opened):
    """The stepper page with its learning view."""

    def data_cell(self, node_id: str) -> str:
        return self.text(f"g#{node_id} text.tg-data")

    def scrub(self, sample: int) -> None:
        """Move the scrubber to sample ``sample``, as dragging it does."""
        self.page.fill("#tg-learn-range", str(sample))


def open_page(browser: Browser, path: Path) -> LearningPage:
    return open_file(browser, path, LearningPage)


@pytest.fixture(scope="module")
def article_page(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The page ``viz mazur`` writes: the update steps and 10,000 updates."""
    out = tmp_path_factory.mktemp("learning") / "backprop.html"
    assert cli.main(["viz", "mazur", "-o", str(out)]) == 0
    yield out


def test_the_update_steps_write_the_new_weights_into_the_graph(
    browser: Browser, article_page: Path
) -> None:
    opened = open_page(browser, article_page)
    for _ in range(FIRST_UPDATE):
        opened.page.keyboard.press("ArrowRight")
    assert opened.text("#tg-counter") == "update 1/8"
    assert opened.text("#tg-equation") == W5_UPDATE
    current = opened.page.eval_on_selector_all("g.tg-current", "els => els.map(e => e.id)")
    assert len(current) == 1
    # w5's node now shows its new value, marked as new; w6 has not been updated yet.
    assert opened.data_cell(current[0]) == "data 0.358916480"
    assert "tg-new" in opened.page.eval_on_selector(
        f"g#{current[0]} text.tg-data", "e => e.className.baseVal"
    )
    opened.page.keyboard.press("ArrowRight")
    assert opened.text("#tg-counter") == "update 2/8"
    assert opened.data_cell(current[0]) == "data 0.358916480"
    # Back to the last backward step: w5 shows its old value again.
    for _ in range(2):
        opened.page.keyboard.press("ArrowLeft")
    assert opened.text("#tg-counter") == "backward 23/23"
    assert opened.data_cell(current[0]) == "data 0.400000000"
    opened.check_quiet()


def test_the_forward_pass_again_shows_the_error_after_one_update(
    browser: Browser, article_page: Path
) -> None:
    opened = open_page(browser, article_page)
    for _ in range(FIRST_UPDATE + 8):
        opened.page.keyboard.press("ArrowRight")
    assert opened.text("#tg-counter") == "forward again"
    assert "E_total = 0.291027774 (was 0.298371109)" in opened.text("#tg-heading")
    root = opened.page.eval_on_selector("g.tg-current", "e => e.id")
    assert opened.data_cell(root) == "data 0.291027774"
    assert opened.text(f"g#{root} text.tg-grad") == "grad ?"  # the old pass's gradient is gone
    assert opened.page.is_hidden("#tg-learn")
    opened.check_quiet()


def test_the_scrubber_at_update_10000_shows_the_articles_error(
    browser: Browser, article_page: Path
) -> None:
    opened = open_page(browser, article_page)
    opened.page.keyboard.press("End")
    assert opened.text("#tg-counter") == "learning"
    assert opened.page.is_visible("#tg-learn")
    assert opened.page.is_visible("#tg-learn-plot polyline")
    assert opened.text("#tg-learn-readout").startswith("update 0 of 10,000: E_total = 0.298371109")
    last = int(opened.page.get_attribute("#tg-learn-range", "max") or "0")
    assert last == 1000
    opened.scrub(last)
    readout = opened.text("#tg-learn-readout")
    assert readout == "update 10,000 of 10,000: E_total = 0.000035102 (3.5102e-05)"
    # Every value at that update is on the graph: the error, the outputs, the weights.
    cells = opened.page.eval_on_selector_all(
        "g.node",
        """els => els.filter(g => g.querySelector('text.tg-data')).map(g =>
             [g.querySelector('title') ? g.querySelector('title').textContent : g.id,
              g.querySelector('text.tg-data').textContent])""",
    )
    shown = {text for _, text in cells}
    for figure in ["0.000035102", "0.015913620", "0.984064274"]:
        assert f"data {figure}" in shown, figure
    trained = mazur.network()
    mazur.train(trained, 10_000)
    w5 = mazur.weight(trained, "w5").data
    assert f"data {w5:.9f}" in shown
    assert f"w5\u00a0=\u00a0{w5:.9f}" in opened.text("#tg-learn-values")
    # After the first update: what the forward pass again showed.
    opened.scrub(1)
    assert opened.text("#tg-learn-readout").startswith("update 1 of 10,000: E_total = 0.291027774")
    if SCREENSHOT:
        opened.page.click("#tg-zoom-fit")  # the whole graph, outputs and error included
        opened.scrub(150)
        opened.page.screenshot(path=SCREENSHOT)
    opened.check_quiet()


def test_play_animates_the_run_to_its_end_and_keys_move_the_scrubber(
    browser: Browser, tmp_path: Path
) -> None:
    model, step = mazur.backpropagated()
    s = Stepper(
        step.E_total,
        parameters=model.parameters(),
        learning=Learning(mazur.trained_parameters(model), updates=200),
    )
    opened = open_page(browser, s.save(tmp_path / "short.html"))
    page = opened.page
    page.keyboard.press("End")
    assert opened.text("#tg-counter") == "learning"
    page.click("#tg-learn-play")
    assert opened.text("#tg-learn-play") == "❚❚ Pause"
    # The page's CSP allows no eval, so poll from here: the run in about ten seconds.
    for _ in range(300):
        if opened.text("#tg-learn-play") == "▶ Play":
            break
        page.wait_for_timeout(100)
    assert page.get_attribute("body", "data-update") == "200"
    assert opened.text("#tg-learn-readout").startswith("update 200 of 200: E_total = ")
    # Space on the learning view plays the run again (not the steps from the start).
    page.keyboard.press(" ")
    assert opened.text("#tg-counter") == "learning"
    assert opened.text("#tg-learn-play") == "❚❚ Pause"
    page.keyboard.press(" ")
    assert opened.text("#tg-learn-play") == "▶ Play"
    # The scrubber's own keys move it, and do not step the page.
    page.focus("#tg-learn-range")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert opened.text("#tg-counter") == "learning"
    assert opened.text("#tg-learn-readout").startswith("update 1 of 200: E_total = 0.291027774")
    # Clicking the plot's left edge goes to the start of the run.
    box = page.locator("#tg-learn-plot").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 64 / 760, box["y"] + box["height"] / 2)
    assert opened.text("#tg-learn-readout").startswith("update 0 of 200: ")
    # Leaving the view pauses it and hides it.
    page.click("#tg-learn-play")
    page.keyboard.press("ArrowLeft")
    assert opened.text("#tg-counter") == "forward again"
    assert page.is_hidden("#tg-learn")
    opened.check_quiet()


def test_viz_on_a_formula_with_parameters_learns_in_the_browser(
    browser: Browser, tmp_path: Path
) -> None:
    out = tmp_path / "neuron.html"
    argv = ["viz", "(tanh(x*w + b) - 0.5)**2", "x=2", "w=-3", "b=6.8813735870195432"]
    assert cli.main([*argv, "--parameters", "w,b", "--updates", "500", "-o", str(out)]) == 0
    opened = open_page(browser, out)
    opened.page.keyboard.press("End")
    assert opened.text("#tg-counter") == "learning"
    opened.scrub(int(opened.page.get_attribute("#tg-learn-range", "max") or "0"))
    readout = opened.text("#tg-learn-readout")
    assert readout.startswith("update 500 of 500: out = ")
    opened.page.click("#tg-start")  # the scrubber has the keys while it has the focus
    counters = []
    for _ in range(30):
        opened.page.keyboard.press("ArrowRight")
        counters.append(opened.text("#tg-counter"))
        if counters[-1] == "forward again":
            break
    assert [c for c in counters if c.startswith("update ")] == ["update 1/2", "update 2/2"]
    assert counters[-1] == "forward again"
    opened.check_quiet()


def test_jupyters_inline_iframe_shows_the_learning_view(browser: Browser) -> None:
    model, step = mazur.backpropagated()
    s = Stepper(step.E_total, learning=Learning(mazur.trained_parameters(model)))
    page = browser.new_page(viewport=VIEWPORT)
    opened = Opened(page)
    page.set_content(f"<!DOCTYPE html><p>notebook cell</p>{s._repr_html_()}")
    frame = page.frame_locator("iframe")
    frame.locator("#tg-end").click()
    assert frame.locator("#tg-counter").inner_text() == "learning"
    frame.locator("#tg-learn-range").fill("1000")
    assert frame.locator("#tg-learn-readout").inner_text() == (
        "update 10,000 of 10,000: E_total = 0.000035102 (3.5102e-05)"
    )
    assert opened.errors == [] and opened.dialogs == []
    page.close()
