"""The playground in a real browser: the live page on its server, and a recorded page from disk.

As the other browser tests: the system's Chromium, never a downloaded one;
skipped without it unless TINYGRAD_BP_REQUIRE_BROWSER=1. The live page is
served by ``tinygrad-bp play``'s server in this process; what the page
shows is read back from the DOM and held to the engine's own numbers.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import VIEWPORT, launched, require_chromium  # tests/support

CHROMIUM = require_chromium()  # or this file is skipped
from playwright.sync_api import Browser, Page  # noqa: E402

from nn.playground import Settings  # noqa: E402
from tinygrad_bp import cli, explain  # noqa: E402
from tinygrad_bp.cli.play import PlayServer  # noqa: E402

SCREENSHOTS = os.environ.get("TINYGRAD_BP_PLAYGROUND_SCREENSHOTS")  # docs/ makes its pictures so


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched(CHROMIUM)


@pytest.fixture()
def server() -> Iterator[PlayServer]:
    s = PlayServer(0, Settings().changed({"points": 100}))
    thread = threading.Thread(target=s.serve_forever, daemon=True)
    thread.start()
    yield s
    s.shutdown()
    s.server_close()


class Watched:
    """A page with what it said (errors) and asked for (every URL)."""

    def __init__(self, browser: Browser, allowed: str) -> None:
        # The live page's Content-Security-Policy forbids eval, which Playwright's
        # wait_for_function uses to look into the page: the tests' pages bypass it.
        self.page: Page = browser.new_page(viewport=VIEWPORT, bypass_csp=True)  # type: ignore[arg-type]
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.allowed = allowed
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else 0)
        self.page.on("request", lambda r: self.requests.append(r.url))

    def number(self, selector: str) -> float:
        return float(self.page.text_content(selector) or "nan")

    def check_quiet(self) -> None:
        assert self.errors == []
        outside = [u for u in self.requests if not u.startswith((self.allowed, "data:"))]
        assert outside == []

    def close(self) -> None:
        self.page.close()


def wait_for_step(w: Watched, at_least: int) -> None:
    w.page.wait_for_function(
        f"Number(document.getElementById('step-count').textContent) >= {at_least}", timeout=20_000
    )


def opened_live(browser: Browser, server: PlayServer) -> Watched:
    """The live page of ``server``, drawn (its links are in the DOM)."""
    w = Watched(browser, f"http://127.0.0.1:{server.server_address[1]}/")
    w.page.goto(server.url)
    w.page.wait_for_selector("#network line", state="attached")
    return w


def test_the_live_page_trains_and_answers_clicks_with_the_engines_numbers(
    browser: Browser, server: PlayServer
) -> None:
    w = opened_live(browser, server)
    assert w.page.text_content("#step-count") == "0"
    first_loss = w.number("#train-loss")
    w.page.get_by_role("button", name="Play").click()
    wait_for_step(w, 100)
    w.page.get_by_role("button", name="Pause").click()
    w.page.wait_for_timeout(300)
    steps = int(w.page.text_content("#step-count") or 0)
    assert steps >= 100 and w.number("#train-loss") < first_loss
    assert "Training loss" in w.page.inner_text("main") and "Test loss" in w.page.inner_text("main")
    # A weight clicked (by keyboard: the links are buttons) shows explain's chain rule.
    link = w.page.get_by_role("button", name=re.compile(r"^weight from x₂ to h1_3"))
    link.focus()
    w.page.keyboard.press("Enter")
    w.page.wait_for_function("document.getElementById('detail').textContent.includes('∂L/∂')")
    shown = w.page.text_content("#detail") or ""
    with server.lock:
        session = server.session
        assert session.steps == steps
        loss = session.gradient_graph()  # the last minibatch's graph, built by the engine
        w2 = session.model.layers[0].neurons[2].w[1]
        now = w2.data
        assert session.before_update is not None
        w2.data = session.before_update[session.parameters.index(w2)]
        expected = explain(loss, w2)
        w2.data = now
    assert expected in shown
    final = expected.split("=")[-1].split()[0]
    assert final in (w.page.text_content("#detail-title") or "")[:200] or final in shown
    # A bias clicked: its chain rule too.
    w.page.get_by_role("button", name=re.compile(r"^bias of h2_4")).focus()
    w.page.keyboard.press("Enter")
    w.page.wait_for_function("document.getElementById('detail').textContent.includes('∂L/∂b')")
    assert "its gradient at step" in (w.page.text_content("#detail-title") or "")
    link.focus()
    w.page.keyboard.press("Enter")
    w.page.wait_for_function("document.getElementById('detail').textContent.includes('/∂w')")
    # A weight typed in takes effect at the next step.
    w.page.get_by_label("Set this weight").fill("1.5")
    w.page.get_by_role("button", name="Apply").click()
    w.page.wait_for_timeout(300)
    assert server.session.model.layers[0].neurons[2].w[1].data == 1.5
    w.page.get_by_role("button", name="Step").click()
    wait_for_step(w, steps + 1)
    assert server.session.before_update is not None
    assert server.session.before_update[server.session.parameters.index(w2)] == 1.5
    # A neuron clicked: its Σwx+b and activation, with numbers.
    w.page.get_by_role("button", name=re.compile(r"^neuron h2_1")).focus()
    w.page.keyboard.press("Enter")
    w.page.wait_for_function(
        "document.getElementById('detail').textContent.includes('Σ wᵢ·xᵢ + b')"
    )
    assert "out_h2_1 = tanh(net_h2_1) = " in (w.page.text_content("#detail") or "")
    # The code the engine runs.
    w.page.get_by_text("Code: the traced pass").click()
    w.page.wait_for_function("document.getElementById('code').textContent.includes('def ')")
    assert "@ W_net" in (w.page.text_content("#code") or "")
    if SCREENSHOTS:
        w.page.screenshot(path=str(Path(SCREENSHOTS) / "playground-live.png"))
    w.check_quiet()
    w.close()


def test_a_setting_changed_on_the_page_and_the_hash_round_trip(
    browser: Browser, server: PlayServer
) -> None:
    w = opened_live(browser, server)
    w.page.get_by_label("Dataset").select_option("circles")
    w.page.wait_for_function("location.hash.includes('dataset=circles')")
    w.page.get_by_role("button", name="Add a hidden layer").click()
    w.page.wait_for_function("location.hash.includes('layers=8%2C8%2C4')")
    w.page.get_by_label("x₁²").check()
    w.page.wait_for_function("location.hash.includes('features=x1%2Cx2%2Cx1sq')")
    assert server.session.settings.dataset == "circles"
    assert server.session.settings.layers == (8, 8, 4)
    assert server.session.settings.features == ("x1", "x2", "x1sq")
    # A bad value typed in: the page says why, the run is as it was.
    w.page.get_by_label("Learning rate").fill("-1")
    w.page.get_by_label("Learning rate").press("Enter")
    w.page.get_by_label("Learning rate").blur()
    w.page.wait_for_function("document.getElementById('error').textContent.includes('lr:')")
    assert server.session.settings.lr == 0.03
    for k in range(3):
        w.page.get_by_role("button", name="Step").click()
        wait_for_step(w, k + 1)
    after_three = w.page.text_content("#train-loss")
    url = w.page.url
    # The link, opened anew: the same run from its start, the same numbers step by step.
    w.page.goto("about:blank")
    w.page.goto(url)
    w.page.wait_for_selector("#network line", state="attached")
    assert w.page.text_content("#step-count") == "0"
    assert w.page.get_by_label("Dataset").input_value() == "circles"
    for k in range(3):
        w.page.get_by_role("button", name="Step").click()
        wait_for_step(w, k + 1)
    assert w.page.text_content("#train-loss") == after_three
    assert [len(layer) for layer in server.session.snapshot()["layers"]] == [8, 8, 4, 1]
    w.errors = [e for e in w.errors if "400" not in e]  # the refused setting's answer
    w.check_quiet()
    w.close()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("recorded") / "learn.html"
    assert (
        cli.main(["train", "moons", "--steps", "200", "--layers", "8,8", "--page", str(out)]) == 0
    )
    return out


def test_the_recorded_page_plays_and_scrubs_offline(browser: Browser, recorded: Path) -> None:
    w = Watched(browser, "file://")
    w.page.route(re.compile(r"^(?!file:|data:).*"), lambda route: route.abort())
    w.page.goto(recorded.as_uri())
    w.page.wait_for_selector("#network line", state="attached")
    assert w.page.text_content("#step-count") == "0"
    assert w.page.is_hidden("#dataset")  # a recording: its settings are fixed
    w.page.get_by_role("button", name="Play").click()
    w.page.wait_for_function("Number(document.getElementById('step-count').textContent) > 0")
    w.page.get_by_role("button", name="Pause").click()
    w.page.get_by_label("Recorded step").fill("49")
    w.page.wait_for_function("document.getElementById('step-count').textContent === '200'")
    loss_at_end = w.number("#train-loss")
    w.page.get_by_label("Recorded step").fill("0")
    assert w.number("#train-loss") > loss_at_end
    w.page.get_by_label("Recorded step").fill("30")
    link = w.page.get_by_role("button", name=re.compile(r"^weight from h1_2 to h2_1"))
    link.focus()
    w.page.keyboard.press("Enter")
    detail = w.page.text_content("#detail") or ""
    title = w.page.text_content("#detail-title") or ""
    step = w.page.text_content("#step-count")
    assert f"its gradient at step {step}" in title and "∂L/∂" in detail and "sum of all" in detail
    w.page.get_by_role("button", name=re.compile(r"^bias of o1")).focus()
    w.page.keyboard.press("Enter")
    assert "sum of all" in (w.page.text_content("#detail") or "")
    assert (w.page.text_content("#detail-title") or "").startswith("b")
    w.page.get_by_text("Code: the traced pass").click()
    w.page.wait_for_function("document.getElementById('code').textContent.includes('@ W_net')")
    if SCREENSHOTS:
        w.page.screenshot(path=str(Path(SCREENSHOTS) / "playground-recorded.png"))
    w.check_quiet()
    w.close()


def test_playing_each_frame_is_one_epoch_of_updates(browser: Browser, server: PlayServer) -> None:
    w = opened_live(browser, server)
    asked: list[int] = []
    w.page.on(
        "request",
        lambda r: (
            asked.append(json.loads(r.post_data or "{}")["steps"])
            if r.url.endswith("/api/step")
            else None
        ),
    )
    w.page.get_by_label("Batch size").fill("7")
    w.page.get_by_label("Batch size").press("Enter")
    w.page.wait_for_function("location.hash.includes('batch_size=7')")
    w.page.get_by_role("button", name="Play").click()
    wait_for_step(w, 50)
    w.page.get_by_role("button", name="Pause").click()
    w.page.wait_for_timeout(300)
    # 50 training points (100 at 50%) in batches of 7: 8 updates make an epoch.
    assert len(server.session.train) == 50
    assert asked and set(asked) == {8}
    assert int(w.page.text_content("#step-count") or 0) == 8 * len(asked) == server.session.steps
    w.check_quiet()
    w.close()
