"""Budgets per caller: counts per caller and in total, refusals, exact give-backs."""

from __future__ import annotations

from event_registry.app.budgets import (
    Budget,
    Budgets,
    BudgetSettings,
    RateLimit,
    caller_for_address,
    caller_for_token,
)
from event_registry.domain import access


def budget(per_caller: int = 2, total: int = 3) -> Budget:
    return Budget("things", per_caller=per_caller, total=total, flags=("--per", "--total"))


def test_a_caller_is_refused_over_its_own_ceiling_and_others_are_not() -> None:
    things = budget()
    assert things.take("a") is None
    assert things.take("a") is None
    refusal = things.take("a")
    assert refusal == "too many things for this caller (max 2, --per)"
    assert things.held_by("a") == 2
    assert things.take("b") is None


def test_the_total_ceiling_applies_across_callers() -> None:
    things = budget(per_caller=5, total=2)
    assert things.take("a") is None
    assert things.take("b") is None
    assert things.take("c") == "too many things on this server (max 2, --total)"
    assert things.held == 2
    assert things.held_by("c") == 0


def test_giving_back_makes_room_again_and_idle_callers_leave_no_entry() -> None:
    things = budget()
    things.take("a")
    things.take("a")
    assert things.take("a") is not None
    things.give_back("a")
    assert things.take("a") is None
    things.give_back("a")
    things.give_back("a")
    assert things.held == 0
    assert things._counts == {}


def test_giving_back_what_was_never_taken_changes_nothing() -> None:
    things = budget()
    things.take("a")
    things.give_back("b")
    assert things.held == 1
    assert things.held_by("a") == 1


def test_budgets_name_their_flags() -> None:
    budgets = Budgets(BudgetSettings(max_connections_per_caller=0))
    assert budgets.connections.take("a") == (
        "too many connections for this caller (max 0, --max-connections-per-caller)"
    )
    budgets = Budgets(BudgetSettings(max_subscriptions=0))
    assert budgets.subscriptions.take("a") == (
        "too many subscriptions on this server (max 0, --max-subscriptions)"
    )


def test_callers_by_token_and_by_address_never_collide() -> None:
    principal = access.Principal("10.0.0.1", frozenset(), frozenset())
    assert caller_for_token(principal) != caller_for_address({"client": ("10.0.0.1", 5000)})
    assert caller_for_address({"client": ("10.0.0.1", 5000)}) == caller_for_address(
        {"client": ("10.0.0.1", 6000)}
    )
    assert caller_for_address({}) == "address:unknown"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_rate_limit_allows_a_burst_then_paces_each_caller_alone() -> None:
    clock = Clock()
    limit = RateLimit("connections", rate=2.0, burst=3, flag="--flag", clock=clock)
    assert [limit.allow("a") for _ in range(3)] == [None, None, None]
    refusal = limit.allow("a")
    assert refusal == "too many new connections from this caller (max 2/s, --flag)"
    assert limit.allow("b") is None
    clock.now += 0.5
    assert limit.allow("a") is None
    assert limit.allow("a") is not None
    clock.now += 10
    assert [limit.allow("a") for _ in range(4)] == [None, None, None, refusal]


def test_a_refused_attempt_spends_nothing() -> None:
    clock = Clock()
    limit = RateLimit("connections", rate=1.0, burst=1, flag="--flag", clock=clock)
    assert limit.allow("a") is None
    for _ in range(100):
        assert limit.allow("a") is not None
    clock.now += 1.0
    assert limit.allow("a") is None


def test_a_zero_rate_never_refuses() -> None:
    limit = RateLimit("connections", rate=0, burst=1, flag="--flag")
    assert all(limit.allow("a") is None for _ in range(1_000))


def test_callers_whose_bucket_refilled_are_forgotten_when_many_are_remembered() -> None:
    clock = Clock()
    limit = RateLimit("connections", rate=10.0, burst=1, flag="--flag", clock=clock)
    for n in range(RateLimit.REMEMBERED):
        assert limit.allow(f"caller-{n}") is None
    assert limit.remembered == RateLimit.REMEMBERED
    clock.now += 1.0
    assert limit.allow("newcomer") is None
    assert limit.remembered == 1


def test_budgets_pace_connections_after_a_burst_of_five_seconds_or_the_ceiling() -> None:
    paced = Budgets(BudgetSettings(max_connections_per_caller=4, connection_rate_per_caller=1))
    assert (paced.connection_rate.rate, paced.connection_rate.burst) == (1, 5)
    roomy = Budgets(BudgetSettings(max_connections_per_caller=50, connection_rate_per_caller=2))
    assert roomy.connection_rate.burst == 50
