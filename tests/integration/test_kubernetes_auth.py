"""``serve --auth=kubernetes`` end to end: the cluster's identities and RBAC decide.

One registry for the module (a real ``event-registry serve`` whose embedded control plane
runs with access control on), short decision TTLs. Three ServiceAccounts with different
RoleBindings call it with tokens from ``kubectl create token`` (one of them with Roles that
grant some kinds and not others: Triggers only, Brokers and Triggers, EventTypes and
Brokers); for every namespace, every kind and every GraphQL path (lists, namespaces, node,
_entities, the fields leading from one kind to another, create and delete of each kind, a
live subscription) the outcome must be what ``kubectl auth can-i`` (PyPI kubectl) answers for
the same identity. Also: revoking a RoleBinding ends a live subscription (the client is told,
nothing follows); forged and expired tokens get 401 / 4401 and nothing else; an impersonated
write is in the control plane's audit log under the caller's name; the registry's own account
may write nothing itself.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from event_registry.controlplane.auth import tokens
from event_registry.controlplane.auth.control import SIGNING_KEY_FILE
from tests.support.controlplane import kubeconfig_for, run_kubectl
from tests.support.registry import (
    RegistryProcess,
    broker,
    eventtype,
    eventually,
    http,
    post_graphql,
    trigger,
)

NAMESPACES = ("auth-a", "auth-b", "auth-c")
USERS = ("alice", "bob", "erin")
READERS = {
    # ClusterRole: the resources it may get, list and watch
    "triggers-reader": ["triggers.eventing.knative.dev"],
    "brokers-triggers-reader": ["brokers.eventing.knative.dev", "triggers.eventing.knative.dev"],
    "eventtypes-brokers-reader": [
        "eventtypes.eventing.knative.dev",
        "brokers.eventing.knative.dev",
    ],
}
GRANTS = {
    # user: (ClusterRole, namespace) bindings
    "alice": [("view", "auth-a"), ("edit", "auth-b")],
    "bob": [("edit", "auth-a")],
    "erin": [
        ("triggers-reader", "auth-a"),
        ("brokers-triggers-reader", "auth-b"),
        ("eventtypes-brokers-reader", "auth-c"),
    ],
}
ALLOWED_TTL = 2.0
KINDS = {  # GraphQL kind → kubectl resource
    "Trigger": "triggers.eventing.knative.dev",
    "EventType": "eventtypes.eventing.knative.dev",
    "Broker": "brokers.eventing.knative.dev",
}
_names = itertools.count()


class Caller:
    """One identity: its token, and kubectl with a kubeconfig presenting that token."""

    def __init__(self, registry: RegistryProcess, name: str, token: str) -> None:
        self.name = name
        self.token = token
        self.username = f"system:serviceaccount:default:{name}"
        self.kubeconfig = kubeconfig_for(
            registry.kubeconfig, registry.data_dir / f"kubeconfig-{name}", token=token
        )
        self.cache = registry.data_dir / f"kubectl-cache-{name}"

    def can_i(self, verb: str, resource: str, namespace: str) -> bool:
        result = run_kubectl(
            self.kubeconfig, self.cache, "auth", "can-i", verb, resource, "-n", namespace
        )
        assert result.stdout.strip() in ("yes", "no"), result
        return result.stdout.strip() == "yes"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    running = RegistryProcess(
        tmp_path_factory.mktemp("kubernetes-auth") / "data",
        "--auth=kubernetes",
        "--authz-allowed-ttl",
        str(ALLOWED_TTL),
        "--authz-denied-ttl",
        "1",
    )
    try:
        running.start()
        running.wait_ready()
        for namespace in NAMESPACES:
            running.kubectl("create", "namespace", namespace, check=True)
        running.apply(
            *(broker("default", ns) for ns in NAMESPACES),
            *(
                eventtype(f"et-{ns}", ns, type=f"dev.example.{ns}", broker="default")
                for ns in NAMESPACES
            ),
            *(trigger(f"tr-{ns}", ns) for ns in NAMESPACES),
        )
        for role, resources in READERS.items():
            running.kubectl(
                "create",
                "clusterrole",
                role,
                "--verb=get,list,watch",
                *(f"--resource={resource}" for resource in resources),
                check=True,
            )
        for user, bindings in GRANTS.items():
            running.kubectl("create", "serviceaccount", user, "-n", "default", check=True)
            for role, namespace in bindings:
                running.kubectl(
                    "create",
                    "rolebinding",
                    f"{user}-{role}",
                    f"--clusterrole={role}",
                    f"--serviceaccount=default:{user}",
                    "-n",
                    namespace,
                    check=True,
                )
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def callers(registry: RegistryProcess) -> dict[str, Caller]:
    made = {}
    for user in USERS:
        token = registry.kubectl(
            "create", "token", user, "-n", "default", check=True
        ).stdout.strip()
        made[user] = Caller(registry, user, token)
    return made


@pytest.fixture(scope="module")
def admin_token(registry: RegistryProcess) -> str:
    config = yaml.safe_load(registry.kubeconfig.read_text())
    token: str = config["users"][0]["user"]["token"]
    return token


@pytest.fixture(scope="module")
def ids(registry: RegistryProcess, admin_token: str) -> dict[str, dict[str, str]]:
    """Node ids of each namespace's objects (read as the cluster's admin)."""
    query = (
        "{ eventTypes { nodes { id namespace name } } brokers { id namespace }"
        " triggers { id namespace } }"
    )

    def complete() -> dict[str, dict[str, str]]:
        data = post_graphql(registry.url, query, token=admin_token)["data"]
        found: dict[str, dict[str, str]] = {ns: {} for ns in NAMESPACES}
        for kind, nodes in (
            ("EventType", data["eventTypes"]["nodes"]),
            ("Broker", data["brokers"]),
            ("Trigger", data["triggers"]),
        ):
            for node in nodes:
                if node["namespace"] in found:
                    found[node["namespace"]][kind] = node["id"]
        assert all(len(kinds) == 3 for kinds in found.values()), found
        return found

    return eventually(complete, timeout=20)


def query(registry: RegistryProcess, caller: Caller, text: str, **variables: Any) -> Any:
    result = post_graphql(registry.url, text, variables, token=caller.token)
    assert "errors" not in result, result
    return result["data"]


# reads -----------------------------------------------------------------------------------


READS = """query($ns: String!, $eventType: String!, $trigger: ID!) {
  eventTypes(namespace: $ns) { nodes { name broker { name } consumers { name } } }
  brokers(namespace: $ns) { name eventTypes { name } triggers { name } }
  triggers(namespace: $ns) { name broker { name } }
  eventType(namespace: $ns, name: $eventType) { name }
  broker(namespace: $ns, name: "default") { name }
  trigger: node(id: $trigger) { id }
  namespace(name: $ns) { brokers { name } eventTypes { name } triggers { name }
                         counts { brokers eventTypes triggers } }
}"""


@pytest.mark.parametrize("user", USERS)
def test_every_read_path_agrees_with_kubectl_auth_can_i(
    registry: RegistryProcess, callers: dict[str, Caller], ids: dict[str, dict[str, str]], user: str
) -> None:
    caller = callers[user]
    listed = {ns["name"] for ns in query(registry, caller, "{ namespaces { name } }")["namespaces"]}
    for namespace in NAMESPACES:
        may = {kind: caller.can_i("list", resource, namespace) for kind, resource in KINDS.items()}
        where = (user, namespace, may)
        data = query(
            registry,
            caller,
            READS,
            ns=namespace,
            eventType=f"et-{namespace}",
            trigger=ids[namespace]["Trigger"],
        )
        event_types, brokers, triggers = (
            data["eventTypes"]["nodes"],
            data["brokers"],
            data["triggers"],
        )
        assert [n["name"] for n in event_types] == ([f"et-{namespace}"] if may["EventType"] else [])
        assert [b["name"] for b in brokers] == (["default"] if may["Broker"] else []), where
        assert [t["name"] for t in triggers] == ([f"tr-{namespace}"] if may["Trigger"] else [])
        assert (data["eventType"] is not None) == may["EventType"], where
        assert (data["broker"] is not None) == may["Broker"], where
        assert (data["trigger"] is not None) == may["Trigger"], where
        # from one kind to another: each shown only where its own kind may be listed
        for node in event_types:
            assert (node["broker"] is not None) == may["Broker"], where
            assert bool(node["consumers"]) == may["Trigger"], where
        for node in brokers:
            assert bool(node["eventTypes"]) == may["EventType"], where
            assert bool(node["triggers"]) == may["Trigger"], where
        for node in triggers:
            assert (node["broker"] is not None) == may["Broker"], where
        # a namespace is there when any of its kinds may be listed, and shows only those
        visible = any(may.values())
        assert (namespace in listed) == visible, (where, listed)
        assert (data["namespace"] is not None) == visible, where
        if data["namespace"] is not None:
            counts = data["namespace"]["counts"]
            for kind, field in (
                ("EventType", "eventTypes"),
                ("Broker", "brokers"),
                ("Trigger", "triggers"),
            ):
                assert bool(data["namespace"][field]) == may[kind], (where, kind)
                assert bool(counts[field]) == may[kind], (where, kind)
        for kind, node_id in ids[namespace].items():
            node = query(registry, caller, "query($id: ID!) { node(id: $id) { id } }", id=node_id)
            assert (node["node"] is not None) == may[kind], (where, kind)
        representations = [
            {"__typename": kind, "namespace": namespace, "name": name}
            for kind, name in (
                ("EventType", f"et-{namespace}"),
                ("Broker", "default"),
                ("Trigger", f"tr-{namespace}"),
            )
        ]
        entities = query(
            registry,
            caller,
            "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
            r=representations,
        )["_entities"]
        assert entities == [
            {"__typename": r["__typename"]} if may[r["__typename"]] else None
            for r in representations
        ], where


def test_the_matrix_has_callers_who_may_list_some_kinds_and_not_others(
    callers: dict[str, Caller],
) -> None:
    """The cells the per-kind checks are about exist (kubectl says so, not this test)."""
    cells = {
        tuple(callers["erin"].can_i("list", resource, ns) for resource in KINDS.values())
        for ns in NAMESPACES
    }
    # (Trigger, EventType, Broker)
    assert cells == {(True, False, False), (True, False, True), (False, True, True)}


# writes ----------------------------------------------------------------------------------

CREATE = {
    "Trigger": """mutation($ns: String!, $name: String!) {
        createTrigger(input: {namespace: $ns, name: $name, broker: "default",
                              subscriber: {uri: "http://example.com"}}) { __typename } }""",
    "EventType": """mutation($ns: String!, $name: String!) {
        registerEventType(input: {namespace: $ns, name: $name, type: "dev.example.matrix",
                                  broker: "default"}) { __typename } }""",
    "Broker": """mutation($ns: String!, $name: String!) {
        createBroker(input: {namespace: $ns, name: $name}) { __typename } }""",
}
CREATED = {
    "Trigger": "TriggerCreated",
    "EventType": "EventTypeRegistered",
    "Broker": "BrokerCreated",
}
DELETE = {
    kind: "mutation($ns: String!, $name: String!) {"
    f" delete{kind}(namespace: $ns, name: $name) {{ __typename }} }}"
    for kind in KINDS
}


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_write_agrees_with_kubectl_auth_can_i(
    registry: RegistryProcess, callers: dict[str, Caller], user: str, kind: str
) -> None:
    caller = callers[user]
    field = {
        "Trigger": "createTrigger",
        "EventType": "registerEventType",
        "Broker": "createBroker",
    }[kind]
    for namespace in NAMESPACES:
        readable = any(caller.can_i("list", resource, namespace) for resource in KINDS.values())
        may_create = caller.can_i("create", KINDS[kind], namespace)
        may_delete = caller.can_i("delete", KINDS[kind], namespace)
        name = f"matrix-{user}-{next(_names)}"
        created = query(registry, caller, CREATE[kind], ns=namespace, name=name)[field][
            "__typename"
        ]
        expected = CREATED[kind] if may_create else "Forbidden" if readable else "NotFound"
        assert created == expected, (user, kind, namespace)
        if not may_create:  # nothing was written: make the object to delete as the admin
            manifest = {
                "Trigger": trigger(name, namespace),
                "EventType": eventtype(name, namespace, type="dev.example.matrix"),
                "Broker": broker(name, namespace),
            }[kind]
            registry.apply(manifest)
        assert registry.kubectl("get", KINDS[kind], name, "-n", namespace).returncode == 0
        deleted = query(registry, caller, DELETE[kind], ns=namespace, name=name)[f"delete{kind}"]
        expected = "Deleted" if may_delete else "Forbidden" if readable else "NotFound"
        assert deleted["__typename"] == expected, (user, kind, namespace)
        if not may_delete:
            registry.kubectl("delete", KINDS[kind], name, "-n", namespace, check=True)


def test_an_impersonated_write_is_audited_under_the_callers_name(
    registry: RegistryProcess, callers: dict[str, Caller]
) -> None:
    alice = callers["alice"]
    name = f"audited-{next(_names)}"
    created = query(registry, alice, CREATE["Trigger"], ns="auth-b", name=name)
    assert created["createTrigger"]["__typename"] == "TriggerCreated"
    audit = registry.data_dir / "audit.log"

    def entry() -> dict[str, Any] | None:
        for line in audit.read_text().splitlines():
            event = json.loads(line)
            ref = event.get("objectRef") or {}
            if event.get("verb") == "create" and ref.get("name") == name:
                return dict(event)
        return None

    event = eventually(entry)
    assert event is not None
    assert event["impersonatedUser"]["username"] == alice.username
    assert "system:serviceaccounts:default" in event["impersonatedUser"]["groups"]
    assert event["user"]["username"] == "system:serviceaccount:kube-system:event-registry"
    assert event["responseStatus"]["code"] == 201


def test_the_registry_account_may_write_nothing_as_itself(registry: RegistryProcess) -> None:
    me = "--as=system:serviceaccount:kube-system:event-registry"
    for verb, resource in (
        ("create", "triggers.eventing.knative.dev"),
        ("delete", "brokers.eventing.knative.dev"),
    ):
        assert registry.kubectl("auth", "can-i", verb, resource, "-A", me).stdout.strip() == "no"
    for verb, resource in (("list", "eventtypes.eventing.knative.dev"), ("impersonate", "users")):
        assert registry.kubectl("auth", "can-i", verb, resource, "-A", me).stdout.strip() == "yes"


# subscriptions ---------------------------------------------------------------------------

SUBSCRIPTION = """subscription($ns: String) {
  eventTypeChanges(namespace: $ns, includeExisting: true) { kind eventType { name } }
}"""


def ws_url(registry: RegistryProcess) -> str:
    return registry.url.replace("http://", "ws://")


async def open_live(registry: RegistryProcess, token: str) -> ClientConnection:
    ws = await connect(ws_url(registry), subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    assert json.loads(await ws.recv()) == {"type": "connection_ack"}
    return ws


async def subscribe(ws: ClientConnection, subscription_id: str, namespace: str) -> None:
    payload = {"query": SUBSCRIPTION, "variables": {"ns": namespace}}
    await ws.send(json.dumps({"id": subscription_id, "type": "subscribe", "payload": payload}))


async def next_message(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] != "ping":
            return message


@pytest.mark.parametrize("user", USERS)
async def test_a_subscription_per_namespace_agrees_with_kubectl_auth_can_i(
    registry: RegistryProcess, callers: dict[str, Caller], user: str
) -> None:
    caller = callers[user]
    may = {ns: caller.can_i("watch", "eventtypes.eventing.knative.dev", ns) for ns in NAMESPACES}
    ws = await open_live(registry, caller.token)
    try:
        for namespace in NAMESPACES:
            await subscribe(ws, namespace, namespace)
        initial: dict[str, list[str]] = {ns: [] for ns in NAMESPACES}
        complete: set[str] = set()
        while complete != set(NAMESPACES):
            message = await next_message(ws)
            change = message["payload"]["data"]["eventTypeChanges"]
            if change["kind"] == "INITIAL_SET_COMPLETE":
                complete.add(message["id"])
            else:
                initial[message["id"]].append(change["eventType"]["name"])
        for namespace in NAMESPACES:  # (other tests' EventTypes may be there too)
            if may[namespace]:
                assert f"et-{namespace}" in initial[namespace], (user, initial)
            else:
                assert initial[namespace] == [], (user, initial)
        late = f"late-{user}-{next(_names)}"
        registry.apply(*(eventtype(late, ns, type="dev.example.late") for ns in NAMESPACES))
        delivered: set[str] = set()
        while delivered != {ns for ns in NAMESPACES if may[ns]}:
            message = await next_message(ws)
            change = message["payload"]["data"]["eventTypeChanges"]
            assert change["eventType"]["name"] == late, change
            if change["kind"] == "ADDED":  # then UPDATED, as its readiness is reported
                delivered.add(message["id"])
        # and nothing of the namespaces it may not read (its readiness updates may follow)
        while True:
            try:
                message = await next_message(ws, timeout=1.0)
            except TimeoutError:
                break
            assert message["id"] in delivered, message
    finally:
        await ws.close()


BROKER_SUBSCRIPTION = """subscription($ns: String) {
  brokerChanges(namespace: $ns) { kind broker { name eventTypes { name } triggers { name } } }
}"""


@pytest.mark.parametrize("user", USERS)
async def test_broker_changes_agree_with_kubectl_auth_can_i_for_brokers(
    registry: RegistryProcess, callers: dict[str, Caller], user: str
) -> None:
    """Delivered where the caller may watch Brokers; the EventTypes and Triggers each shows
    only where those may be listed too."""
    caller = callers[user]
    may = {
        ns: {kind: caller.can_i("watch", resource, ns) for kind, resource in KINDS.items()}
        for ns in NAMESPACES
    }
    ws = await open_live(registry, caller.token)
    try:
        for namespace in NAMESPACES:
            payload = {"query": BROKER_SUBSCRIPTION, "variables": {"ns": namespace}}
            await ws.send(json.dumps({"id": namespace, "type": "subscribe", "payload": payload}))
        await asyncio.sleep(0.5)  # subscribed before the change (no initial set to wait for)
        flipped = f"flipped-{user}-{next(_names)}"
        registry.apply(*(broker("default", ns, labels={"flipped": flipped}) for ns in NAMESPACES))
        expected = {ns for ns in NAMESPACES if may[ns]["Broker"]}
        delivered: set[str] = set()
        while delivered != expected:
            message = await next_message(ws)
            namespace = message["id"]
            assert namespace in expected, (user, message)
            change = message["payload"]["data"]["brokerChanges"]
            if change["broker"]["name"] != "default":
                continue  # another test's Broker
            assert bool(change["broker"]["eventTypes"]) == may[namespace]["EventType"], message
            assert bool(change["broker"]["triggers"]) == may[namespace]["Trigger"], message
            delivered.add(namespace)
        while True:  # and nothing of the namespaces it may not watch Brokers in
            try:
                message = await next_message(ws, timeout=1.0)
            except TimeoutError:
                break
            assert message["id"] in expected, message
    finally:
        await ws.close()


async def test_revoking_a_rolebinding_ends_a_live_subscription_and_nothing_follows(
    registry: RegistryProcess,
) -> None:
    registry.kubectl("create", "serviceaccount", "carol", "-n", "default", check=True)
    registry.kubectl(
        "create",
        "rolebinding",
        "carol-view",
        "--clusterrole=view",
        "--serviceaccount=default:carol",
        "-n",
        "auth-c",
        check=True,
    )
    token = registry.kubectl("create", "token", "carol", "-n", "default", check=True).stdout.strip()
    ws = await open_live(registry, token)
    try:
        await subscribe(ws, "watching", "auth-c")
        existing = []
        while True:
            change = (await next_message(ws))["payload"]["data"]["eventTypeChanges"]
            if change["kind"] == "INITIAL_SET_COMPLETE":
                break
            existing.append(change["eventType"]["name"])
        assert "et-auth-c" in existing
        registry.kubectl("delete", "rolebinding", "carol-view", "-n", "auth-c", check=True)
        # Told at once (the registry watches RBAC), at the latest after the allowed TTL.
        told = await next_message(ws, timeout=ALLOWED_TTL + 5)
        assert told["type"] == "error", told
        assert told["id"] == "watching"
        assert told["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        registry.apply(eventtype(f"after-{next(_names)}", "auth-c", type="dev.example.after"))
        with pytest.raises(TimeoutError):
            await next_message(ws, timeout=1.5)
        await subscribe(ws, "again", "auth-c")  # the connection stays; the namespace is gone
        again = await next_message(ws)
        assert again["payload"]["data"]["eventTypeChanges"]["kind"] == "INITIAL_SET_COMPLETE"
    finally:
        await ws.close()


async def test_a_token_that_stops_being_valid_closes_the_connection_4403(
    registry: RegistryProcess,
) -> None:
    """Deleting a ServiceAccount revokes its tokens: the next check closes the connection."""
    registry.kubectl("create", "serviceaccount", "dave", "-n", "default", check=True)
    registry.kubectl(
        "create",
        "rolebinding",
        "dave-view",
        "--clusterrole=view",
        "--serviceaccount=default:dave",
        "-n",
        "auth-a",
        check=True,
    )
    token = registry.kubectl("create", "token", "dave", "-n", "default", check=True).stdout.strip()
    ws = await open_live(registry, token)
    try:
        await subscribe(ws, "watching", "auth-a")
        while True:
            change = (await next_message(ws))["payload"]["data"]["eventTypeChanges"]
            if change["kind"] == "INITIAL_SET_COMPLETE":
                break
        registry.kubectl("delete", "serviceaccount", "dave", "-n", "default", check=True)
        with pytest.raises(ConnectionClosed) as closed:
            await next_message(ws, timeout=ALLOWED_TTL + 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
    finally:
        await ws.close()


# tokens that prove nothing ---------------------------------------------------------------


def expired_token(registry: RegistryProcess) -> str:
    """A ServiceAccount token signed by the control plane, for alice, that expired an hour ago."""
    key = (registry.data_dir / SIGNING_KEY_FILE).read_bytes()
    account = json.loads(
        registry.kubectl(
            "get", "serviceaccount", "alice", "-n", "default", "-o", "json", check=True
        ).stdout
    )
    now = int(time.time())
    return tokens.sign(
        key,
        namespace="default",
        name="alice",
        uid=account["metadata"]["uid"],
        audiences=(tokens.API_AUDIENCE,),
        issued_at=now - 7200,
        expiration_seconds=3600,
    )


@pytest.mark.parametrize("which", ["forged", "expired", "empty"])
def test_a_token_that_proves_nothing_gets_401_and_nothing_else(
    registry: RegistryProcess, callers: dict[str, Caller], which: str
) -> None:
    del callers  # alice exists
    token = {"forged": "forged-token-value", "expired": expired_token(registry), "empty": ""}[which]
    body = json.dumps({"query": "{ namespaces { name } }"}).encode()
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    reply = http("POST", registry.url, body=body, headers=headers)
    assert reply.status == 401, reply
    assert reply.json() == {"errors": [{"message": "a valid bearer token is required"}]}


@pytest.mark.parametrize("which", ["forged", "expired"])
async def test_a_websocket_with_a_token_that_proves_nothing_is_closed_4401(
    registry: RegistryProcess, callers: dict[str, Caller], which: str
) -> None:
    del callers
    token = "forged-token-value" if which == "forged" else expired_token(registry)
    async with connect(ws_url(registry), subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()  # nothing at all before the close
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


def test_a_kubeconfig_for_a_user_is_all_it_takes(
    registry: RegistryProcess, callers: dict[str, Caller]
) -> None:
    """The README's way: ``kubectl create token`` gives a token the registry takes."""
    assert Path(callers["bob"].kubeconfig).exists()
    data = query(registry, callers["bob"], "{ namespaces { name } }")
    assert [ns["name"] for ns in data["namespaces"]] == ["auth-a"]
