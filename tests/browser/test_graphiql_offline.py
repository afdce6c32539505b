"""GraphiQL in a real browser with no network: every asset comes from the registry itself.

A real ``event-registry serve`` process (with its embedded control plane) and Debian's
headless Chromium driven by Playwright. Every request that is not to 127.0.0.1 is aborted and
recorded, so a CDN reference anywhere would both break the page and fail the test. Needs
/usr/bin/chromium (``scripts/install-browser``); Playwright never downloads a browser of its
own here. Screenshots go to ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import ARTIFACTS, Offline, launch, offline_page, require_chromium
from tests.support.registry import RegistryProcess

TOKEN_KEY = "event-registry-token"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESPONSE_EDITOR = ".graphiql-response .CodeMirror"

require_chromium()  # scripts/test installs it; never skip the browser test


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    running = RegistryProcess(tmp_path_factory.mktemp("registry")).start()
    try:
        # The embedded control plane installs Knative's CRDs; once the informers have synced,
        # the registry lists the control plane's namespaces (which always include "default").
        running.wait_ready(timeout=60)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    with offline_page(browser) as state:
        yield state


def open_graphiql(page: Page, url: str) -> None:
    page.goto(url)
    page.locator(".graphiql-container").wait_for()
    page.locator(QUERY_EDITOR).wait_for()


def editor_value(page: Page, selector: str) -> str:
    """The whole text of a GraphiQL (CodeMirror 5) editor, not only its rendered lines."""
    value = page.locator(selector).first.evaluate("element => element.CodeMirror.getValue()")
    assert isinstance(value, str)
    return value


def run_query(page: Page) -> dict[str, Any]:
    """Click GraphiQL's run button; the ``data`` of the result its response pane shows."""
    page.locator("button.graphiql-execute-button").click()
    # The response editor stays empty until the result arrives.
    page.wait_for_function(
        f"() => document.querySelector({RESPONSE_EDITOR!r}).CodeMirror.getValue().trim().length > 0"
    )
    result = json.loads(editor_value(page, RESPONSE_EDITOR))
    assert isinstance(result, dict)
    assert "errors" not in result, result
    data = result["data"]
    assert isinstance(data, dict)
    return data


def test_graphiql_runs_a_query_with_no_network(registry: RegistryProcess, offline: Offline) -> None:
    page = offline.page
    open_graphiql(page, registry.url)
    # The default query shows the registry until the user types something else.
    default = editor_value(page, QUERY_EDITOR)
    assert "namespaces" in default
    assert "consumable" in default

    query = "{ namespaces { name } }"
    page.locator(QUERY_EDITOR).click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(query)  # one input event: no auto-closed brackets
    assert editor_value(page, QUERY_EDITOR) == query
    # GraphiQL takes edits in after a debounce (the operation name with them); its saved tab
    # state is written last, so once that holds the new query a run sends the new operation.
    page.wait_for_function(
        """query => {
            const state = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
            return state !== null && state.tabs[state.activeTabIndex].query === query;
        }""",
        arg=query,
    )

    data = run_query(page)
    assert {"name": "default"} in data["namespaces"]
    assert '"default"' in page.locator(".graphiql-response").inner_text()  # what a person sees

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "graphiql-offline.png"))
    assert offline.graphql_requests, "GraphiQL sent no POST to /graphql"
    assert all(r.url == registry.url for r in offline.graphql_requests)
    offline.assert_clean()


def test_default_query_shows_the_registry(registry: RegistryProcess, offline: Offline) -> None:
    page = offline.page
    open_graphiql(page, registry.url)  # a fresh browser: no stored tabs
    data = run_query(page)
    default = next(ns for ns in data["namespaces"] if ns["name"] == "default")
    assert default["eventTypes"] == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "graphiql-default-query.png"))
    offline.assert_clean()


def test_link_fragment_opens_an_operation(registry: RegistryProcess, offline: Offline) -> None:
    page = offline.page
    query = "query Names { namespaces { name } }"
    open_graphiql(page, f"{registry.url}#query={quote(query, safe='')}")
    assert editor_value(page, QUERY_EDITOR) == query
    data = run_query(page)
    assert {"name": "default"} in data["namespaces"]
    offline.assert_clean()


def test_stored_token_is_sent_as_bearer_authorization(
    registry: RegistryProcess, offline: Offline
) -> None:
    offline.context.add_init_script(f"localStorage.setItem({TOKEN_KEY!r}, 'browser-test-token')")
    page = offline.page
    open_graphiql(page, f"{registry.url}#query={quote('{ namespaces { name } }', safe='')}")
    run_query(page)
    assert offline.graphql_requests  # the schema introspection and the query
    for request in offline.graphql_requests:
        assert request.headers.get("authorization") == "Bearer browser-test-token"
    offline.assert_clean()
