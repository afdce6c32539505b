"""EventType.producers and autoCreated: the owning source from the controller ownerReference,
Knative's auto-create mark, over the Knative fixtures plus one auto-created EventType."""

from __future__ import annotations

from typing import Any

import pytest

from event_registry.domain import normalizing, producers
from event_registry.domain.access import OPEN
from event_registry.graphql.context import Context
from event_registry.graphql.schema import schema
from event_registry.knative.vocabulary import AUTO_CREATED_DESCRIPTION
from event_registry.store.caching import Cache
from tests.support.knative_fixtures import build_cache

BROKER_OWNER = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Broker",
    "name": "default",
    "uid": "b-uid",
}


def auto_created_raw(description: str = AUTO_CREATED_DESCRIPTION) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {
            "name": "et-default-0123456789abcdef",
            "namespace": "default",
            "resourceVersion": "901",
            "ownerReferences": [BROKER_OWNER],
        },
        "spec": {
            "type": "com.example.seen",
            "source": "https://example.com/seen",
            "reference": {k: v for k, v in BROKER_OWNER.items() if k != "uid"},
            "description": description,
        },
    }


@pytest.fixture(scope="module")
def cache() -> Cache:
    built = build_cache()
    built.apply("EventType", "ADDED", auto_created_raw())
    return built


QUERY = """
query ($namespace: String!, $name: String!) {
  eventType(namespace: $namespace, name: $name) {
    producers { apiVersion kind name namespace }
    autoCreated
  }
}
"""


async def event_type(cache: Cache, name: str) -> Any:
    context = Context(principal=OPEN, snapshot=cache.snapshot, cache=cache)
    variables = {"namespace": "default", "name": name}
    result = await schema.execute(QUERY, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data["eventType"]


async def test_a_source_registered_eventtype_names_the_source_as_producer(cache: Cache) -> None:
    et = await event_type(cache, "dev.knative.source.github.push-34cnb")
    assert et == {
        "producers": [
            {
                "apiVersion": "sources.knative.dev/v1alpha1",
                "kind": "GitHubSource",
                "name": "github-source-sample",
                "namespace": "default",
            }
        ],
        "autoCreated": False,
    }


async def test_a_hand_registered_eventtype_has_no_producer(cache: Cache) -> None:
    et = await event_type(cache, "com.github.pullrequest")
    assert et == {"producers": [], "autoCreated": False}


async def test_an_auto_created_eventtype_is_marked_and_its_broker_is_no_producer(
    cache: Cache,
) -> None:
    et = await event_type(cache, "et-default-0123456789abcdef")
    assert et == {"producers": [], "autoCreated": True}


def test_a_controller_broker_owner_of_an_auto_created_eventtype_is_still_no_producer() -> None:
    raw = auto_created_raw()
    raw["metadata"]["ownerReferences"] = [{**BROKER_OWNER, "controller": True}]
    model = normalizing.event_type(raw)
    assert producers.producers(model) == ()
    assert producers.auto_created(model)
    other = normalizing.event_type(auto_created_raw("a description of my own"))
    assert not producers.auto_created(other)
    assert producers.producers(other) == ()  # a Broker owner without controller: not kept
