"""The registry as an Apollo Federation v2 subgraph, behind a real Apollo Gateway.

Everything runs as separate processes talking HTTP on loopback: ``event-registry serve`` (with
its embedded control plane, fed through the PyPI kubectl), a second "catalog" subgraph that
adds ``EventType.owningTeam``, and an ``@apollo/gateway`` that composes both from their live
``_service { sdl }``. The Node programs live in ``federation/``; their dependencies are
installed with ``npm ci`` from the committed lockfile when ``node_modules`` is missing.

The registry runs in tokens mode so that ``_entities`` can be checked against a namespace the
caller may not read: such a representation must resolve to null, exactly like a missing one.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support import node as node_support
from tests.support.controlplane import knative_crd
from tests.support.registry import (
    AnnouncingProcess,
    Json,
    RegistryProcess,
    data_of,
    eventtype,
    eventually,
    post_graphql,
    write_tokens,
)

FEDERATION = Path(__file__).resolve().parent / "federation"
REPO = FEDERATION.parents[2]

DEFAULT_READER = "default-reader-token"
EVERYTHING_READER = "everything-reader-token"
TOKENS = [
    {"token": DEFAULT_READER, "name": "default-reader", "namespaces": {"default": ["read"]}},
    {
        "token": EVERYTHING_READER,
        "name": "everything-reader",
        "namespaces": {"default": ["read"], "secret": ["read"]},
    },
]

PULL_REQUEST = ("default", "com.github.pullrequest")
PING = ("default", "dev.knative.sources.ping")
HIDDEN = ("secret", "com.example.hidden")


@pytest.fixture(scope="module")
def node() -> str:
    """Node, with this test's npm packages installed from their lockfile."""
    return node_support.installed(FEDERATION)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("federation")


def read(
    registry: RegistryProcess, query: str, token: str = EVERYTHING_READER, **variables: Any
) -> Json:
    """The ``data`` of a query the registry must answer without errors."""
    return data_of(registry.query(query, variables, token))


@pytest.fixture(scope="module")
def registry(workdir: Path) -> Iterator[RegistryProcess]:
    """``event-registry serve`` on its embedded control plane, with three EventTypes applied."""
    tokens = write_tokens(workdir / "tokens.yaml", TOKENS)
    registry = RegistryProcess(
        workdir / "registry", tokens_file=tokens, log=workdir / "registry.log"
    )
    try:
        registry.start(timeout=60)
        registry.wait_ready(timeout=60)
        crds = registry.kubectl("get", "crd", "-o", "name", check=True).stdout
        for kind in ("eventtype", "broker", "trigger"):
            if f"{kind}s.eventing.knative.dev" not in crds:
                registry.kubectl("apply", "-f", "-", input=knative_crd(kind), check=True)
        registry.kubectl("create", "namespace", HIDDEN[0], check=True)
        documents = [
            eventtype(
                PULL_REQUEST[1],
                PULL_REQUEST[0],
                type="com.github.pull_request",
                source="https://github.com",
                broker="default",
            ),
            eventtype(
                PING[1],
                PING[0],
                type="dev.knative.sources.ping",
                source="/apis/v1/namespaces/default/ping",
                broker="default",
            ),
            eventtype(HIDDEN[1], HIDDEN[0], type="com.example.hidden", broker="default"),
        ]
        # The CRDs may need a moment to be served; kubectl's discovery may lag behind them.
        eventually(lambda: registry.apply(*documents), timeout=60, interval=0.25)

        def all_visible() -> bool:
            for namespace, name in (PULL_REQUEST, PING, HIDDEN):
                found = read(
                    registry,
                    "query($ns: String!, $n: String!) { eventType(namespace: $ns, name: $n) "
                    "{ name } }",
                    ns=namespace,
                    n=name,
                )
                assert found["eventType"] == {"name": name}, (namespace, name)
            return True

        try:
            eventually(all_visible, timeout=60, interval=0.25)
        except AssertionError as error:
            pytest.fail(f"the registry never showed the EventTypes ({error}):\n{registry.output()}")
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="module")
def catalog(node: str, workdir: Path) -> Iterator[str]:
    process = AnnouncingProcess(
        "catalog subgraph",
        [node, "catalog-subgraph.mjs"],
        workdir / "catalog.log",
        cwd=FEDERATION,
    )
    try:
        yield process.start("catalog", timeout=30)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def gateway(node: str, registry: RegistryProcess, catalog: str, workdir: Path) -> Iterator[str]:
    process = AnnouncingProcess(
        "gateway",
        [node, "gateway.mjs", "--registry", registry.url, "--catalog", catalog],
        workdir / "gateway.log",
        cwd=FEDERATION,
        env={**os.environ, "REGISTRY_TOKEN": EVERYTHING_READER},
    )
    try:
        yield process.start("gateway", timeout=60)
    finally:
        process.stop()


def through(gateway: str, query: str, **variables: Any) -> Json:
    return data_of(post_graphql(gateway, query, variables, DEFAULT_READER))


def test_checked_in_schema_composes_with_the_catalog(node: str) -> None:
    result = subprocess.run(
        [node, "compose.mjs", str(REPO / "schema.graphql")],
        cwd=FEDERATION,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"composition failed:\n{result.stderr}"
    supergraph = result.stdout
    assert '@join__graph(name: "registry"' in supergraph
    assert '@join__graph(name: "catalog"' in supergraph
    event_type = supergraph[supergraph.index("type EventType implements Node") :]
    event_type = event_type[: event_type.index("\n}")]
    assert '@join__type(graph: REGISTRY, key: "namespace name")' in event_type
    assert '@join__type(graph: CATALOG, key: "namespace name")' in event_type
    assert "owningTeam: String! @join__field(graph: CATALOG)" in event_type


def test_gateway_resolves_one_event_type_from_both_subgraphs(gateway: str) -> None:
    data = through(
        gateway,
        '{ eventType(namespace: "default", name: "com.github.pullrequest") '
        "{ type source owningTeam slackChannel } }",
    )
    assert data == {
        "eventType": {
            "type": "com.github.pull_request",  # from the registry
            "source": "https://github.com",
            "owningTeam": "payments",  # from the catalog
            "slackChannel": "#payments-events",
        }
    }


def test_gateway_resolves_a_list_across_both_subgraphs(gateway: str) -> None:
    data = through(
        gateway, '{ eventTypes(namespace: "default") { nodes { name type owningTeam } } }'
    )
    nodes = sorted(data["eventTypes"]["nodes"], key=lambda node: str(node["name"]))
    assert nodes == [
        {"name": PULL_REQUEST[1], "type": "com.github.pull_request", "owningTeam": "payments"},
        {"name": PING[1], "type": "dev.knative.sources.ping", "owningTeam": "platform"},
    ]


def test_gateway_passes_the_callers_visibility_through(gateway: str) -> None:
    query = (
        "query($ns: String!, $n: String!) { eventType(namespace: $ns, name: $n) { owningTeam } }"
    )
    assert through(gateway, query, ns=HIDDEN[0], n=HIDDEN[1]) == {"eventType": None}
    everything = post_graphql(gateway, query, {"ns": HIDDEN[0], "n": HIDDEN[1]}, EVERYTHING_READER)
    assert data_of(everything) == {"eventType": {"owningTeam": "unowned"}}


ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on EventType { namespace name type source }
  }
}
"""


def representations(*keys: tuple[str, str]) -> list[Mapping[str, str]]:
    return [{"__typename": "EventType", "namespace": ns, "name": name} for ns, name in keys]


def test_registry_entities_resolve_visible_event_types_only(registry: RegistryProcess) -> None:
    missing = ("default", "no.such.eventtype")
    data = read(
        registry,
        ENTITIES,
        DEFAULT_READER,
        representations=representations(PULL_REQUEST, HIDDEN, missing),
    )
    assert data["_entities"] == [
        {
            "__typename": "EventType",
            "namespace": "default",
            "name": "com.github.pullrequest",
            "type": "com.github.pull_request",
            "source": "https://github.com",
        },
        None,  # hidden: the caller may not read namespace "secret"
        None,  # missing
    ]
    # The hidden one does exist: a caller that may read "secret" gets it.
    data = read(registry, ENTITIES, EVERYTHING_READER, representations=representations(HIDDEN))
    assert [entity and entity["name"] for entity in data["_entities"]] == [HIDDEN[1]]
