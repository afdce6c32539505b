"""Authentication, RBAC over stored objects, impersonation and the reviews, on a real ApiServer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from event_registry.controlplane.api import access
from event_registry.controlplane.api.apiserver import ApiServer, Target
from event_registry.controlplane.api.resources import NAMESPACES
from event_registry.controlplane.auth.attributes import Attributes
from event_registry.controlplane.auth.control import AccessControl
from event_registry.controlplane.auth.identity import UserInfo
from event_registry.controlplane.knative import roles as knative_roles
from event_registry.controlplane.machinery import errors
from event_registry.controlplane.storage.sqlite import Storage

K = "eventing.knative.dev"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    storage = Storage(tmp_path / "data", history_limit=1000)
    server = ApiServer(storage)
    for name in ("a", "b"):
        server.create(Target(NAMESPACES, "v1"), {"metadata": {"name": name}})
    yield server
    storage.close()


@pytest.fixture
def control(api: ApiServer, tmp_path: Path) -> Iterator[AccessControl]:
    tokens_csv = tmp_path / "tokens.csv"
    tokens_csv.write_text('alice-token,alice,u1,"team-a"\nbob-token,bob,u2\n')
    plane = AccessControl(api, tmp_path / "data", enabled=True, token_auth_file=tokens_csv)
    yield plane
    plane.close()


def create(api: ApiServer, resource: Any, obj: dict[str, Any], namespace: str = "") -> None:
    api.create(Target(resource, "v1", namespace), obj)


def role(api: ApiServer, namespace: str, name: str, *rules: dict[str, Any]) -> None:
    create(api, access.ROLES, {"metadata": {"name": name}, "rules": list(rules)}, namespace)


def bind(
    api: ApiServer, namespace: str, role_kind: str, role_name: str, *subjects: dict[str, str]
) -> None:
    binding = {
        "metadata": {"name": f"{role_name}-{len(subjects)}"},
        "roleRef": {"apiGroup": access.RBAC_GROUP, "kind": role_kind, "name": role_name},
        "subjects": list(subjects),
    }
    if namespace:
        create(api, access.ROLE_BINDINGS, binding, namespace)
    else:
        create(api, access.CLUSTER_ROLE_BINDINGS, binding)


def ask(
    control: AccessControl,
    user: UserInfo,
    verb: str,
    plural: str,
    namespace: str = "",
    name: str = "",
) -> bool:
    attributes = Attributes(
        user, verb, True, api_group=K, resource=plural, namespace=namespace, name=name
    )
    return control.rbac.authorize(attributes).allowed


def alice(control: AccessControl) -> UserInfo:
    return control.identify("/api", "Bearer alice-token", {}).user


def test_tokens_authenticate_and_bad_ones_are_401(control: AccessControl) -> None:
    assert alice(control) == UserInfo("alice", "u1", ("team-a", "system:authenticated"))
    admin = control.identify("/api", f"Bearer {control.authenticator.admin_token}", {}).user
    assert "system:masters" in admin.groups
    for header in (None, "Bearer nope", "Basic YTpi", "Bearer ", "Bearer a.b.c"):
        with pytest.raises(errors.Unauthorized):
            control.identify("/api", header, {})


def test_health_without_credentials_is_anonymous(control: AccessControl) -> None:
    assert control.identify("/healthz", None, {}).user.name == "system:anonymous"
    with pytest.raises(errors.Unauthorized):
        control.identify("/healthz", "Bearer wrong", {})


def test_role_bindings_grant_in_their_namespace_only(
    api: ApiServer, control: AccessControl
) -> None:
    user = alice(control)
    assert not ask(control, user, "list", "triggers", "a")
    role(
        api, "a", "reader", {"apiGroups": [K], "resources": ["triggers"], "verbs": ["get", "list"]}
    )
    bind(api, "a", "Role", "reader", {"kind": "User", "name": "alice"})
    assert ask(control, user, "list", "triggers", "a")
    assert not ask(control, user, "list", "triggers", "b")
    assert not ask(control, user, "list", "triggers")  # across namespaces needs a cluster grant
    assert not ask(control, user, "create", "triggers", "a")


def test_groups_cluster_roles_and_aggregation(api: ApiServer, control: AccessControl) -> None:
    user = alice(control)
    create(
        api,
        access.CLUSTER_ROLES,
        {
            "metadata": {"name": "eventing-view"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"view": "true"}}]},
        },
    )
    bind(api, "", "ClusterRole", "eventing-view", {"kind": "Group", "name": "team-a"})
    assert not ask(control, user, "list", "brokers")
    create(
        api,
        access.CLUSTER_ROLES,
        {
            "metadata": {"name": "brokers-view", "labels": {"view": "true"}},
            "rules": [{"apiGroups": [K], "resources": ["brokers"], "verbs": ["list"]}],
        },
    )
    assert ask(control, user, "list", "brokers")
    assert ask(control, user, "list", "brokers", "b")


def test_a_service_account_subject_and_its_token(api: ApiServer, control: AccessControl) -> None:
    create(api, access.SERVICE_ACCOUNTS, {"metadata": {"name": "bot"}}, "a")
    answer = control.reviewer.token_request("a", "bot", {"spec": {"expirationSeconds": 600}})
    token = answer["status"]["token"]
    user = control.identify("/api", f"Bearer {token}", {}).user
    assert user.name == "system:serviceaccount:a:bot"
    assert user.groups == (
        "system:serviceaccounts",
        "system:serviceaccounts:a",
        "system:authenticated",
    )
    role(api, "a", "deleter", {"apiGroups": [K], "resources": ["eventtypes"], "verbs": ["delete"]})
    bind(api, "a", "Role", "deleter", {"kind": "ServiceAccount", "name": "bot"})
    assert ask(control, user, "delete", "eventtypes", "a", "x")
    control.authenticator.clock = lambda: 10.0**10  # long after expiry
    with pytest.raises(errors.Unauthorized):
        control.identify("/api", f"Bearer {token}", {})


def test_deleting_the_service_account_revokes_its_tokens(
    api: ApiServer, control: AccessControl
) -> None:
    create(api, access.SERVICE_ACCOUNTS, {"metadata": {"name": "bot"}}, "a")
    token = control.reviewer.token_request("a", "bot", {})["status"]["token"]
    api.delete(Target(access.SERVICE_ACCOUNTS, "v1", "a", "bot"), {})
    with pytest.raises(errors.Unauthorized):
        control.identify("/api", f"Bearer {token}", {})
    with pytest.raises(errors.NotFound):
        control.reviewer.token_request("a", "bot", {})


@pytest.mark.parametrize("seconds", [10, 599, 2**32 + 1])
def test_token_request_refuses_durations_kubernetes_refuses(
    api: ApiServer, control: AccessControl, seconds: int
) -> None:
    create(api, access.SERVICE_ACCOUNTS, {"metadata": {"name": "bot"}}, "a")
    with pytest.raises(errors.Invalid, match=r"spec\.expirationSeconds"):
        control.reviewer.token_request("a", "bot", {"spec": {"expirationSeconds": seconds}})


def test_impersonation_needs_the_impersonate_verb(api: ApiServer, control: AccessControl) -> None:
    headers = {"impersonate-user": ["bob"], "impersonate-group": ["ops"]}
    with pytest.raises(errors.Forbidden) as refused:
        control.identify("/api", "Bearer alice-token", headers)
    assert refused.value.message == (
        'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API '
        'group "" at the cluster scope'
    )
    create(
        api,
        access.CLUSTER_ROLES,
        {
            "metadata": {"name": "impersonator"},
            "rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}],
        },
    )
    bind(api, "", "ClusterRole", "impersonator", {"kind": "User", "name": "alice"})
    with pytest.raises(errors.Forbidden, match='groups "ops" is forbidden'):
        control.identify("/api", "Bearer alice-token", headers)
    caller = control.identify("/api", "Bearer alice-token", {"impersonate-user": ["bob"]})
    assert caller.authenticated.name == "alice"
    assert caller.user == UserInfo("bob", groups=("system:authenticated",))


def test_impersonating_a_service_account_checks_serviceaccounts(control: AccessControl) -> None:
    with pytest.raises(errors.Forbidden) as refused:
        control.identify(
            "/api", "Bearer alice-token", {"impersonate-user": ["system:serviceaccount:a:bot"]}
        )
    assert refused.value.message.startswith(
        'serviceaccounts "bot" is forbidden: User "alice" cannot impersonate resource '
        '"serviceaccounts" in API group "" in the namespace "a"'
    )
    admin = f"Bearer {control.authenticator.admin_token}"
    user = control.identify(
        "/api", admin, {"impersonate-user": ["system:serviceaccount:a:bot"]}
    ).user
    assert user.groups == (
        "system:serviceaccounts",
        "system:serviceaccounts:a",
        "system:authenticated",
    )


def test_groups_without_a_user_are_a_bad_request(control: AccessControl) -> None:
    with pytest.raises(errors.BadRequest):
        control.identify("/api", "Bearer alice-token", {"impersonate-group": ["ops"]})


def test_authorize_raises_kube_apiserver_forbidden(control: AccessControl) -> None:
    caller = control.identify("/api", "Bearer alice-token", {})
    attributes = Attributes(
        caller.user, "get", True, api_group=K, resource="triggers", namespace="a", name="t"
    )
    with pytest.raises(errors.Forbidden) as refused:
        control.authorize(caller, attributes)
    assert refused.value.message == (
        'triggers.eventing.knative.dev "t" is forbidden: User "alice" cannot get resource '
        '"triggers" in API group "eventing.knative.dev" in the namespace "a"'
    )
    assert refused.value.to_status()["details"] == {"name": "t", "group": K, "kind": "triggers"}


def test_discovery_and_self_reviews_are_allowed_to_everyone_authenticated(
    control: AccessControl,
) -> None:
    caller = control.identify("/api", "Bearer bob-token", {})
    for url in ("/api", "/apis/eventing.knative.dev/v1", "/openapi/v3", "/version"):
        control.authorize(caller, Attributes(caller.user, "get", False, path=url))
    review = Attributes(
        caller.user,
        "create",
        True,
        api_group="authorization.k8s.io",
        resource="selfsubjectaccessreviews",
    )
    control.authorize(caller, review)


def test_subject_access_review_answers_for_the_subject(
    api: ApiServer, control: AccessControl
) -> None:
    role(api, "a", "reader", {"apiGroups": [K], "resources": ["triggers"], "verbs": ["get"]})
    bind(api, "a", "Role", "reader", {"kind": "Group", "name": "team-a"})
    spec: dict[str, Any] = {
        "user": "zed",
        "groups": ["team-a"],
        "resourceAttributes": {"namespace": "a", "verb": "get", "group": K, "resource": "triggers"},
    }
    answer = control.reviewer.answer(access.SUBJECT_ACCESS_REVIEWS, alice(control), {"spec": spec})
    assert answer["status"]["allowed"] is True
    assert (
        answer["status"]["reason"]
        == 'RBAC: allowed by RoleBinding "reader-1/a" of Role "reader" to Group "team-a"'
    )
    spec["resourceAttributes"]["namespace"] = "b"
    answer = control.reviewer.answer(access.SUBJECT_ACCESS_REVIEWS, alice(control), {"spec": spec})
    assert answer["status"] == {"allowed": False}
    with pytest.raises(errors.Invalid):
        control.reviewer.answer(
            access.SUBJECT_ACCESS_REVIEWS, alice(control), {"spec": {"user": "x"}}
        )


def test_token_review(api: ApiServer, control: AccessControl) -> None:
    answer = control.reviewer.answer(
        access.TOKEN_REVIEWS, alice(control), {"spec": {"token": "bob-token"}}
    )
    assert answer["status"]["authenticated"] is True
    assert answer["status"]["user"]["username"] == "bob"
    answer = control.reviewer.answer(
        access.TOKEN_REVIEWS, alice(control), {"spec": {"token": "x.y.z"}}
    )
    assert answer["status"]["authenticated"] is False
    assert answer["status"]["error"]


def test_binding_validation(api: ApiServer) -> None:
    with pytest.raises(errors.Invalid, match=r"roleRef\.name"):
        create(
            api, access.ROLE_BINDINGS, {"metadata": {"name": "x"}, "roleRef": {"kind": "Role"}}, "a"
        )
    with pytest.raises(errors.Invalid, match=r"subjects\[0\]\.kind"):
        create(
            api,
            access.CLUSTER_ROLE_BINDINGS,
            {
                "metadata": {"name": "x"},
                "roleRef": {"kind": "ClusterRole", "name": "v"},
                "subjects": [{"kind": "Robot", "name": "r"}],
            },
        )
    with pytest.raises(errors.Invalid, match=r"rules\[0\]\.verbs"):
        create(api, access.ROLES, {"metadata": {"name": "r"}, "rules": [{"resources": ["x"]}]}, "a")


def rbac_writer(api: ApiServer) -> None:
    """alice may write Roles and RoleBindings in a (not ``*``: that includes escalate and
    bind), and read triggers there."""
    role(
        api,
        "a",
        "rbac-writer",
        {
            "apiGroups": [access.RBAC_GROUP],
            "resources": ["roles", "rolebindings"],
            "verbs": ["create", "update", "patch", "get", "list"],
        },
        {"apiGroups": [K], "resources": ["triggers"], "verbs": ["get", "list"]},
    )
    bind(api, "a", "Role", "rbac-writer", {"kind": "User", "name": "alice"})


def test_a_role_may_hold_only_what_its_writer_holds(api: ApiServer, control: AccessControl) -> None:
    rbac_writer(api)
    caller = control.identify("/api", "Bearer alice-token", {})
    subset = {
        "metadata": {"name": "r", "namespace": "a"},
        "rules": [{"apiGroups": [K], "resources": ["triggers"], "verbs": ["list"]}],
    }
    control.check_grant(caller, access.ROLES.key, subset)
    more = {
        "metadata": {"name": "r", "namespace": "a"},
        "rules": [{"apiGroups": [K], "resources": ["triggers", "brokers"], "verbs": ["list"]}],
    }
    with pytest.raises(errors.Forbidden) as refused:
        control.check_grant(caller, access.ROLES.key, more)
    assert "is attempting to grant RBAC permissions not currently held" in refused.value.message
    assert 'Resources:["brokers"]' in refused.value.message
    assert 'Resources:["triggers"]' not in refused.value.message
    elsewhere = {**subset, "metadata": {"name": "r", "namespace": "b"}}
    with pytest.raises(errors.Forbidden):
        control.check_grant(caller, access.ROLES.key, elsewhere)
    role(
        api,
        "a",
        "escalator",
        {"apiGroups": [access.RBAC_GROUP], "resources": ["roles"], "verbs": ["escalate"]},
    )
    bind(api, "a", "Role", "escalator", {"kind": "User", "name": "alice"})
    control.check_grant(caller, access.ROLES.key, more)


def test_a_binding_may_grant_only_what_its_writer_holds(
    api: ApiServer, control: AccessControl
) -> None:
    rbac_writer(api)
    role(api, "a", "lister", {"apiGroups": [K], "resources": ["triggers"], "verbs": ["list"]})
    role(api, "a", "creator", {"apiGroups": [K], "resources": ["triggers"], "verbs": ["create"]})
    caller = control.identify("/api", "Bearer alice-token", {})

    def binding(role_name: str) -> dict[str, Any]:
        return {
            "metadata": {"name": "b", "namespace": "a"},
            "roleRef": {"apiGroup": access.RBAC_GROUP, "kind": "Role", "name": role_name},
            "subjects": [{"kind": "User", "name": "bob"}],
        }

    control.check_grant(caller, access.ROLE_BINDINGS.key, binding("lister"))
    with pytest.raises(errors.Forbidden, match='Verbs:\\["create"\\]'):
        control.check_grant(caller, access.ROLE_BINDINGS.key, binding("creator"))
    role(
        api,
        "a",
        "binder",
        {
            "apiGroups": [access.RBAC_GROUP],
            "resources": ["roles"],
            "verbs": ["bind"],
            "resourceNames": ["creator"],
        },
    )
    bind(api, "a", "Role", "binder", {"kind": "User", "name": "alice"})
    control.check_grant(caller, access.ROLE_BINDINGS.key, binding("creator"))


def test_roleref_is_immutable(api: ApiServer) -> None:
    role(api, "a", "one", {"apiGroups": [K], "resources": ["triggers"], "verbs": ["list"]})
    bind(api, "a", "Role", "one", {"kind": "User", "name": "bob"})
    target = Target(access.ROLE_BINDINGS, "v1", "a", "one-1")
    with pytest.raises(errors.Invalid, match="cannot change roleRef"):
        api.patch(target, "application/merge-patch+json", {"roleRef": {"name": "two"}})


@pytest.mark.parametrize(
    ("cluster_role", "allowed"),
    [
        ("view", {("list", "triggers"), ("get", "eventtypes")}),
        ("edit", {("list", "triggers"), ("get", "eventtypes"), ("create", "triggers")}),
        (
            "admin",
            {("list", "triggers"), ("get", "eventtypes"), ("create", "triggers")},
        ),
    ],
)
def test_default_view_edit_admin_aggregate_knatives_roles(
    api: ApiServer, control: AccessControl, cluster_role: str, allowed: set[tuple[str, str]]
) -> None:
    knative_roles.install(api)
    bind(api, "a", "ClusterRole", cluster_role, {"kind": "User", "name": "alice"})
    user = alice(control)
    for verb, plural in [("list", "triggers"), ("get", "eventtypes"), ("create", "triggers")]:
        assert ask(control, user, verb, plural, "a") is ((verb, plural) in allowed), (verb, plural)
        assert not ask(control, user, verb, plural, "b")
    roles = Attributes(
        user, "create", True, api_group=access.RBAC_GROUP, resource="roles", namespace="a"
    )
    assert control.rbac.authorize(roles).allowed is (cluster_role == "admin")


def test_impersonating_anonymous_is_unauthenticated(control: AccessControl) -> None:
    admin = f"Bearer {control.authenticator.admin_token}"
    user = control.identify("/api", admin, {"impersonate-user": ["system:anonymous"]}).user
    assert user.groups == ("system:unauthenticated",)
