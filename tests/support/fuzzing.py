"""Operations generated from ``schema.graphql`` to fuzz a running registry over HTTP.

One generator for the e2e fuzz test and ``bench/fuzz.py``: hypothesis-graphql builds queries
and mutations of the subgraph SDL (every root field, arguments as inline literals), with our
own strategies for the scalars where random values would never reach the interesting paths:

- ``String``: mostly the names of the seeded objects (:func:`seed`), Knative-looking values
  and edge cases (empty, too long, invalid DNS names, control characters), else random text;
- ``ID``: node IDs of seeded, hidden and missing objects, of unknown kinds, and junk;
- ``JSON`` (Trigger ``filters``, ``delivery``): SubscriptionsAPI-shaped filters and arbitrary
  nested JSON;
- ``_Any`` (``_entities`` representations): objects with a random ``__typename`` among our
  entities and junk, with complete, partial or ill-typed key fields and extra fields, and
  non-objects.

:func:`fuzz` runs a number of generated operations against a URL and tallies the answers
(:class:`Tally`): an answer is *internal* if it contains the masked "Unexpected error", a
*server error* if its status is 5xx; anything else is counted by its first error message's
prefix. Mutations may create and delete seeded objects; nothing here depends on them staying.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql
import hypothesis_graphql
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from event_registry.graphql import ids
from tests.support.controlplane import REPO
from tests.support.registry import (
    RegistryProcess,
    Reply,
    auth_headers,
    eventually,
    http,
    write_tokens,
)

SCHEMA_FILE = REPO / "schema.graphql"
INTERNAL_ERROR = "Unexpected error"

NAMESPACE = "fuzz"
HIDDEN = "hidden"
"""A namespace with objects that a scoped token may not read (tokens mode)."""
ABSENT = "absent"
"""A namespace that does not exist; as long as :data:`HIDDEN`, so answers can be compared."""
BROKER = "default"
EVENT_TYPES = ("order-created", "order-paid")
TRIGGER = "order-watcher"
TYPE = "com.example.order.created"
SOURCE = "https://shop.example.com/orders"
SUBSCRIBER = "http://consumer.fuzz.svc.cluster.local"

NAMES = (NAMESPACE, HIDDEN, ABSENT, "default", BROKER, *EVENT_TYPES, TRIGGER)
KNATIVE_VALUES = (
    TYPE,
    SOURCE,
    SUBSCRIBER,
    "eventing.knative.dev/v1",
    "Broker",
    "MTChannelBasedBroker",
    "type",
    "source",
    "com.example",
    "ce-",
)
EDGE_STRINGS = (
    "",
    " ",
    "-",
    ".",
    "..",
    "a/b",
    "Orders_Created",
    "a" * 63,
    "a" * 64,
    "a" * 254,
    "x" * 2000,
    "\x00",
    "\n",
    "é",
    "💥",
    "${x}",
    "' OR 1=1 --",
    "http://",
    "://no-scheme",
    "12345",
)
ENTITY_TYPES = ("Namespace", "Broker", "EventType", "Trigger")
KEY_FIELDS = ("namespace", "name")
FILTER_DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")

Json = dict[str, Any]


# scalar values -------------------------------------------------------------------------------


def value_node(value: object) -> graphql.ValueNode:
    """The GraphQL literal of a JSON value."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, float):
        return graphql.FloatValueNode(value=repr(value))
    if isinstance(value, str):
        return graphql.StringValueNode(value=value)
    if isinstance(value, list | tuple):
        return graphql.ListValueNode(values=tuple(value_node(item) for item in value))
    if isinstance(value, Mapping):
        return graphql.ObjectValueNode(
            fields=tuple(
                graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=value_node(item))
                for key, item in value.items()
            )
        )
    raise TypeError(f"not a JSON value: {value!r}")


def strings() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NAMES),
        st.sampled_from(KNATIVE_VALUES + EDGE_STRINGS),
        st.sampled_from(NAMES).map(lambda name: ids.encode_cursor(NAMESPACE, name)),
        st.text(max_size=30),
    )


def node_ids() -> st.SearchStrategy[str]:
    kinds = st.sampled_from((*ENTITY_TYPES, "Label", ""))
    names = st.sampled_from(NAMES) | st.text(max_size=10)
    encoded = st.builds(ids.encode, kinds, names, names)
    return encoded | strings()


def field_names() -> st.SearchStrategy[str]:
    """Keys of JSON objects: GraphQL names, as they are written in a literal."""
    return st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=8)


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        strings(),
    )
    keys = st.sampled_from((*FILTER_DIALECTS, "type", "source", "retry")) | field_names()
    arbitrary = st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3)
        ),
        max_leaves=10,
    )
    attributes = st.dictionaries(
        st.sampled_from(("type", "source", "subject")) | field_names(),
        strings() | scalars,
        max_size=2,
    )
    dialect = st.builds(
        lambda name, value: {name: value}, st.sampled_from(FILTER_DIALECTS), attributes | arbitrary
    )
    return st.lists(dialect, max_size=3) | arbitrary


def representations() -> st.SearchStrategy[Any]:
    """``_entities`` representations: mostly well formed (an entity type, string keys), else
    with missing, ill-typed or extra fields, an unknown ``__typename``, or not objects."""
    well_formed = st.builds(
        lambda type_name, namespace, name: {
            "__typename": type_name,
            "namespace": namespace,
            "name": name,
        },
        st.sampled_from(ENTITY_TYPES),
        strings(),
        strings(),
    )
    key_values: st.SearchStrategy[Any] = strings() | st.sampled_from(
        (None, 0, 1.5, True, [], {}, ["default"])
    )
    type_names = st.sampled_from((*ENTITY_TYPES, "Label", "Query", "", None, 1)) | st.text(
        max_size=10
    )
    keyed = st.fixed_dictionaries(
        {}, optional={"__typename": type_names, "namespace": key_values, "name": key_values}
    )
    extra = st.dictionaries(field_names(), json_values(), max_size=2)
    malformed = st.builds(lambda key, more: {**more, **key}, keyed, extra)
    return st.one_of(well_formed, well_formed, well_formed, malformed, json_values())


CUSTOM_SCALARS: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    "String": strings,
    "ID": node_ids,
    "JSON": json_values,
    "_Any": representations,
}


# operations ----------------------------------------------------------------------------------


def sdl_schema() -> graphql.GraphQLSchema:
    """schema.graphql as graphql-core reads it (federation directives are not defined there)."""
    return graphql.build_ast_schema(graphql.parse(SCHEMA_FILE.read_text()), assume_valid_sdl=True)


def operations(*, mutations: bool = True) -> st.SearchStrategy[str]:
    """Queries and (unless ``mutations=False``) mutations of the subgraph, as documents."""
    generate = hypothesis_graphql.from_schema if mutations else hypothesis_graphql.queries
    return generate(
        sdl_schema(),
        custom_scalars={name: make().map(value_node) for name, make in CUSTOM_SCALARS.items()},
    )


# the registry under fuzz ---------------------------------------------------------------------


SEED = """
mutation Seed($broker: CreateBrokerInput!, $created: RegisterEventTypeInput!,
              $paid: RegisterEventTypeInput!, $trigger: CreateTriggerInput!) {
  broker: createBroker(input: $broker) { __typename }
  created: registerEventType(input: $created) { __typename }
  paid: registerEventType(input: $paid) { __typename }
  trigger: createTrigger(input: $trigger) { __typename }
}
"""


SEEDER = "seeder-token-0123"
"""Tokens mode: may write both seeded namespaces."""
FUZZER = "fuzzer-token-0123"
"""Tokens mode: may write :data:`NAMESPACE` and not even see :data:`HIDDEN`."""


def write_tokens_file(path: Path) -> Path:
    """A ``--tokens-file`` with :data:`SEEDER` and :data:`FUZZER`."""
    return write_tokens(
        path,
        [
            {"token": SEEDER, "namespaces": {NAMESPACE: ["write"], HIDDEN: ["write"]}},
            {"token": FUZZER, "namespaces": {NAMESPACE: ["write"]}},
        ],
    )


READINESS = "{ namespaces { brokers { ready } eventTypes { ready } triggers { ready } } }"
SETTLE_WITHIN = 30.0
"""Seconds the readiness controller gets to make the seeded objects Ready."""


def seed(registry: RegistryProcess, *, token: str | None = None) -> None:
    """Namespaces :data:`NAMESPACE` and :data:`HIDDEN`, each with a Broker, two EventTypes and
    a Trigger created through mutations (``token`` must be able to write both)."""
    for namespace in (NAMESPACE, HIDDEN):
        registry.kubectl("create", "namespace", namespace, check=True)
    for namespace in (NAMESPACE, HIDDEN):
        variables = {
            "broker": {"namespace": namespace, "name": BROKER},
            "created": {
                "namespace": namespace,
                "name": EVENT_TYPES[0],
                "type": TYPE,
                "source": SOURCE,
                "broker": BROKER,
            },
            "paid": {
                "namespace": namespace,
                "name": EVENT_TYPES[1],
                "type": "com.example.order.paid",
                "broker": BROKER,
            },
            "trigger": {
                "namespace": namespace,
                "name": TRIGGER,
                "broker": BROKER,
                "subscriber": {"uri": SUBSCRIBER},
                "filters": [{"exact": {"type": TYPE}}],
            },
        }
        reply = send(registry.url, SEED, variables, token=token)
        created = reply.json()["data"]
        expected = {
            "broker": "BrokerCreated",
            "created": "EventTypeRegistered",
            "paid": "EventTypeRegistered",
            "trigger": "TriggerCreated",
        }
        assert {key: value["__typename"] for key, value in created.items()} == expected, created
    # The readiness controller settles them once; answers about them change no more after.
    eventually(lambda: _all_ready(registry.url, token), timeout=SETTLE_WITHIN)


def _all_ready(url: str, token: str | None) -> bool:
    reply = send(url, READINESS, token=token).json()
    ready = [
        item["ready"]
        for namespace in reply["data"]["namespaces"]
        for field in ("brokers", "eventTypes", "triggers")
        for item in namespace[field]
    ]
    return len(ready) == 8 and all(ready)


def send(
    url: str, operation: str, variables: Json | None = None, *, token: str | None = None
) -> Reply:
    payload: Json = {"query": operation}
    if variables is not None:
        payload["variables"] = variables
    headers = {"content-type": "application/json", **auth_headers(token)}
    return http("POST", url, body=json.dumps(payload).encode(), headers=headers)


# running -------------------------------------------------------------------------------------


_PREFIX_END = re.compile(r"['\"\d(]")


def prefix(message: str) -> str:
    """A message's stable beginning: up to its first quoted or numeric part, 60 at most."""
    return _PREFIX_END.split(message, maxsplit=1)[0].strip()[:60] or message[:60]


@dataclass
class Tally:
    operations: int = 0
    internal_errors: int = 0
    server_errors: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    """Other answers with errors, by first error message prefix (or HTTP status)."""
    samples: list[tuple[str, int, str]] = field(default_factory=list)
    """The first few internal or server errors: (operation, status, body)."""

    def record(self, operation: str, reply: Reply) -> str | None:
        """Count the answer; a description of it if it is an internal or server error."""
        self.operations += 1
        failure = None
        if reply.status >= 500:
            self.server_errors += 1
            failure = f"HTTP {reply.status}"
        elif INTERNAL_ERROR in reply.text:
            self.internal_errors += 1
            failure = INTERNAL_ERROR
        else:
            self._count_errors(reply)
        if failure and len(self.samples) < 10:
            self.samples.append((operation, reply.status, reply.text[:2000]))
        return failure

    def _count_errors(self, reply: Reply) -> None:
        try:
            body = reply.json()
        except ValueError:
            self.errors[f"HTTP {reply.status} (not JSON)"] += 1
            return
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            self.errors[prefix(str(errors[0].get("message", "")))] += 1
        elif reply.status != 200:
            self.errors[f"HTTP {reply.status}"] += 1

    def summary(self) -> str:
        lines = [
            f"operations: {self.operations}",
            f"internal errors: {self.internal_errors}",
            f"5xx: {self.server_errors}",
            f"other errors: {sum(self.errors.values())}",
            "other errors by message prefix:",
            *(f"  {count:6d}  {message}" for message, count in self.errors.most_common()),
        ]
        return "\n".join(lines)


def fuzz(
    url: str,
    *,
    examples: int,
    stop_at_failure: bool,
    token: str | None = None,
    mutations: bool = True,
    progress: Callable[[Tally], None] | None = None,
) -> Tally:
    """Send ``examples`` generated operations to ``url`` (derandomized: the same ones each run).

    With ``stop_at_failure`` the first internal or server error fails (hypothesis then shrinks
    it to a smaller operation and raises); without, every answer is tallied.
    """
    tally = Tally()

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate, Phase.shrink] if stop_at_failure else [Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(operation=operations(mutations=mutations))
    def run(operation: str) -> None:
        reply = send(url, operation, token=token)
        failure = tally.record(operation, reply)
        if progress is not None:
            progress(tally)
        if stop_at_failure:
            assert failure is None, (
                f"{failure} for\n{operation}\n→ {reply.status} {reply.text[:2000]}"
            )

    run()
    return tally
