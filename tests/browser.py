"""Debian's Chromium, driven by Playwright, for the tests of what runs in a browser.

Chromium comes from the system (`apt-get install chromium`; the Makefile's test set-up and
.ci/run install it), never from Playwright's own download. Each use gets a new empty profile
and no background traffic of Chromium's own (updates, sync, QUIC probes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import BrowserContext, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[BrowserContext]:
    """A browser context of Chromium with `profile` as its (new, empty) user data dir."""
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: install Debian's Chromium (`apt-get install -y chromium`, "
        "which `make test` does when run as root)"
    )
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
        )
        try:
            yield context
        finally:
            context.close()
