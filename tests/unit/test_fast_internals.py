"""The fast execution path steps aside when graphql-core or Strawberry is not as it expects.

At start (a method reshaped, an attribute gone) the schema is built with Strawberry's
standard execution; per request (the planner failing on something that is not a GraphQL
error) the selection is completed the standard way. Either way answers stay those of the
standard execution and each reason is logged once per process. The third-party internals are
changed with ``monkeypatch`` (restored after each test), as a new release would change them.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import pytest
from graphql.execution import Executor
from graphql.execution.incremental import IncrementalExecutor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.fields.resolver import StrawberryResolver

from event_registry.domain.access import OPEN
from event_registry.graphql import fast_internals
from event_registry.graphql.fast_execution import FastExecutionContext
from event_registry.graphql.schema import build_schema, schema
from event_registry.store.caching import Cache
from tests.support.knative_fixtures import build_cache
from tests.unit.test_fast_execution_differential import CASES, STANDARD, answer

LOGGER = fast_internals.__name__
QUERIES = ("every-field-event-type", "broker-graph", "named-fragments", "page-invalid-cursor")


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing logged yet, as in a process that just started."""
    monkeypatch.setattr(fast_internals, "_warned", set())


@pytest.fixture(scope="module")
def cache() -> Cache:
    return build_cache()


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER and record.levelno == logging.WARNING
    ]


def test_everything_the_fast_path_relies_on_is_there() -> None:
    assert fast_internals.missing_internals() == []
    assert schema.execution_context_class is FastExecutionContext


def test_a_reshaped_executor_method_is_named() -> None:
    class Reshaped(StrawberryGraphQLCoreExecutionContext):
        def collect_subfields(self, return_type: Any) -> Any:  # type: ignore[override]
            raise NotImplementedError

    assert fast_internals.missing_internals(Reshaped) == [
        "executor method collect_subfields no longer takes (return_type, field_details_list)"
    ]


def test_a_missing_executor_method_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(Executor, "collect_subfields")
    assert fast_internals.missing_internals() == ["executor method collect_subfields is missing"]


async def test_at_start_a_changed_internal_means_standard_execution(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, cache: Cache
) -> None:
    original = IncrementalExecutor.execute_collected_subfields

    def reshaped(self: Any, *args: Any) -> Any:  # a release where it takes one more parameter
        return original(self, *args[:6])

    reshaped.__signature__ = inspect.signature(original).replace(  # type: ignore[attr-defined]
        parameters=[
            *inspect.signature(original).parameters.values(),
            inspect.Parameter("extra", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
        ]
    )
    monkeypatch.setattr(IncrementalExecutor, "execute_collected_subfields", reshaped)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        fallen_back = build_schema()
        build_schema()  # a second build logs nothing new
    assert fallen_back.execution_context_class is not FastExecutionContext
    assert warnings(caplog) == [
        "Fast execution off, Strawberry's standard execution used: executor method "
        "execute_collected_subfields no longer takes (parent_type, source_value, path, "
        "grouped_field_set, new_defer_usages, *)"
    ]
    for name in QUERIES:
        expected = await answer(STANDARD, CASES[name], cache, OPEN, None)
        assert await answer(fallen_back, CASES[name], cache, OPEN, None) == expected


async def test_a_planner_failure_completes_the_selection_the_standard_way(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, cache: Cache
) -> None:
    def reshaped(resolver: StrawberryResolver[Any]) -> bool:
        raise RuntimeError("is_async is computed differently now")

    # Read by the planner for every field with a resolver, not by standard execution.
    monkeypatch.setattr(StrawberryResolver, "is_async", property(reshaped))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(2):
            for name in QUERIES:
                expected = await answer(STANDARD, CASES[name], cache, OPEN, None)
                assert await answer(schema, CASES[name], cache, OPEN, None) == expected
    logged = warnings(caplog)
    assert len(logged) == 1, logged
    assert logged[0].startswith(
        "Fast execution failed (RuntimeError: is_async is computed differently now at "
    )
