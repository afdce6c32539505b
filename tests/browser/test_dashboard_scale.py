"""5,000 EventTypes in the dashboard: they all arrive through the one subscription, the
table keeps only the rows in view in the DOM, and filtering, sorting and scrolling give the
right rows. Latencies are measured by bench/dashboard.py, not asserted here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import ARTIFACTS, launch, offline_page
from tests.support.bulk import create_all
from tests.support.dashboard import (
    open_dashboard,
    row,
    row_keys,
    rows,
    scale_documents,
    wait_for_count,
)
from tests.support.registry import RegistryProcess

NAMESPACE = "scale"
COUNT = 5000
MOST_ROWS_IN_DOM = 60
"""A 800-pixel-high window shows about 15 rows; the table renders eight more each side."""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    running = RegistryProcess(tmp_path_factory.mktemp("dashboard-scale")).start()
    try:
        running.wait_ready(timeout=60)
        documents = scale_documents(NAMESPACE, COUNT)
        for batch in (documents[:1], documents[1:2], documents[2:]):  # namespace, Broker, rest
            create_all(running.kubeconfig, batch)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


def rendered(page: Page) -> int:
    return rows(page).count()


def test_five_thousand_rows_render_filter_sort_and_scroll(
    registry: RegistryProcess, browser: Browser
) -> None:
    with offline_page(browser, width=1280, height=800, timeout_ms=60_000) as state:
        page = state.page
        open_dashboard(page, registry.origin, f"ui/#/?ns={NAMESPACE}")
        wait_for_count(page, COUNT, COUNT)
        assert 0 < rendered(page) <= MOST_ROWS_IN_DOM
        assert row_keys(page)[0] == f"{NAMESPACE}/item-00003"  # by type: dev.scale.audit first

        page.get_by_label("Type prefix").fill("dev.scale.orders.")
        wait_for_count(page, COUNT // 4, COUNT)
        assert all(int(key[-5:]) % 4 == 0 for key in row_keys(page))  # orders: index % 4 == 0
        page.get_by_label("Search").fill("ITEM0123")  # item01230..01239; orders: two of them
        wait_for_count(page, 2, COUNT)
        assert sorted(row_keys(page)) == [
            f"{NAMESPACE}/item-01232",
            f"{NAMESPACE}/item-01236",
        ]
        page.get_by_label("Type prefix").fill("")
        page.get_by_label("Search").fill("")
        wait_for_count(page, COUNT, COUNT)

        # Sorted descending by type and scrolled to the very end: the smallest type.
        page.locator('button[data-sort="type"]').click()
        page.locator(".body").evaluate("body => { body.scrollTop = body.scrollHeight; }")
        row(page, NAMESPACE, "item-00003").wait_for()
        assert 0 < rendered(page) <= MOST_ROWS_IN_DOM
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-5000.png"))
        state.assert_clean()
