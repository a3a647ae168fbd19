"""The playground's figures on this machine: the live page's pace, a snapshot's latency,
and the size of a recorded page.

    python benchmarks/playground.py            # the server, over HTTP, and a recorded page
    python benchmarks/playground.py --browser  # also the page itself in Chromium, playing

- a snapshot's latency: ``GET /api/snapshot`` answered by ``tinygrad-bp play``'s
  server in this process (every neuron's picture over the plane, the
  weights, the gradients, the losses, as JSON), the median of many, with
  the time ``Session.snapshot`` alone takes;
- the server's pace: ``POST /api/step`` of an epoch's updates (what the
  page asks for each frame while it plays: 10 for the default run),
  snapshot included, as updates a second; and a step alone
  (``Session.step``), without a snapshot;
- with ``--browser``: the live page in headless Chromium (the system's,
  as the browser tests use), Play pressed for 10 s: the step count it
  shows, a second (the page draws every answer before it asks again);
- the size of ``tinygrad-bp train moons --steps 1000 --page``'s page.

Each for the playground's default run (moons, 200 points, 2-8-8-1 tanh,
batches of 10) unless said otherwise. Figures vary with the machine and
its load; none is a test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script from anywhere: the repository root holds tinygrad_bp and nn.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))  # chromium.py, for --browser

from nn.playground import Session, Settings  # noqa: E402
from tinygrad_bp import cli  # noqa: E402
from tinygrad_bp.cli.play import PlayServer  # noqa: E402


def median_ms(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def over_http(settings: Settings, repeats: int) -> dict[str, float]:
    epoch = -(-settings.train_test() // settings.batch_size)  # the page's updates a frame
    server = PlayServer(0, settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=60)
    headers = {"X-Token": server.token, "Content-Type": "application/json"}
    size = 0

    def ask(method: str, path: str, body: Any = None) -> None:
        nonlocal size
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        assert response.status == 200, payload[:200]
        size = len(payload)

    try:
        ask("POST", "/api/step", {"steps": 1})  # warm: the traces compiled
        snapshot = median_ms(lambda: ask("GET", "/api/snapshot"), repeats)
        snapshot_bytes = size
        frame = median_ms(lambda: ask("POST", "/api/step", {"steps": epoch}), repeats)
    finally:
        conn.close()
        server.shutdown()
        server.server_close()
    session = Session(settings)
    session.step(5)
    alone = median_ms(session.snapshot, repeats)
    update = median_ms(lambda: session.step(1), repeats * 5)
    return {
        "snapshot over HTTP, ms": snapshot,
        "snapshot's JSON, kB": snapshot_bytes / 1e3,
        "Session.snapshot alone, ms": alone,
        f"POST /api/step of {epoch} (snapshot included), ms": frame,
        f"updates a second, the server asked for {epoch} at a time": epoch / (frame / 1e3),
        "Session.step(1) alone (one update, the losses after it), ms": update,
    }


def in_chromium(settings: Settings, seconds: float) -> dict[str, float]:
    from chromium import VIEWPORT, launched, require_chromium  # tests/support

    browser_path = require_chromium()
    server = PlayServer(0, settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for browser in launched(browser_path):
            # The page forbids eval, which wait_for_function uses: bypassed, as the tests do.
            page = browser.new_page(viewport=VIEWPORT, bypass_csp=True)
            page.goto(server.url)
            page.wait_for_selector("#network line", state="attached")
            page.get_by_role("button", name="Play").click()
            page.wait_for_function("Number(document.getElementById('step-count').textContent) > 0")
            first = int(page.text_content("#step-count") or 0)
            start = time.perf_counter()
            page.wait_for_timeout(seconds * 1e3)
            last = int(page.text_content("#step-count") or 0)
            elapsed = time.perf_counter() - start
            page.get_by_role("button", name="Pause").click()
            page.close()
    finally:
        server.shutdown()
        server.server_close()
    return {
        f"the live page playing for {seconds:g} s in Chromium, steps a second": (last - first)
        / elapsed
    }


def recorded_size() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "learn.html"
        start = time.perf_counter()
        assert cli.main(["train", "moons", "--steps", "1000", "--page", str(path)]) == 0
        seconds = time.perf_counter() - start
        size = path.stat().st_size
    return {
        "train moons --steps 1000 --page: the page, MB": size / 1e6,
        "train moons --steps 1000 --page: the command's time, s": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browser", action="store_true", help="also the page in Chromium")
    parser.add_argument("--repeats", type=int, default=30, help="requests timed (default 30)")
    args = parser.parse_args()
    settings = Settings()
    figures = over_http(settings, args.repeats)
    if args.browser:
        figures |= in_chromium(settings, 10.0)
    figures |= recorded_size()
    print()
    for name, value in figures.items():
        print(f"{name}: {value:,.2f}")


if __name__ == "__main__":
    main()
