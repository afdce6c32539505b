"""Driving the web dashboard (clients/web, served at ``/ui``) from Playwright.

The page marks what tests read: the connection indicator's ``data-status`` (``live``,
``reconnecting``, ``resyncing``...), each table row's ``data-key`` (``namespace/name``),
``data-ready`` and ``data-consumable``, and the count's ``data-shown`` / ``data-total``.
The table is virtualized: only rows in view are in the DOM.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page

from tests.support.registry import broker, eventtype

Json = dict[str, Any]

LIVE = '[data-status="live"]'


def open_dashboard(page: Page, origin: str, fragment: str = "") -> None:
    """Open ``/`` (redirected to ``/ui/``) and wait until its subscription is live."""
    page.goto(f"{origin}/{fragment}")
    page.locator(LIVE).wait_for()


def row(page: Page, namespace: str, name: str) -> Locator:
    return page.locator(f'.body [data-key="{namespace}/{name}"]')


def rows(page: Page) -> Locator:
    return page.locator(".body [data-key]")


def row_keys(page: Page) -> list[str]:
    keys = rows(page).evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert isinstance(keys, list)
    return [str(key) for key in keys]


def wait_for_count(page: Page, shown: int, total: int | None = None) -> None:
    """Until the table says it shows ``shown`` rows (of ``total``)."""
    selector = f'.count[data-shown="{shown}"]'
    if total is not None:
        selector += f'[data-total="{total}"]'
    page.locator(selector).wait_for()


GROUPS = ("orders", "payments", "shipping", "audit")


def scale_documents(namespace: str, count: int, broker_name: str = "default") -> list[Json]:
    """The namespace, its Broker and ``count`` EventTypes spread over four type prefixes
    (``dev.scale.<group>.itemNNNNN``), for the 5,000-row test and bench."""
    documents: list[Json] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        broker(broker_name, namespace),
    ]
    documents += [
        eventtype(
            f"item-{index:05d}",
            namespace,
            type=f"dev.scale.{GROUPS[index % len(GROUPS)]}.item{index:05d}",
            source=f"https://{GROUPS[index % len(GROUPS)]}.example.com/items",
            broker=broker_name,
        )
        for index in range(count)
    ]
    return documents
