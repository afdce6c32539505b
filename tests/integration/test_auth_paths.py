"""No path around authentication (tokens mode, a real ``event-registry serve``).

Without a token every request that could carry an operation is refused (401 over HTTP, 4401 /
4403 over WebSocket) and none runs: whatever the method, the ``Accept`` header, or how the
``query`` parameter is spelled in the URL (``%71uery`` decodes to ``query``, and is an
operation to GraphQL). Only the GraphiQL page, which holds no data, is served without a token.
WebSocket handshakes from a foreign page ``Origin`` are refused (403); clients that send no
``Origin`` (gql, graphql-ws) are not affected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from tests.support.registry import (
    RegistryProcess,
    Reply,
    broker,
    eventually,
    http,
    write_tokens,
)

TOKEN = "a-valid-token-for-tests"
OPERATION = "{_service{sdl}}"
ENCODED = quote(OPERATION, safe="")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    workdir = tmp_path_factory.mktemp("auth-paths")
    tokens = write_tokens(
        workdir / "tokens.yaml",
        [{"token": TOKEN, "name": "reader", "namespaces": {"default": ["read"]}}],
    )
    running = RegistryProcess(workdir / "data", tokens_file=tokens)
    try:
        running.start()
        running.wait_ready()
        yield running
    finally:
        running.stop()


def ran_nothing(reply: Reply) -> None:
    assert reply.status == 401, (reply.status, reply.text)
    assert reply.headers.get("www-authenticate") == 'Bearer realm="event-registry"'
    if reply.body:  # HEAD has none
        assert reply.json() == {"errors": [{"message": "a valid bearer token is required"}]}
    assert b"sdl" not in reply.body


QUERY_STRINGS = [
    pytest.param(f"query={ENCODED}", id="query"),
    pytest.param(f"%71uery={ENCODED}", id="percent-encoded-q"),
    pytest.param(f"%71%75%65%72%79={ENCODED}", id="fully-percent-encoded"),
    pytest.param(f"qu%65ry={ENCODED}&query={ENCODED}", id="both-forms"),
    pytest.param(f"x=1&%71uery={ENCODED}", id="second-parameter"),
    pytest.param(f"%71uery={ENCODED}&variables=%7B%7D", id="with-variables"),
    pytest.param("variables=%7B%7D", id="variables-only"),
    pytest.param("operationName=x", id="operation-name-only"),
    pytest.param("extensions=%7B%7D", id="extensions-only"),
]
ACCEPTS = [
    pytest.param({"accept": "text/html"}, id="text/html"),
    pytest.param({"accept": "application/json"}, id="application/json"),
    pytest.param({"accept": "*/*"}, id="any"),
    pytest.param({}, id="no-accept"),
    pytest.param({"accept": "text/html;q=0.1, application/json"}, id="html-low-quality"),
]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query_string", QUERY_STRINGS)
def test_a_get_carrying_an_operation_needs_a_token(
    registry: RegistryProcess, query_string: str, accept: dict[str, str]
) -> None:
    ran_nothing(registry.get(f"/graphql?{query_string}", headers=accept))


def test_with_a_token_the_encoded_parameter_is_an_operation(registry: RegistryProcess) -> None:
    """The reason the check must decode: GraphQL reads ``%71uery`` as ``query``."""
    reply = registry.get(
        f"/graphql?%71uery={ENCODED}",
        headers={"accept": "application/json", "authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status == 200, reply.text
    assert "sdl" in reply.json()["data"]["_service"]


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"])
def test_other_methods_need_a_token(registry: RegistryProcess, method: str) -> None:
    ran_nothing(http(method, f"{registry.url}?query={ENCODED}", headers={"accept": "text/html"}))


def test_a_post_needs_a_token(registry: RegistryProcess) -> None:
    body = json.dumps({"query": OPERATION}).encode()
    for accept in ("application/json", "text/html", "*/*"):
        headers = {"content-type": "application/json", "accept": accept}
        ran_nothing(http("POST", registry.url, body=body, headers=headers))
    wrong = {"content-type": "application/json", "authorization": "Bearer not-a-known-token"}
    ran_nothing(http("POST", registry.url, body=body, headers=wrong))


@pytest.mark.parametrize("query_string", ["", "?", "?QUERY=x", "?x=%71uery"])
def test_the_graphiql_page_is_served_without_a_token_and_runs_nothing(
    registry: RegistryProcess, query_string: str
) -> None:
    reply = registry.get(f"/graphql{query_string}", headers={"accept": "text/html"})
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert "graphiql" in reply.text.lower()
    assert "sdl" not in reply.text


def test_methods_graphql_does_not_serve_are_refused_after_authentication(
    registry: RegistryProcess,
) -> None:
    reply = http("PUT", registry.url, headers={"authorization": f"Bearer {TOKEN}"})
    assert reply.status == 405


def ws_url(registry: RegistryProcess) -> str:
    return registry.url.replace("http://", "ws://")


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_websocket_without_a_token_is_closed_4403(
    registry: RegistryProcess, protocol: str
) -> None:
    async with connect(ws_url(registry), subprotocols=[Subprotocol(protocol)]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        frames: list[str | bytes] = []

        async def read_until_closed() -> None:
            while True:
                frames.append(await ws.recv())

        with pytest.raises(ConnectionClosed) as closed:
            await read_until_closed()
        kinds = [json.loads(frame)["type"] for frame in frames]
        assert kinds in ([], ["connection_error"]), frames
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403


async def test_a_websocket_operation_before_connection_init_is_closed_4401(
    registry: RegistryProcess,
) -> None:
    async with connect(ws_url(registry), subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": OPERATION}}
        await ws.send(json.dumps(subscribe))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_a_handshake_from_a_foreign_page_is_refused_403(registry: RegistryProcess) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            ws_url(registry),
            subprotocols=[Subprotocol("graphql-transport-ws")],
            origin="https://evil.example",  # type: ignore[arg-type]
            additional_headers={"authorization": f"Bearer {TOKEN}"},
        )
    assert refused.value.response.status_code == 403
    body = json.loads(refused.value.response.body or b"{}")
    assert "--allowed-origins" in body["errors"][0]["message"]


async def test_a_handshake_from_the_servers_own_page_is_accepted(
    registry: RegistryProcess,
) -> None:
    async with connect(
        ws_url(registry),
        subprotocols=[Subprotocol("graphql-transport-ws")],
        origin=registry.origin,  # type: ignore[arg-type]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": TOKEN}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_gql_without_an_origin_header_still_works(
    registry: RegistryProcess, protocol: str
) -> None:
    transport = WebsocketsTransport(
        url=ws_url(registry),
        init_payload={"Authorization": f"Bearer {TOKEN}"},
        subprotocols=[protocol],
        close_timeout=2,
    )
    async with Client(transport=transport) as session:
        result = await session.execute(gql("{ __typename }"))
    assert result == {"__typename": "Query"}


def test_metrics_are_served_without_a_token_and_name_no_namespace(
    registry: RegistryProcess,
) -> None:
    """Scrapers need no token (as Kubernetes components serve /metrics); nothing in it may
    tell a caller which namespaces or objects exist."""
    registry.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "hidden-team"}},
        broker("hidden-broker", "hidden-team"),
    )

    def scraped_with_the_broker() -> str | None:
        reply = http("GET", f"{registry.origin}/metrics")
        assert reply.status == 200, reply.text
        counted = 'event_registry_cache_objects{kind="Broker"} 1.0' in reply.text
        return reply.text if counted else None

    text = eventually(scraped_with_the_broker, timeout=30)
    assert text is not None
    assert "hidden" not in text
    assert "default" not in text
