"""A recorded playground page as a learner opens it: from a file, or inline in Jupyter, with
its own Content-Security-Policy in force (the other browser tests bypass it, to look into
the page with script of their own).

The policy lets only the page's own script run, named by its hash: the page
draws, plays and scrubs under it, and the same page with one byte of its
script changed draws nothing, which shows the policy is in force.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import VIEWPORT, Opened, launched, require_chromium  # tests/support

CHROMIUM = require_chromium()  # or this file is skipped
from playwright.sync_api import Browser  # noqa: E402

from nn.playground import Settings  # noqa: E402
from nn.playground.page import playground, record  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched(CHROMIUM)


@pytest.fixture(scope="module")
def page_text() -> str:
    return record(Settings().changed({"points": 60, "layers": "4"}), steps=40, frames=5)


def opened(browser: Browser, path: Path) -> Opened:
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
    o = Opened(page)
    page.goto(path.as_uri())
    return o


def test_the_recorded_page_runs_under_its_own_policy(
    browser: Browser, page_text: str, tmp_path: Path
) -> None:
    path = tmp_path / "learn.html"
    path.write_text(page_text, encoding="utf-8")
    o = opened(browser, path)
    o.page.wait_for_selector("#network line", state="attached")
    assert o.text("#step-count") == "0"
    o.page.get_by_label("Recorded step").fill("4")
    assert o.text("#step-count") == "40"
    o.page.get_by_role("button", name="Reset").click()
    assert o.text("#step-count") == "0"
    o.page.get_by_role("button", name="Play").click()
    o.page.wait_for_selector("#step-count:text('40')", timeout=10_000)  # no eval: the policy
    # The neurons' pictures are data: URLs the page drew itself, allowed by the policy.
    assert o.page.locator("#network image").count() == 2 + 4 + 1
    o.check_quiet()
    o.page.close()


def test_a_changed_script_is_refused_by_the_policy(
    browser: Browser, page_text: str, tmp_path: Path
) -> None:
    path = tmp_path / "changed.html"
    changed = page_text.replace('"use strict";', '"use strict"; ', 1)
    assert changed != page_text
    path.write_text(changed, encoding="utf-8")
    o = opened(browser, path)
    o.page.wait_for_timeout(500)
    assert o.page.locator("#network line").count() == 0  # the script never ran
    assert any("Content Security Policy" in e for e in o.errors)
    o.page.close()


def test_the_inline_form_shows_the_page_in_a_notebooks_output(browser: Browser) -> None:
    view = playground(points=40, layers="3", steps=10, frames=2)
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
    o = Opened(page)
    # As Jupyter shows it: the HTML the object gives, inside an output of a page of its own.
    page.set_content(f"<!doctype html><title>a notebook</title>{view._repr_html_()}")
    frame = page.frame_locator("iframe")
    frame.locator("#network line").first.wait_for(state="attached")
    assert frame.locator("#step-count").text_content() == "0"
    frame.get_by_label("Recorded step").fill("1")
    assert frame.locator("#step-count").text_content() == "10"
    assert frame.get_by_text("Training loss").count() == 1
    assert o.errors == [] and o.dialogs == []
    assert all(u.startswith(("about:", "data:")) for u in o.requests), o.requests
    page.close()
