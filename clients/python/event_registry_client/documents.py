"""Every GraphQL document the client sends, as text, in one place.

Kept apart from the code that sends them so the schema test
(``tests/clients/test_kreg_documents.py``) can validate each one against the repository's
``schema.graphql``: a renamed field or argument fails that test, not a user's command. Lists
select only what tables show (cheap under the server's query cost limit: a page of 500
EventTypes costs about 6,000); ``describe`` selects the rest for one object.
"""

from __future__ import annotations

EVENT_TYPE_ROW = """
fragment EventTypeRow on EventType {
  namespace name type source schema description brokerName ready reason message consumable
  createdAt apiVersion
  broker { name ready }
  consumers { name }
}
"""

EVENT_TYPE_DETAIL = """
fragment EventTypeDetail on EventType {
  ...EventTypeRow
  labels { key value }
  conditions { type status reason message lastTransitionTime }
  attributes { name value required }
  reference { apiVersion kind name namespace }
  owner { apiVersion kind name namespace }
  producers { apiVersion kind name namespace }
  consumerMatches { match trigger { name } }
}
"""

BROKER_FIELDS = """
fragment BrokerFields on Broker {
  namespace name class url ready reason message createdAt
  labels { key value }
  conditions { type status reason message lastTransitionTime }
}
"""

TRIGGER_FIELDS = """
fragment TriggerFields on Trigger {
  namespace name brokerName subscriberUri ready reason message createdAt filters
  subscriber { uri ref { apiVersion kind name namespace } }
  filter { attributes { key value } }
  conditions { type status reason message lastTransitionTime }
}
"""

FIELD_ERRORS = "... on ValidationFailed { message errors { field reason message } }"
FAILURES = f"""
  {FIELD_ERRORS}
  ... on AlreadyExists {{ message kind namespace name }}
  ... on NotFound {{ message kind namespace missingName: name }}
  ... on Forbidden {{ message namespace }}
  ... on Conflict {{ message }}
  ... on Unavailable {{ message retryAfterSeconds }}
"""
DELETE_FAILURES = """
  ... on NotFound { message kind namespace missingName: name }
  ... on Forbidden { message namespace }
  ... on Conflict { message }
  ... on Unavailable { message retryAfterSeconds }
"""

NAMESPACES = """
query Namespaces {
  namespaces {
    name phase
    counts { brokers eventTypes readyEventTypes consumableEventTypes triggers }
  }
}
"""

EVENT_TYPES = (
    """
query EventTypes($namespace: String, $filter: EventTypeFilter, $first: Int, $after: String) {
  eventTypes(namespace: $namespace, filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ...EventTypeRow }
  }
}
"""
    + EVENT_TYPE_ROW
)

EVENT_TYPE = (
    """
query EventType($namespace: String!, $name: String!) {
  eventType(namespace: $namespace, name: $name) { ...EventTypeDetail }
}
"""
    + EVENT_TYPE_DETAIL
    + EVENT_TYPE_ROW
)

BROKERS = (
    """
query Brokers($namespace: String) { brokers(namespace: $namespace) { ...BrokerFields } }
"""
    + BROKER_FIELDS
)

BROKER = (
    """
query Broker($namespace: String!, $name: String!) {
  broker(namespace: $namespace, name: $name) { ...BrokerFields }
}
"""
    + BROKER_FIELDS
)

TRIGGERS = (
    """
query Triggers($namespace: String, $broker: String) {
  triggers(namespace: $namespace, broker: $broker) { ...TriggerFields }
}
"""
    + TRIGGER_FIELDS
)

REGISTER_EVENT_TYPE = (
    f"""
mutation RegisterEventType($input: RegisterEventTypeInput!) {{
  result: registerEventType(input: $input) {{
    __typename
    ... on EventTypeRegistered {{ brokerExists warnings eventType {{ ...EventTypeRow }} }}
    {FAILURES}
  }}
}}
"""
    + EVENT_TYPE_ROW
)

SUBSCRIBE_TO_EVENT_TYPE = (
    f"""
mutation SubscribeToEventType(
  $namespace: String!, $name: String!, $subscriber: SubscriberInput!, $triggerName: String
) {{
  result: subscribeToEventType(
    namespace: $namespace, name: $name, subscriber: $subscriber, triggerName: $triggerName
  ) {{
    __typename
    ... on TriggerCreated {{ created trigger {{ ...TriggerFields }} }}
    {FAILURES}
  }}
}}
"""
    + TRIGGER_FIELDS
)

CREATE_TRIGGER = (
    f"""
mutation CreateTrigger($input: CreateTriggerInput!) {{
  result: createTrigger(input: $input) {{
    __typename
    ... on TriggerCreated {{ created trigger {{ ...TriggerFields }} }}
    {FAILURES}
  }}
}}
"""
    + TRIGGER_FIELDS
)

CREATE_BROKER = (
    f"""
mutation CreateBroker($input: CreateBrokerInput!) {{
  result: createBroker(input: $input) {{
    __typename
    ... on BrokerCreated {{ broker {{ ...BrokerFields }} }}
    {FAILURES}
  }}
}}
"""
    + BROKER_FIELDS
)


def _delete(mutation: str, operation: str) -> str:
    return f"""
mutation {operation}($namespace: String!, $name: String!) {{
  result: {mutation}(namespace: $namespace, name: $name) {{
    __typename
    ... on Deleted {{ kind namespace name }}
    {DELETE_FAILURES}
  }}
}}
"""


DELETE_EVENT_TYPE = _delete("deleteEventType", "DeleteEventType")
DELETE_TRIGGER = _delete("deleteTrigger", "DeleteTrigger")
DELETE_BROKER = _delete("deleteBroker", "DeleteBroker")

EVENT_TYPE_CHANGES = (
    """
subscription EventTypeChanges(
  $namespace: String, $filter: EventTypeFilter, $includeExisting: Boolean!, $since: String
) {
  eventTypeChanges(
    namespace: $namespace, filter: $filter, includeExisting: $includeExisting, since: $since
  ) {
    kind cursor message filterTransition
    eventType { ...EventTypeRow }
  }
}
"""
    + EVENT_TYPE_ROW
)

READINESS_CHANGES = (
    """
subscription ReadinessChanges($namespace: String, $filter: EventTypeFilter) {
  eventTypeReadinessChanged(namespace: $namespace, filter: $filter) {
    kind cursor previousReady ready previousConsumable consumable reason cause filterTransition
    eventType { ...EventTypeRow }
  }
}
"""
    + EVENT_TYPE_ROW
)

BROKER_CHANGES = (
    """
subscription BrokerChanges($namespace: String) {
  brokerChanges(namespace: $namespace) { kind cursor message broker { ...BrokerFields } }
}
"""
    + BROKER_FIELDS
)

ALL: dict[str, str] = {
    name: value
    for name, value in dict(globals()).items()
    if name.isupper()
    and isinstance(value, str)
    and value.lstrip().startswith(("query", "mutation", "subscription"))
}
"""Every operation above by its constant's name (for the schema test)."""
