"""``--auth=kubernetes``'s decisions and their caches, against a scripted cluster.

The cluster here answers TokenReviews and SubjectAccessReviews from two tables and counts
them; the clock is driven by hand. What is checked: a warm caller makes no review at all; a
cold one over many namespaces asks each once (concurrently, shared by concurrent requests);
allowed and denied answers live for their own TTLs; RBAC changes forget every decision; the
caches stay bounded; a cluster that cannot answer is AuthUnavailable, never "allowed".
(Through a real control plane: tests/integration/test_kubernetes_auth.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

import pytest
from multidict import CIMultiDict

from event_registry import cli
from event_registry.app.auth import AuthUnavailable
from event_registry.app.auth.expiring import ExpiringCache
from event_registry.app.auth.kubernetes import KubernetesAuthenticator, KubernetesAuthSettings
from event_registry.app.auth.writing import CallerWrites
from event_registry.app.live.connection import still_allowed
from event_registry.cluster import errors, reviewing
from event_registry.cluster.client import ClusterClient, impersonation_headers
from event_registry.domain import writes
from event_registry.domain.access import Identity, Principal, reading_per_kind
from event_registry.graphql.live import SUBSCRIPTIONS, operation

ALICE = Identity("alice", "uid-a", ("team-a", "system:authenticated"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedCluster:
    """Answers reviews: ``tokens`` maps tokens to users, ``grants`` (user, verb, namespace)
    allowed on every resource ("" for cluster-wide), ``resource_grants`` (user, verb,
    resource, namespace) on one."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, Any]] = {
            "alice-token": {"username": "alice", "uid": "uid-a", "groups": ["team-a"]}
        }
        self.grants: set[tuple[str, str, str]] = set()
        self.resource_grants: set[tuple[str, str, str, str]] = set()
        self.token_reviews = 0
        self.access_reviews = 0
        self.down = False
        self.delay = 0.0

    async def request(self, method: str, path: str, *, body: Any = None, **_: Any) -> Any:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            raise errors.Unavailable(0, "Unreachable", "connection refused")
        if path.endswith("/tokenreviews"):
            self.token_reviews += 1
            user = self.tokens.get(body["spec"]["token"])
            if user is None:
                return {"status": {"authenticated": False, "error": "invalid bearer token"}}
            return {"status": {"authenticated": True, "user": user}}
        assert path.endswith("/subjectaccessreviews"), path
        self.access_reviews += 1
        spec: Mapping[str, Any] = body["spec"]
        attributes = spec["resourceAttributes"]
        user, verb, namespace = spec["user"], attributes["verb"], attributes["namespace"]
        allowed = (user, verb, namespace) in self.grants or (
            (user, verb, attributes["resource"], namespace) in self.resource_grants
        )
        return {"status": {"allowed": allowed}}


def readable_of(principal: Principal | None) -> frozenset[str] | None:
    assert principal is not None, "not authenticated"
    return principal.readable


def authenticator(
    cluster: ScriptedCluster,
    namespaces: list[str],
    clock: Clock,
    **settings: Any,
) -> KubernetesAuthenticator:
    return KubernetesAuthenticator(
        cast(ClusterClient, cluster),
        lambda: namespaces,
        KubernetesAuthSettings(**settings),
        clock=clock,
    )


async def test_a_warm_caller_makes_no_review_at_all() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.grants |= {("alice", "list", "a"), ("alice", "list", "c")}
    auth = authenticator(cluster, ["a", "b", "c"], clock)
    principal = await auth.authenticate("Bearer alice-token")
    assert principal is not None
    assert principal.readable == frozenset({"a", "c"})
    assert principal.identity == Identity("alice", "uid-a", ("team-a",))
    # per kind (EventTypes, Brokers, Triggers): cluster-wide, then each of the 3 namespaces
    assert (cluster.token_reviews, cluster.access_reviews) == (1, 12)
    for _ in range(100):
        assert await auth.authenticate("Bearer alice-token") == principal
    assert (cluster.token_reviews, cluster.access_reviews) == (1, 12)


async def test_a_cluster_wide_grant_means_every_namespace_and_asks_nothing_more() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.grants.add(("alice", "list", ""))
    auth = authenticator(cluster, [f"ns-{i}" for i in range(1000)], clock)
    principal = await auth.authenticate("Bearer alice-token")
    assert readable_of(principal) is None
    assert cluster.access_reviews == 3  # one per kind


async def test_concurrent_cold_requests_share_their_reviews() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.delay = 0.01
    cluster.grants.add(("alice", "list", "ns-7"))
    names = [f"ns-{i}" for i in range(50)]
    auth = authenticator(cluster, names, clock, max_concurrent_reviews=8)
    principals = await asyncio.gather(*(auth.authenticate("Bearer alice-token") for _ in range(20)))
    assert {p.readable for p in principals if p is not None} == {frozenset({"ns-7"})}
    assert cluster.token_reviews == 1
    assert cluster.access_reviews == 3 * 51


async def test_a_flood_of_unknown_tokens_keeps_at_most_the_bound_of_reviews_in_flight() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.delay = 0.01
    in_flight, most = 0, 0
    answer = cluster.request

    async def counted(method: str, path: str, **kwargs: Any) -> Any:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            return await answer(method, path, **kwargs)
        finally:
            in_flight -= 1

    cluster.request = counted  # type: ignore[method-assign]
    auth = authenticator(cluster, ["a"], clock, max_concurrent_reviews=4)
    refused = await asyncio.gather(*(auth.authenticate(f"Bearer forged-{i}") for i in range(40)))
    assert refused == [None] * 40
    assert cluster.token_reviews == 40
    assert most == 4


async def test_allowed_and_denied_answers_live_for_their_own_ttls() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.grants.add(("alice", "list", "a"))
    auth = authenticator(cluster, ["a", "b"], clock, allowed_ttl=10.0, denied_ttl=5.0)
    await auth.authenticate("Bearer alice-token")
    reviews = cluster.access_reviews
    cluster.grants = {("alice", "list", "b")}  # the cluster changed its mind, unannounced
    clock.now += 4.9
    principal = await auth.authenticate("Bearer alice-token")
    assert readable_of(principal) == frozenset({"a"})
    assert cluster.access_reviews == reviews
    clock.now += 0.2  # denied answers expired: "" and b are asked again, a is still allowed
    principal = await auth.authenticate("Bearer alice-token")
    assert readable_of(principal) == frozenset({"a", "b"})
    assert cluster.access_reviews == reviews + 3 * 2
    clock.now += 5.0  # now a's allowed answer and the token expired too
    principal = await auth.authenticate("Bearer alice-token")
    assert readable_of(principal) == frozenset({"b"})
    assert cluster.token_reviews == 2


async def test_an_rbac_change_forgets_every_decision_and_wakes_waiters() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.grants.add(("alice", "list", "a"))
    auth = authenticator(cluster, ["a"], clock)
    assert (await auth.authenticate("Bearer alice-token")) is not None
    waiter = asyncio.create_task(auth.wait_for_change(60))
    await asyncio.sleep(0)
    cluster.grants.clear()
    auth.invalidate()
    await asyncio.wait_for(waiter, 1)
    principal = await auth.authenticate("Bearer alice-token")
    assert readable_of(principal) == frozenset()


async def test_a_new_namespace_is_decided_when_it_appears() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.grants |= {("alice", "list", "a"), ("alice", "list", "new")}
    namespaces = ["a"]
    auth = KubernetesAuthenticator(
        cast(ClusterClient, cluster), lambda: tuple(namespaces), clock=clock
    )
    first = await auth.authenticate("Bearer alice-token")
    namespaces.append("new")
    second = await auth.authenticate("Bearer alice-token")
    assert (readable_of(first), readable_of(second)) == (frozenset({"a"}), frozenset({"a", "new"}))


async def test_unknown_tokens_are_none_and_asked_again_after_the_denied_ttl() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    auth = authenticator(cluster, ["a"], clock, denied_ttl=5.0)
    assert await auth.authenticate("Bearer forged") is None
    assert await auth.authenticate("Bearer forged") is None
    assert await auth.authenticate(None) is None
    assert await auth.authenticate("Basic YWxpY2U6cHc=") is None
    assert cluster.token_reviews == 1
    clock.now += 5.0
    assert await auth.authenticate("Bearer forged") is None
    assert cluster.token_reviews == 2


async def test_a_cluster_that_cannot_answer_is_unavailable_never_allowed() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.down = True
    auth = authenticator(cluster, ["a"], clock)
    with pytest.raises(AuthUnavailable):
        await auth.authenticate("Bearer alice-token")
    cluster.down = False
    cluster.grants.add(("alice", "list", "a"))
    principal = await auth.authenticate("Bearer alice-token")
    assert readable_of(principal) == frozenset({"a"})


async def test_write_decisions_are_asked_for_the_real_verb() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.grants.add(("alice", "create", "a"))
    auth = authenticator(cluster, ["a"], clock)
    assert await auth.allowed(
        ALICE, reviewing.Access("create", "eventing.knative.dev", "triggers", "a")
    )
    assert not await auth.allowed(
        ALICE, reviewing.Access("delete", "eventing.knative.dev", "triggers", "a")
    )


async def test_a_write_whose_review_the_cluster_cannot_answer_is_unanswered() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    auth = authenticator(cluster, ["a"], clock)
    port = CallerWrites(auth, ALICE, cast(ClusterClient, cluster), timeout=1.0)
    cluster.down = True
    with pytest.raises(writes.Unanswered, match="could not review"):
        await port.delete("Trigger", "a", "t")


def test_the_expiring_cache_is_bounded_least_recently_used_first() -> None:
    clock = Clock()
    cache: ExpiringCache[str, int] = ExpiringCache(2, clock=clock)
    cache.put("a", 1, 10)
    cache.put("b", 2, 10)
    assert cache.get("a") == (1, 1010.0)  # a is now the most recently used
    cache.put("c", 3, 10)
    assert cache.get("b") is None
    assert len(cache) == 2
    clock.now += 10
    assert cache.get("a") is None
    cache.put("d", 4, 1)
    cache.clear()
    assert cache.get("d") is None


def test_impersonation_sends_one_header_line_per_value() -> None:
    identity = Identity("alice", "uid-a", ("g1", "g2", "g3"), (("scopes", ("x", "y")),))
    sent = CIMultiDict(impersonation_headers(identity))
    assert sent.getall("Impersonate-User") == ["alice"]
    assert sent.getall("Impersonate-Group") == ["g1", "g2", "g3"]
    assert sent.getall("Impersonate-Uid") == ["uid-a"]
    assert sent.getall("Impersonate-Extra-scopes") == ["x", "y"]


def test_a_subscription_survives_a_change_of_rights_only_when_it_shows_nothing_more() -> None:
    both = Principal("alice", frozenset({"a", "b"}), None)
    only_a = Principal("alice", frozenset({"a"}), None)
    everything = Principal("alice", None, None)
    assert still_allowed(frozenset({"a"}), both, only_a)
    assert not still_allowed(frozenset({"b"}), both, only_a)
    assert not still_allowed(None, both, only_a)
    assert still_allowed(None, only_a, both)
    assert not still_allowed(None, everything, both)
    assert still_allowed(None, both, everything)


def test_the_namespaces_a_subscription_can_deliver() -> None:
    literal = operation('subscription { eventTypeChanges(namespace: "a") { cursor } }', None)
    variable = operation(
        "subscription S($ns: String) { eventTypeChanges(namespace: $ns) { cursor } }", None
    )
    unscoped = operation("subscription { eventTypeChanges { cursor } }", None)
    assert SUBSCRIPTIONS.namespaces(literal, None) == frozenset({"a"})
    assert SUBSCRIPTIONS.namespaces(variable, {"ns": "b"}) == frozenset({"b"})
    assert SUBSCRIPTIONS.namespaces(variable, {}) is None
    assert SUBSCRIPTIONS.namespaces(unscoped, None) is None


async def test_a_steady_caller_is_renewed_in_the_background_before_it_expires() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.grants.add(("alice", "list", "a"))
    auth = authenticator(cluster, ["a", "b"], clock, allowed_ttl=10.0, denied_ttl=4.0)
    assert readable_of(await auth.authenticate("Bearer alice-token")) == frozenset({"a"})
    reviews = cluster.access_reviews
    cluster.grants.add(("alice", "list", "b"))
    clock.now += 3.5  # in the last quarter of the denied answers' TTL
    assert readable_of(await auth.authenticate("Bearer alice-token")) == frozenset({"a"})
    for _ in range(10):  # the renewal runs in the background
        await asyncio.sleep(0)
    assert cluster.access_reviews == reviews + 3 * 2  # "" and b per kind: a still holds
    clock.now += 1.0  # the old denied answers have expired: the renewed principal is used
    cluster.delay = 60.0  # a review now would hang the request
    principal = await asyncio.wait_for(auth.authenticate("Bearer alice-token"), 1)
    assert readable_of(principal) == frozenset({"a", "b"})


async def test_each_kind_is_readable_where_the_cluster_allows_listing_it() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.resource_grants |= {
        ("alice", "list", "eventtypes", "a"),
        ("alice", "list", "eventtypes", "b"),
        ("alice", "list", "brokers", "b"),
        ("alice", "list", "triggers", ""),
    }
    auth = authenticator(cluster, ["a", "b", "c"], clock)
    principal = await auth.authenticate("Bearer alice-token")
    assert principal is not None
    assert principal.readable_of("EventType") == frozenset({"a", "b"})
    assert principal.readable_of("Broker") == frozenset({"b"})
    assert principal.readable_of("Trigger") is None
    assert principal.readable is None  # Triggers everywhere: every namespace is visible
    assert (principal.can_read("a", "Broker"), principal.can_read("c", "Trigger")) == (False, True)
    assert cluster.access_reviews == 3 + 3 + 3  # Triggers allowed cluster-wide: no more asked
    reviews = cluster.access_reviews
    assert await auth.authenticate("Bearer alice-token") == principal
    assert cluster.access_reviews == reviews


async def test_callers_who_may_read_different_kinds_have_different_scope_keys() -> None:
    cluster, clock = ScriptedCluster(), Clock()
    cluster.tokens["bob-token"] = {"username": "bob"}
    cluster.grants |= {("alice", "list", "a")}
    cluster.resource_grants |= {
        ("bob", "list", "eventtypes", "a"),
        ("bob", "list", "brokers", "a"),
    }
    auth = authenticator(cluster, ["a", "b"], clock)
    alice = await auth.authenticate("Bearer alice-token")
    bob = await auth.authenticate("Bearer bob-token")
    assert alice is not None
    assert bob is not None
    assert alice.readable == bob.readable == frozenset({"a"})
    assert alice.scope_key == "a"  # every kind alike: the tokens-mode key
    assert alice.scope_key != bob.scope_key


def test_a_subscription_ends_when_a_kind_it_could_read_is_revoked() -> None:
    everything = Principal("alice", frozenset({"a"}), None)
    no_triggers = reading_per_kind(
        "alice", {"EventType": frozenset({"a"}), "Broker": frozenset({"a"})}, None
    )
    assert not still_allowed(frozenset({"a"}), everything, no_triggers)
    assert not still_allowed(None, everything, no_triggers)
    assert still_allowed(frozenset({"a"}), no_triggers, everything)
    assert not still_allowed(frozenset({"b"}), no_triggers, no_triggers)  # b is not visible


def test_a_subject_access_review_names_the_whole_identity() -> None:
    identity = Identity("alice", "uid-a", ("team-a",), (("scopes", ("x",)),))
    review = reviewing.access_review(
        identity, reviewing.Access("create", "eventing.knative.dev", "triggers", "a")
    )
    assert review["apiVersion"] == "authorization.k8s.io/v1"
    assert review["spec"] == {
        "resourceAttributes": {
            "verb": "create",
            "group": "eventing.knative.dev",
            "resource": "triggers",
            "namespace": "a",
        },
        "user": "alice",
        "groups": ["team-a"],
        "uid": "uid-a",
        "extra": {"scopes": ["x"]},
    }


def test_a_token_reviews_user_becomes_an_identity_whatever_its_shape() -> None:
    user = {"username": "bob", "groups": ["g"], "extra": {"b": ["2"], "a": ["1"], "bad": "x"}}
    assert reviewing.identity_of(user) == Identity(
        "bob", "", ("g",), (("a", ("1",)), ("b", ("2",)))
    )
    assert reviewing.identity_of({"groups": "not a list"}) == Identity("")


@pytest.mark.parametrize(
    ("argv", "mode"),
    [
        ([], "open"),
        (["--tokens-file", "t.yaml"], "tokens"),
        (["--auth=kubernetes", "--authz-allowed-ttl", "3"], "kubernetes"),
    ],
)
def test_the_auth_flags_choose_a_mode(argv: list[str], mode: str) -> None:
    parser = cli._parser()
    args = parser.parse_args(["serve", *argv])
    settings = cli._auth_settings(parser, args)
    assert settings.mode == mode
    if mode == "kubernetes":
        assert settings.kubernetes is not None
        assert (settings.kubernetes.allowed_ttl, settings.kubernetes.denied_ttl) == (3.0, 30.0)


@pytest.mark.parametrize(
    "argv",
    [
        ["--auth=tokens"],
        ["--auth=kubernetes", "--tokens-file", "t.yaml"],
        ["--auth=kubernetes", "--authz-denied-ttl", "0"],
    ],
)
def test_contradictory_auth_flags_stop_serve_with_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = cli._parser()
    args = parser.parse_args(["serve", *argv])
    with pytest.raises(SystemExit) as stopped:
        cli._auth_settings(parser, args)
    assert stopped.value.code == 2
    assert "--" in capsys.readouterr().err
