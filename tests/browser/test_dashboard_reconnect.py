"""The dashboard across lost connections: it resumes with ``since`` (only the missed changes)
and, after a server restart (same data directory and port), resyncs to the same rows with no
duplicate. A real ``event-registry serve`` process, restarted by the test; headless Chromium
allowed to reach 127.0.0.1 only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, WebSocket, sync_playwright

from tests.support.browser import Offline, launch, offline_page
from tests.support.bulk import create_all
from tests.support.dashboard import LIVE, open_dashboard, row, row_keys, wait_for_count
from tests.support.registry import RegistryProcess, broker, eventtype

NAMESPACE = "reconnecting"
FIRST = [f"first-{index}" for index in range(3)]


def event_type(name: str) -> dict[str, Any]:
    return eventtype(name, NAMESPACE, type=f"dev.dashboard.{name}", broker="default")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dashboard-reconnect")


@pytest.fixture(scope="module")
def registry(data_dir: Path) -> Iterator[RegistryProcess]:
    running = RegistryProcess(data_dir).start()
    try:
        running.wait_ready(timeout=60)
        create_all(
            running.kubeconfig,
            [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}],
        )
        create_all(running.kubeconfig, [broker("default", NAMESPACE)])
        create_all(running.kubeconfig, [event_type(name) for name in FIRST])
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
    with offline_page(browser, width=1280, height=800) as state:
        yield state


class Frames:
    """The subscribe messages the page sends and the change kinds it receives."""

    def __init__(self, page: Page) -> None:
        self.subscribes: list[dict[str, Any]] = []
        self.kinds: list[str] = []
        page.on("websocket", self.follow)

    def follow(self, socket: WebSocket) -> None:
        socket.on("framesent", self.sent)
        socket.on("framereceived", self.received)

    def sent(self, frame: str | bytes) -> None:
        message = json.loads(frame)
        if message.get("type") == "subscribe" and "eventTypeChanges" in str(message):
            self.subscribes.append(message["payload"]["variables"])

    def received(self, frame: str | bytes) -> None:
        message = json.loads(frame)
        change = (message.get("payload") or {}).get("data", {}).get("eventTypeChanges")
        if change:
            self.kinds.append(change["kind"])


def record_statuses(page: Page) -> None:
    """Every value the connection indicator takes, in ``window.statuses``."""
    page.evaluate(
        """() => {
            window.statuses = [];
            const indicator = document.querySelector('[data-status]');
            new MutationObserver(() => window.statuses.push(indicator.dataset.status))
                .observe(indicator, {attributes: true, attributeFilter: ['data-status']});
        }"""
    )


def statuses(page: Page) -> list[str]:
    seen = page.evaluate("window.statuses")
    assert isinstance(seen, list)
    return [str(status) for status in seen]


def keys_in_store(page: Page) -> list[str]:
    keys = page.evaluate("[...window.registryDashboard.store.rows.keys()]")
    assert isinstance(keys, list)
    return [str(key) for key in keys]


def test_a_dropped_connection_resumes_with_since(
    registry: RegistryProcess, offline: Offline
) -> None:
    page = offline.page
    frames = Frames(page)
    open_dashboard(page, registry.origin, f"ui/#/?ns={NAMESPACE}")
    wait_for_count(page, len(FIRST), len(FIRST))
    assert frames.subscribes == [{"includeExisting": True}]
    record_statuses(page)

    page.evaluate("window.registryDashboard.dropConnection()")
    create_all(registry.kubeconfig, [event_type("while-away")])
    row(page, NAMESPACE, "while-away").wait_for()
    page.locator(LIVE).wait_for()

    assert len(frames.subscribes) == 2, frames.subscribes
    resumed = frames.subscribes[1]
    assert resumed["includeExisting"] is False
    assert isinstance(resumed.get("since"), str)
    assert "reconnecting" in statuses(page)
    # Only the missed change came back, not the whole set again.
    assert frames.kinds.count("EXISTING") >= len(FIRST)
    after = frames.kinds[frames.kinds.index("INITIAL_SET_COMPLETE") + 1 :]
    assert "EXISTING" not in after
    assert "RESYNC_REQUIRED" not in after
    wait_for_count(page, len(FIRST) + 1, len(FIRST) + 1)
    keys = row_keys(page)
    assert len(keys) == len(set(keys)) == len(FIRST) + 1
    offline.assert_clean()


def test_a_server_restart_resyncs_to_the_same_rows_without_duplicates(
    registry: RegistryProcess, data_dir: Path, offline: Offline
) -> None:
    page = offline.page
    frames = Frames(page)
    open_dashboard(page, registry.origin, f"ui/#/?ns={NAMESPACE}")
    before = sorted(row_keys(page))
    assert len(before) >= len(FIRST)
    wait_for_count(page, len(before), len(before))
    record_statuses(page)

    port = urlsplit(registry.url).port
    assert port is not None
    registry.stop()
    page.locator('[data-status="reconnecting"]').wait_for()
    restarted = RegistryProcess(data_dir, "--port", str(port), log=data_dir / "restarted.log")
    try:
        restarted.start()
        restarted.wait_ready(timeout=60)
        page.locator(LIVE).wait_for(timeout=30_000)
        wait_for_count(page, len(before), len(before))
        assert sorted(row_keys(page)) == before
        stored = keys_in_store(page)
        assert len(stored) == len(set(stored))
        assert "reconnecting" in statuses(page)
        # It resumed with its cursor, which is from before the restart: the server said
        # RESYNC_REQUIRED and the page read the whole set again (includeExisting).
        assert frames.subscribes[0] == {"includeExisting": True}
        assert frames.subscribes[1]["includeExisting"] is False
        assert isinstance(frames.subscribes[1].get("since"), str)
        assert frames.subscribes[2:] == [{"includeExisting": True}]
        assert frames.kinds.count("RESYNC_REQUIRED") == 1
        assert frames.kinds.count("INITIAL_SET_COMPLETE") == 2

        create_all(restarted.kubeconfig, [event_type("after-restart")])
        row(page, NAMESPACE, "after-restart").wait_for()
        wait_for_count(page, len(before) + 1, len(before) + 1)
        keys = row_keys(page)
        assert len(keys) == len(set(keys))
    finally:
        restarted.stop()
    # The restart's own dropped socket is logged by the browser as a failed WebSocket.
    assert offline.left_localhost == []
