"""The web dashboard in headless Chromium against a real ``event-registry serve``.

The registry holds the README's examples (``kubectl create -f examples/``). Every request
that is not to 127.0.0.1 is aborted and recorded, so the page must work with no network;
changes are made only through the control plane (kubectl) or the page itself, and the DOM
is asserted (never wall-clock times: bench/dashboard.py measures those).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, sync_playwright

from tests.support.browser import ARTIFACTS, Offline, launch, offline_page
from tests.support.controlplane import REPO
from tests.support.dashboard import LIVE, open_dashboard, row, row_keys, wait_for_count
from tests.support.registry import RegistryProcess, eventually, write_tokens

NAMESPACE = "default"
EXAMPLE_KEYS = {
    "default/com.github.pullrequest",
    "default/org.bitbucket.repofork",
    "default/dev.knative.source.github.issues",
}
"""Three of the examples' five EventTypes (the other two have generated names)."""
COST_CEILING = 50_000
"""Every operation the page sends costs far less than the default limit (500,000)."""
TOKEN = "dashboard-browser-token"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    running = RegistryProcess(tmp_path_factory.mktemp("dashboard")).start()
    try:
        running.wait_ready(timeout=60)
        running.kubectl("create", "-f", str(REPO / "examples"), check=True)
        eventually(lambda: consumable_count(running) == 5, timeout=30)
        yield running
    finally:
        running.stop()


def consumable_count(registry: RegistryProcess) -> int:
    data = registry.query(
        '{ eventTypes(namespace: "default", filter: {consumable: true}) { totalCount } }'
    )["data"]
    count = data["eventTypes"]["totalCount"]
    assert isinstance(count, int)
    return count


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    with offline_page(browser, width=1280, height=800) as state:
        yield state


def graphql_costs(page: Page) -> list[int]:
    """Collects ``extensions.cost.requested`` of every GraphQL answer the page receives."""
    costs: list[int] = []

    def on_response(response: Response) -> None:
        if response.url.endswith("/graphql") and response.request.method == "POST":
            body: dict[str, Any] = json.loads(response.body())
            costs.append(body["extensions"]["cost"]["requested"])

    page.on("response", on_response)
    return costs


def set_broker_ready(registry: RegistryProcess, name: str, status: str) -> None:
    condition = {"type": "Ready", "status": status, "reason": "DashboardTest"}
    registry.kubectl(
        "patch",
        "brokers.eventing.knative.dev",
        name,
        "-n",
        NAMESPACE,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"conditions": [condition]}}),
        check=True,
    )


def test_the_page_loads_every_view_with_no_network(
    registry: RegistryProcess, offline: Offline
) -> None:
    page = offline.page
    costs = graphql_costs(page)
    open_dashboard(page, registry.origin)
    assert page.url == f"{registry.origin}/ui/"
    wait_for_count(page, 5, 5)
    assert set(row_keys(page)) >= EXAMPLE_KEYS
    pushes = row(page, NAMESPACE, "org.bitbucket.repofork")
    assert pushes.get_attribute("data-consumable") == "true"
    # Namespaces with their counts; the consumer of GitHub pushes counted in its row.
    namespaces = page.locator(f'.namespaces [data-namespace="{NAMESPACE}"]')
    assert "5" in namespaces.inner_text()
    push = page.locator('.body [data-key^="default/dev.knative.source.github.push-"]')
    assert push.locator(".cell.consumers").inner_text() == "1"

    page.locator('a:has-text("Brokers")').first.click()
    page.locator('[data-broker="default/dev"][data-ready="true"]').wait_for()
    page.locator('[data-broker="default/default"]').wait_for()

    page.goto(f"{registry.origin}/ui/#/eventtypes/default/dev.knative.source.github.issues")
    page.locator("#detail-title", has_text="dev.knative.source.github.issues").wait_for()
    attributes = page.locator("table.plain").first.inner_text()
    assert "specversion" in attributes
    assert "GitHub issue events" in page.locator(".detail-head").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-detail.png"), full_page=True)

    assert costs, "the page sent no GraphQL query"
    assert max(costs) < COST_CEILING, costs
    offline.assert_clean()


def test_a_broker_flip_through_the_control_plane_changes_its_rows(
    registry: RegistryProcess, offline: Offline
) -> None:
    page = offline.page
    open_dashboard(page, registry.origin)
    fork = row(page, NAMESPACE, "org.bitbucket.repofork")  # the only EventType on Broker dev
    fork.and_(page.locator('[data-consumable="true"]')).wait_for()
    try:
        set_broker_ready(registry, "dev", "False")
        fork.and_(page.locator('[data-consumable="false"]')).wait_for()
        assert "No" in fork.locator(".cell.consumable").inner_text()
        # Only the flipped Broker's EventType changed, and it is highlighted.
        assert "flash" in (fork.get_attribute("class") or "")
        other = row(page, NAMESPACE, "com.github.pullrequest")
        assert other.get_attribute("data-consumable") == "true"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-flip.png"))
    finally:
        set_broker_ready(registry, "dev", "True")
    fork.and_(page.locator('[data-consumable="true"]')).wait_for()
    offline.assert_clean()


def test_the_subscribe_form_creates_a_trigger(registry: RegistryProcess, offline: Offline) -> None:
    page = offline.page
    open_dashboard(page, registry.origin, "ui/#/eventtypes/default/com.github.pullrequest")
    page.locator("#detail-title").wait_for()
    uri = page.get_by_label("Subscriber URI")

    uri.fill("not a uri")
    page.get_by_role("button", name="Subscribe").click()
    error = page.locator('.field-error[data-field="uri"]')
    error.wait_for()
    assert "is not a URI reference" in error.inner_text()
    assert uri.get_attribute("aria-invalid") == "true"
    assert uri.get_attribute("aria-describedby") == error.get_attribute("id")

    uri.fill("http://pr-auditor.default.svc.cluster.local")
    page.get_by_label("Trigger name (optional)").fill("pr-auditor")
    page.get_by_role("button", name="Subscribe").click()
    page.locator(".form-done", has_text="Trigger pr-auditor created").wait_for()
    assert not page.locator(".field-error").count()

    listed = registry.kubectl("get", "triggers", "-n", NAMESPACE, check=True).stdout
    assert "pr-auditor" in listed
    page.locator('.consumers [data-trigger="pr-auditor"]').wait_for()
    consumers = row(page, NAMESPACE, "com.github.pullrequest").locator(".cell.consumers")
    page.goto(f"{registry.origin}/ui/#/")
    consumers.filter(has_text="1").wait_for()
    offline.assert_clean()


def test_filters_search_sort_and_keyboard(registry: RegistryProcess, offline: Offline) -> None:
    page = offline.page
    open_dashboard(page, registry.origin)
    wait_for_count(page, 5, 5)

    page.get_by_label("Type prefix").fill("dev.knative.source.github.")
    wait_for_count(page, 3, 5)
    page.get_by_label("Broker").select_option("dev")
    wait_for_count(page, 0, 5)
    page.get_by_label("Broker").select_option("")
    page.get_by_label("Type prefix").fill("")
    page.get_by_label("Search").fill("BITBUCKET")
    wait_for_count(page, 1, 5)
    assert row_keys(page) == ["default/org.bitbucket.repofork"]
    page.get_by_label("Search").fill("")
    page.get_by_label("Consumable").select_option("no")
    wait_for_count(page, 0, 5)
    page.get_by_label("Consumable").select_option("any")
    wait_for_count(page, 5, 5)

    page.locator('button[data-sort="type"]').click()  # type, descending
    assert row_keys(page)[0] == "default/org.bitbucket.repofork"
    header = page.locator('[role="columnheader"]:has(button[data-sort="type"])')
    assert header.get_attribute("aria-sort") == "descending"

    # Keyboard only: into the table, down one row, open it.
    page.locator('button[data-sort="type"]').focus()
    page.keyboard.press("Tab")  # the next sort button
    first_link = page.locator(".body [data-index='0'] a")
    first_link.focus()
    page.keyboard.press("ArrowDown")
    # The row's link takes focus once the table has rendered the move (an effect, not at once).
    page.wait_for_function(
        "() => document.activeElement === document.querySelector(\".body [data-index='1'] a\")",
        timeout=5_000,
    )
    page.keyboard.press("Enter")
    page.locator("#detail-title").wait_for()
    assert "#/eventtypes/default/" in page.url
    offline.assert_clean()


def test_a_phone_width_shows_the_table(registry: RegistryProcess, browser: Browser) -> None:
    with offline_page(browser, width=390, height=844) as phone:
        page = phone.page
        open_dashboard(page, registry.origin)
        wait_for_count(page, 5, 5)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways: {width}px"
        assert row(page, NAMESPACE, "com.github.pullrequest").is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"))
        phone.assert_clean()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    directory = tmp_path_factory.mktemp("dashboard-tokens")
    tokens = write_tokens(
        directory / "tokens.yaml",
        [{"token": TOKEN, "name": "viewer", "namespaces": {"default": ["read"]}}],
    )
    running = RegistryProcess(directory / "data", tokens_file=tokens).start()
    try:
        running.wait_ready(timeout=60)
        yield running
    finally:
        running.stop()


def test_a_registry_with_tokens_asks_for_one_and_keeps_it(
    guarded: RegistryProcess, browser: Browser
) -> None:
    with offline_page(browser) as state:
        page = state.page
        # The 401s and the refused socket are expected here; the browser logs them.
        page.goto(f"{guarded.origin}/")
        dialog = page.get_by_role("dialog")
        dialog.wait_for()
        page.get_by_label("Token", exact=True).fill(TOKEN)
        dialog.get_by_role("button", name="Save token").click()
        page.locator(LIVE).wait_for()
        assert page.evaluate("localStorage.getItem('event-registry-token')") == TOKEN
        page.locator('.namespaces [data-namespace="default"]').wait_for()
        assert page.locator(".namespaces [data-namespace]").count() == 1  # only what it reads

        page.reload()  # the stored token is used at once: no dialog
        page.locator(LIVE).wait_for()
        assert page.get_by_role("dialog").count() == 0
        assert state.left_localhost == []
