"""Budgets per caller: counts per caller and in total, refusals, exact give-backs."""

from __future__ import annotations

from event_registry.app.budgets import (
    Budget,
    Budgets,
    BudgetSettings,
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
