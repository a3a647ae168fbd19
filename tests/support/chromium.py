"""The system's Chromium for the browser tests, found once for every test file.

Never a downloaded browser: Debian's ``chromium`` (or ``TINYGRAD_BP_CHROMIUM``).
Without Chromium or Playwright a test file that calls ``require_chromium()``
at import is skipped, unless ``TINYGRAD_BP_REQUIRE_BROWSER=1`` (as in CI),
which makes that an error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

REQUIRED = os.environ.get("TINYGRAD_BP_REQUIRE_BROWSER") == "1"
HOW = (
    "to run them, install Chromium (Debian/Ubuntu: apt-get install chromium) and "
    'pip install "tinygrad-bp[browser]"'
)
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


def _unavailable(reason: str) -> None:
    if REQUIRED:
        raise RuntimeError(f"TINYGRAD_BP_REQUIRE_BROWSER=1 but {reason}; {HOW}")
    pytest.skip(f"browser tests skipped: {reason}; {HOW}", allow_module_level=True)


def require_chromium() -> str:
    """The Chromium to drive, or the calling test file skipped (an error where required)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        _unavailable("Playwright is not installed")
    chromium = (
        os.environ.get("TINYGRAD_BP_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not chromium:  # pragma: no cover - depends on the environment
        _unavailable("no Chromium found (chromium is not on PATH, TINYGRAD_BP_CHROMIUM is unset)")
    return str(chromium)


def launched(chromium: str) -> Iterator[Any]:
    """Chromium launched headless for a module's tests (the body of a fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
