"""Take docs/dashboard.png: the dashboard at 1280x800 against a fresh ``event-registry serve``
with ``examples/`` applied and Broker ``dev`` flipped to not ready (its EventType turns
unconsumable, highlighted), in Debian's headless Chromium.

Run from the repository root: ``.venv/bin/python docs/screenshot.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.browser import launch, offline_page  # noqa: E402
from tests.support.dashboard import open_dashboard, row, wait_for_count  # noqa: E402
from tests.support.registry import RegistryProcess  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dashboard-screenshot-") as directory:
        registry = RegistryProcess(Path(directory)).start()
        try:
            registry.wait_ready(timeout=60)
            registry.kubectl("create", "-f", str(REPO / "examples"), check=True)
            with sync_playwright() as playwright:
                browser = launch(playwright)
                with offline_page(browser, width=1280, height=800) as state:
                    page = state.page
                    open_dashboard(page, registry.origin, "ui/#/?ns=default")
                    wait_for_count(page, 5, 5)
                    page.locator('.body [data-consumable="false"]').first.wait_for(state="detached")
                    condition = {"type": "Ready", "status": "False", "reason": "IngressNotReady"}
                    registry.kubectl(
                        "patch", "brokers.eventing.knative.dev", "dev", "-n", "default",
                        "--subresource=status", "--type=merge",
                        "-p", json.dumps({"status": {"conditions": [condition]}}),
                        check=True,
                    )  # fmt: skip
                    row(page, "default", "org.bitbucket.repofork").and_(
                        page.locator('[data-consumable="false"]')
                    ).wait_for()
                    page.wait_for_timeout(300)  # mid-highlight
                    page.screenshot(path=str(REPO / "docs" / "dashboard.png"))
                    state.assert_clean()
                browser.close()
        finally:
            registry.stop()


if __name__ == "__main__":
    main()
