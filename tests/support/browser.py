"""Debian's headless Chromium under Playwright, allowed to reach 127.0.0.1 only.

Playwright drives /usr/bin/chromium (``scripts/install-browser``) through ``executable_path``;
it never downloads a browser of its own. :func:`offline_page` opens a context in which every
request that is not to 127.0.0.1 is aborted and recorded (so a CDN reference, a web font or
a stray tracker both breaks the page and fails :meth:`Offline.assert_clean`), and console
errors and uncaught exceptions are collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOST = "127.0.0.1"
ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"


def require_chromium() -> None:
    """Fail (never skip) when the system Chromium is missing."""
    if not CHROMIUM.exists():  # scripts/test installs it
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/install-browser (as root)")


def launch(playwright: Playwright) -> Browser:
    require_chromium()
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


@dataclass
class Offline:
    """A browser context that may reach only 127.0.0.1, and what its page reported."""

    context: BrowserContext
    page: Page
    left_localhost: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    graphql_requests: list[Request] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.left_localhost == [], f"requests left localhost: {self.left_localhost}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"


@contextmanager
def offline_page(
    browser: Browser, *, width: int = 1400, height: int = 850, timeout_ms: float = 20_000
) -> Iterator[Offline]:
    """A fresh context and page with every non-localhost request aborted and recorded."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    state = Offline(context=context, page=page)

    def only_localhost(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == LOCAL_HOST:
            route.continue_()
        else:
            state.left_localhost.append(url)
            route.abort("internetdisconnected")

    def on_request(request: Request) -> None:
        parts = urlsplit(request.url)
        leaves = parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != LOCAL_HOST
        if leaves and request.url not in state.left_localhost:
            state.left_localhost.append(request.url)
        if parts.path == "/graphql" and request.method == "POST":
            state.graphql_requests.append(request)

    def on_websocket(url: str) -> None:
        if urlsplit(url).hostname != LOCAL_HOST:
            state.left_localhost.append(url)

    context.route("**/*", only_localhost)
    page.on("request", on_request)
    page.on("websocket", lambda socket: on_websocket(socket.url))
    page.on(
        "console",
        lambda message: (
            state.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: state.console_errors.append(f"uncaught: {error}"))
    try:
        yield state
    finally:
        context.close()
