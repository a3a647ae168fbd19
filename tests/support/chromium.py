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
from pathlib import Path
from typing import Any, TypeVar

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


class Opened:
    """A page opened from disk, with what it asked of the outside world.

    Script errors, console errors and warnings, dialogs (dismissed) and every
    URL requested are kept; ``check_quiet`` asserts there were none but the
    file itself. A test file subclasses it with its own page's questions.
    """

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else 0
        )
        page.on("request", lambda r: self.requests.append(r.url))

        def dismiss(dialog: Any) -> None:
            self.dialogs.append(getattr(dialog, "message", "?"))
            dialog.dismiss()

        page.on("dialog", dismiss)

    def text(self, selector: str) -> str:
        return self.page.text_content(selector) or ""

    def check_quiet(self) -> None:
        """No script error, no dialog, nothing fetched but the file itself."""
        assert self.errors == []
        assert self.dialogs == []
        assert all(url.startswith("file://") for url in self.requests), self.requests


Page = TypeVar("Page", bound=Opened)


def open_file(browser: Any, path: Path, kind: type[Page]) -> Page:
    """``path`` opened in a new page of ``browser``, watched by ``kind``, once it has drawn."""
    page = browser.new_page(viewport=VIEWPORT)
    opened = kind(page)
    page.goto(path.as_uri())
    page.wait_for_selector("#tg-counter")
    return opened
