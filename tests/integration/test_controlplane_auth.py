"""Access control on the embedded control plane (``controlplane --auth``), through kubectl.

One control plane for the module, started with ``--auth`` and a static token file; every
identity gets its own kubeconfig (same server and CA, its own token). What ``kubectl auth
can-i`` answers must be what the same identity can actually do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.controlplane import ControlPlaneProcess, kubeconfig_for, manifest, run_kubectl

TOKENS = {"alice": "alice-token", "bob": "bob-token", "proxy": "proxy-token"}
NAMESPACES = ("auth-a", "auth-b")
RESOURCES = ("eventtypes", "triggers", "brokers")
VERBS = ("get", "list", "create", "delete")
_names = itertools.count()


class Identity:
    def __init__(self, plane: ControlPlaneProcess, name: str, token: str | None) -> None:
        self.plane = plane
        self.kubeconfig = kubeconfig_for(
            plane.kubeconfig, plane.data_dir / f"kubeconfig-{name}", token=token
        )
        self.cache = plane.data_dir / f"kubectl-cache-{name}"

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return run_kubectl(self.kubeconfig, self.cache, *args, input=input, check=check)


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    data_dir = tmp_path_factory.mktemp("controlplane-auth")
    tokens_csv = data_dir.parent / f"{data_dir.name}-tokens.csv"
    tokens_csv.write_text(
        'alice-token,alice,uid-alice,"team-a"\nbob-token,bob,uid-bob\nproxy-token,proxy,uid-p\n'
    )
    process = ControlPlaneProcess(data_dir, "--auth", "--token-auth-file", str(tokens_csv))
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def users(plane: ControlPlaneProcess) -> dict[str, Identity]:
    return {name: Identity(plane, name, token) for name, token in TOKENS.items()}


def objects(namespace: str, name: str) -> dict[str, dict[str, Any]]:
    meta = {"namespace": namespace, "name": name}
    return {
        "brokers": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "metadata": meta},
        "triggers": {
            "apiVersion": "eventing.knative.dev/v1",
            "kind": "Trigger",
            "metadata": meta,
            "spec": {"broker": "default", "subscriber": {"uri": "http://example.com"}},
        },
        "eventtypes": {
            "apiVersion": "eventing.knative.dev/v1beta2",
            "kind": "EventType",
            "metadata": meta,
            "spec": {"type": f"dev.example.{name}", "source": "https://example.com"},
        },
    }


def role(namespace: str, name: str, verbs: list[str], resources: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"namespace": namespace, "name": name},
        "rules": [{"apiGroups": ["eventing.knative.dev"], "resources": resources, "verbs": verbs}],
    }


def binding(namespace: str, role_name: str, user: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"namespace": namespace, "name": f"{role_name}-{user}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role_name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


@pytest.fixture(scope="module")
def granted(plane: ControlPlaneProcess) -> None:
    """alice reads everything in auth-a; bob reads and writes in auth-b and reads triggers
    (only) in auth-a; proxy may impersonate users. Each namespace holds one object of each
    kind named ``existing``."""
    for namespace in NAMESPACES:
        plane.kubectl("create", "namespace", namespace, check=True)
    documents: list[dict[str, Any]] = [
        role("auth-a", "reader", ["get", "list", "watch"], list(RESOURCES)),
        binding("auth-a", "reader", "alice"),
        role("auth-b", "writer", ["get", "list", "create", "delete"], list(RESOURCES)),
        binding("auth-b", "writer", "bob"),
        role("auth-a", "trigger-reader", ["get", "list"], ["triggers"]),
        binding("auth-a", "trigger-reader", "bob"),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "impersonator"},
            "rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "proxy-impersonates"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "impersonator",
            },
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "proxy"}
            ],
        },
    ]
    for namespace in NAMESPACES:
        documents.extend(objects(namespace, "existing").values())
    plane.kubectl("apply", "-f", "-", input=manifest(*documents), check=True)


def can_i(identity: Identity, verb: str, resource: str, namespace: str) -> bool:
    result = identity.kubectl("auth", "can-i", verb, resource, "-n", namespace)
    assert result.stdout.strip() in ("yes", "no"), result.stderr
    assert result.returncode == (0 if result.stdout.strip() == "yes" else 1)
    return result.stdout.strip() == "yes"


def attempt(
    plane: ControlPlaneProcess, identity: Identity, verb: str, resource: str, namespace: str
) -> subprocess.CompletedProcess[str]:
    name = f"n{next(_names)}"
    if verb == "get":
        return identity.kubectl("get", resource, "existing", "-n", namespace, "-o", "name")
    if verb == "list":
        return identity.kubectl("get", resource, "-n", namespace, "-o", "name")
    if verb == "create":
        return identity.kubectl(
            "create", "-f", "-", input=manifest(objects(namespace, name)[resource])
        )
    plane.kubectl(
        "create", "-f", "-", input=manifest(objects(namespace, name)[resource]), check=True
    )
    return identity.kubectl("delete", resource, name, "-n", namespace, "--wait=false")


@pytest.mark.usefixtures("granted")
@pytest.mark.parametrize("user", ["alice", "bob"])
def test_can_i_agrees_with_what_each_user_can_do(
    plane: ControlPlaneProcess, users: dict[str, Identity], user: str
) -> None:
    identity = users[user]
    answers = {}
    for verb, resource, namespace in itertools.product(VERBS, RESOURCES, NAMESPACES):
        allowed = can_i(identity, verb, resource, namespace)
        result = attempt(plane, identity, verb, resource, namespace)
        answers[verb, resource, namespace] = allowed
        if allowed:
            assert result.returncode == 0, (verb, resource, namespace, result.stderr)
        else:
            assert result.returncode != 0, (verb, resource, namespace, result.stdout)
            assert "Error from server (Forbidden)" in result.stderr
            assert f'User "{user}" cannot {verb} resource "{resource}"' in result.stderr
            assert f'in the namespace "{namespace}"' in result.stderr
    expected = {
        "alice": {(v, r, "auth-a") for v in ("get", "list") for r in RESOURCES},
        "bob": {(v, r, "auth-b") for v in VERBS for r in RESOURCES}
        | {("get", "triggers", "auth-a"), ("list", "triggers", "auth-a")},
    }[user]
    assert {key for key, allowed in answers.items() if allowed} == expected


@pytest.mark.usefixtures("granted")
def test_listing_across_namespaces_needs_a_cluster_wide_grant(users: dict[str, Identity]) -> None:
    result = users["alice"].kubectl("get", "eventtypes", "-A")
    assert result.returncode != 0
    assert (
        'User "alice" cannot list resource "eventtypes" in API group "eventing.knative.dev" at '
        "the cluster scope"
    ) in result.stderr
    assert (
        users["alice"].kubectl("auth", "can-i", "list", "eventtypes", "-A").stdout.strip() == "no"
    )


def test_whoami_for_the_admin_and_a_token_file_user(
    plane: ControlPlaneProcess, users: dict[str, Identity]
) -> None:
    admin = plane.kubectl("auth", "whoami", "-o", "json", check=True)
    info = json.loads(admin.stdout)["status"]["userInfo"]
    assert info["username"] == "admin"
    assert "system:masters" in info["groups"]
    alice = json.loads(users["alice"].kubectl("auth", "whoami", "-o", "json", check=True).stdout)
    assert alice["status"]["userInfo"] == {
        "username": "alice",
        "uid": "uid-alice",
        "groups": ["team-a", "system:authenticated"],
    }


@pytest.mark.usefixtures("granted")
def test_create_token_for_a_service_account(plane: ControlPlaneProcess) -> None:
    default = plane.kubectl("create", "token", "default", "-n", "auth-b", check=True)
    assert (
        Identity(plane, "default-sa", default.stdout.strip())
        .kubectl("auth", "whoami", check=True)
        .stdout.split()
        .count("system:serviceaccount:auth-b:default")
        == 1
    )
    plane.kubectl("create", "serviceaccount", "robot", "-n", "auth-b", check=True)
    token = plane.kubectl("create", "token", "robot", "-n", "auth-b", check=True).stdout.strip()
    robot = Identity(plane, "robot", token)
    info = json.loads(robot.kubectl("auth", "whoami", "-o", "json", check=True).stdout)
    assert info["status"]["userInfo"]["username"] == "system:serviceaccount:auth-b:robot"
    assert "system:serviceaccounts:auth-b" in info["status"]["userInfo"]["groups"]
    assert robot.kubectl("get", "brokers", "-n", "auth-b").returncode != 0
    plane.kubectl(
        "create",
        "rolebinding",
        "robot-writer",
        "--role=writer",
        "--serviceaccount=auth-b:robot",
        "-n",
        "auth-b",
        check=True,
    )
    assert can_i(robot, "list", "brokers", "auth-b")
    listed = robot.kubectl("get", "brokers", "-n", "auth-b", "-o", "name", check=True)
    assert "broker.eventing.knative.dev/existing" in listed.stdout
    too_short = plane.kubectl("create", "token", "robot", "-n", "auth-b", "--duration=1m")
    assert too_short.returncode != 0
    assert "may not specify a duration less than 10 minutes" in too_short.stderr
    plane.kubectl("delete", "serviceaccount", "robot", "-n", "auth-b", check=True)
    revoked = robot.kubectl("get", "brokers", "-n", "auth-b")
    assert "error: You must be logged in to the server" in revoked.stderr


def _expired_token(plane: ControlPlaneProcess, namespace: str, name: str) -> str:
    """A token signed with the plane's real key whose validity ended an hour ago."""
    key = (plane.data_dir / "serviceaccount-signing.key").read_bytes()
    account = json.loads(
        plane.kubectl("get", "sa", name, "-n", namespace, "-o", "json", check=True).stdout
    )

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "iat": now - 7200,
        "nbf": now - 7200,
        "exp": now - 3600,
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": name, "uid": account["metadata"]["uid"]},
        },
    }
    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _raw_status(plane: ControlPlaneProcess, token: str | None) -> tuple[int, dict[str, Any]]:
    context = ssl.create_default_context(cafile=str(plane.data_dir / "pki" / "ca.crt"))
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(f"{plane.url}/api/v1/namespaces", headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.mark.usefixtures("granted")
def test_forged_and_expired_tokens_get_401_and_nothing_else(plane: ControlPlaneProcess) -> None:
    plane.kubectl("create", "serviceaccount", "old", "-n", "auth-a", check=True)
    expired = _expired_token(plane, "auth-a", "old")
    valid = plane.kubectl("create", "token", "old", "-n", "auth-a", check=True).stdout.strip()
    header, claims, signature = valid.split(".")
    forged = f"{header}.{claims}.{signature[::-1]}"
    for token in (expired, forged, "not-a-token"):
        identity = Identity(plane, f"bad-{next(_names)}", token)
        result = identity.kubectl("get", "eventtypes", "-n", "auth-a")
        assert result.returncode != 0
        assert "error: You must be logged in to the server" in result.stderr
        assert "existing" not in result.stdout
        code, body = _raw_status(plane, token)
        assert (code, body["kind"], body["reason"], body["code"]) == (
            401,
            "Status",
            "Unauthorized",
            401,
        )
    assert _raw_status(plane, None)[0] == 401
    code, body = _raw_status(plane, valid)  # authenticated, but may not list namespaces
    assert (code, body["reason"]) == (403, "Forbidden")


@pytest.mark.usefixtures("granted")
def test_as_impersonates_and_is_authorized_as_the_impersonated_user(
    plane: ControlPlaneProcess, users: dict[str, Identity]
) -> None:
    assert (
        plane.kubectl(
            "auth", "can-i", "list", "brokers", "-n", "auth-a", "--as=alice"
        ).stdout.strip()
        == "yes"
    )
    refused = plane.kubectl("get", "brokers", "-n", "auth-b", "--as=alice")
    assert 'User "alice" cannot list resource "brokers"' in refused.stderr
    whoami = plane.kubectl("auth", "whoami", "--as=alice", "--as-group=team-x", "-o", "json")
    info = json.loads(whoami.stdout)["status"]["userInfo"]
    assert (info["username"], info["groups"]) == ("alice", ["team-x", "system:authenticated"])
    not_allowed = users["alice"].kubectl("get", "brokers", "-n", "auth-a", "--as=bob")
    assert (
        'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API '
        'group "" at the cluster scope'
    ) in not_allowed.stderr
    # proxy's discovery cache is warmed by an allowed request: a refused impersonation also
    # refuses discovery, which kubectl reports without the message.
    users["proxy"].kubectl("get", "brokers", "-n", "auth-b", "--as=bob", check=True)
    groups_not_allowed = users["proxy"].kubectl(
        "get", "brokers", "-n", "auth-b", "--as=bob", "--as-group=admins"
    )
    assert 'groups "admins" is forbidden: User "proxy"' in groups_not_allowed.stderr


@pytest.mark.usefixtures("granted")
def test_an_impersonated_write_is_audited_with_the_callers_name(
    plane: ControlPlaneProcess, users: dict[str, Identity]
) -> None:
    document = objects("auth-b", "audited")["eventtypes"]
    users["proxy"].kubectl("create", "-f", "-", "--as=bob", input=manifest(document), check=True)
    refused = users["proxy"].kubectl(
        "create", "-f", "-", "--as=alice", input=manifest(objects("auth-b", "nope")["eventtypes"])
    )
    assert "Forbidden" in refused.stderr
    events = [
        json.loads(line)
        for line in (plane.data_dir / "audit.log").read_text().splitlines()
        if '"impersonatedUser"' in line
    ]
    written = [e for e in events if e["objectRef"].get("name") == "audited"]
    assert len(written) == 1
    event = written[0]
    assert event["verb"] == "create"
    assert event["user"]["username"] == "proxy"
    assert event["impersonatedUser"]["username"] == "bob"
    assert event["objectRef"]["namespace"] == "auth-b"
    assert event["objectRef"]["resource"] == "eventtypes"
    assert event["responseStatus"]["code"] == 201
    denied = [
        e
        for e in events
        if e["impersonatedUser"]["username"] == "alice"
        and e["objectRef"].get("namespace") == "auth-b"
    ]
    assert [e["responseStatus"]["code"] for e in denied] == [403]
    everything = [
        json.loads(line) for line in (plane.data_dir / "audit.log").read_text().splitlines()
    ]
    resources = {e["objectRef"].get("resource") for e in everything}
    assert "selfsubjectaccessreviews" not in resources  # reviews change nothing
    assert {"rolebindings", "eventtypes", "namespaces"} <= resources


def test_health_and_version_answer_without_credentials(plane: ControlPlaneProcess) -> None:
    context = ssl.create_default_context(cafile=str(plane.data_dir / "pki" / "ca.crt"))
    for path in ("/healthz", "/version"):
        with urllib.request.urlopen(f"{plane.url}{path}", context=context, timeout=10) as response:
            assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{plane.url}/api", context=context, timeout=10)
    refused.value.close()
    assert refused.value.code == 401


@pytest.mark.usefixtures("granted")
def test_the_embedded_controllers_work_with_auth_on(plane: ControlPlaneProcess) -> None:
    deadline = time.monotonic() + 30
    while True:
        result = plane.kubectl(
            "get", "broker", "existing", "-n", "auth-a", "-o", "json", check=True
        )
        conditions = {
            c["type"]: c["status"]
            for c in json.loads(result.stdout).get("status", {}).get("conditions", [])
        }
        if conditions.get("Ready") == "True":
            break
        assert time.monotonic() < deadline, conditions
        time.sleep(0.1)


def test_kubeconfig_carries_the_ca_and_an_https_server(plane: ControlPlaneProcess) -> None:
    text = Path(plane.kubeconfig).read_text()
    assert "certificate-authority-data" in text
    assert plane.url.startswith("https://127.0.0.1:")


@pytest.mark.usefixtures("granted")
def test_cluster_role_aggregation_made_with_kubectl_create(
    plane: ControlPlaneProcess, users: dict[str, Identity]
) -> None:
    plane.kubectl(
        "create", "clusterrole", "team-view", "--aggregation-rule=team-view=true", check=True
    )
    plane.kubectl(
        "create",
        "clusterrolebinding",
        "team-view",
        "--clusterrole=team-view",
        "--group=team-a",
        check=True,
    )
    assert users["alice"].kubectl("auth", "can-i", "list", "brokers", "-A").stdout.strip() == "no"
    plane.kubectl(
        "create", "clusterrole", "brokers-view", "--verb=list", "--resource=brokers", check=True
    )
    plane.kubectl("label", "clusterrole", "brokers-view", "team-view=true", check=True)
    assert users["alice"].kubectl("auth", "can-i", "list", "brokers", "-A").stdout.strip() == "yes"
    listed = users["alice"].kubectl("get", "brokers", "-A", "-o", "name", check=True)
    assert listed.stdout.split().count("broker.eventing.knative.dev/existing") == 2


@pytest.mark.usefixtures("granted")
def test_can_i_list_shows_the_rules_of_the_namespace(users: dict[str, Identity]) -> None:
    listed = users["bob"].kubectl("auth", "can-i", "--list", "-n", "auth-a", check=True).stdout
    rows = {line.split()[0]: line for line in listed.splitlines()[1:] if line.strip()}
    assert "[get list]" in rows["triggers.eventing.knative.dev"]
    assert "brokers.eventing.knative.dev" not in rows
    assert "selfsubjectaccessreviews.authorization.k8s.io" in rows


@pytest.mark.usefixtures("granted")
def test_a_binding_may_grant_only_what_its_writer_holds(
    plane: ControlPlaneProcess, users: dict[str, Identity]
) -> None:
    plane.kubectl(
        "create",
        "role",
        "binding-writer",
        "--verb=create,get",
        "--resource=rolebindings",
        "-n",
        "auth-b",
        check=True,
    )
    plane.kubectl(
        "create",
        "rolebinding",
        "bob-binds",
        "--role=binding-writer",
        "--user=bob",
        "-n",
        "auth-b",
        check=True,
    )
    bob = users["bob"]
    escalating = bob.kubectl(
        "create",
        "rolebinding",
        "bob-admin",
        "--clusterrole=cluster-admin",
        "--user=bob",
        "-n",
        "auth-b",
    )
    assert escalating.returncode != 0
    assert (
        'rolebindings.rbac.authorization.k8s.io "bob-admin" is forbidden: user "bob"'
        in escalating.stderr
    )
    assert "is attempting to grant RBAC permissions not currently held" in escalating.stderr
    bob.kubectl(
        "create",
        "rolebinding",
        "someone-writes",
        "--role=writer",
        "--user=someone",
        "-n",
        "auth-b",
        check=True,
    )
    answer = plane.kubectl("auth", "can-i", "create", "brokers", "-n", "auth-b", "--as=someone")
    assert answer.stdout.strip() == "yes"


@pytest.mark.usefixtures("granted")
def test_view_and_edit_cover_knatives_kinds(plane: ControlPlaneProcess) -> None:
    for role_name, user in (("view", "viewer"), ("edit", "editor")):
        plane.kubectl(
            "create",
            "rolebinding",
            f"{user}-{role_name}",
            f"--clusterrole={role_name}",
            f"--user={user}",
            "-n",
            "auth-a",
            check=True,
        )

    def can(user: str, verb: str) -> str:
        answer = plane.kubectl("auth", "can-i", verb, "triggers", "-n", "auth-a", f"--as={user}")
        return answer.stdout.strip()

    assert (can("viewer", "list"), can("viewer", "create")) == ("yes", "no")
    assert (can("editor", "list"), can("editor", "create")) == ("yes", "yes")
    listed = plane.kubectl("get", "triggers", "-n", "auth-a", "--as=viewer", "-o", "name")
    assert "trigger.eventing.knative.dev/existing" in listed.stdout


def test_a_bad_token_file_stops_the_control_plane_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "tokens.csv"
    bad.write_text("only-a-token\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "event_registry",
            "controlplane",
            "--auth",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
            "--token-auth-file",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{bad}:1: need token,user,uid[,groups]" in result.stderr
