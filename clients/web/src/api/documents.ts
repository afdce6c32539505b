// Every operation the dashboard sends. Costs (graphql/cost.py) stay far below the default
// limit of 500,000: the heaviest, EVENT_TYPE, is a few hundred.

const ROW = `namespace name type source brokerName ready reason consumable consumers { name }`;

/** The one subscription behind the EventTypes table: every namespace the caller may read. */
export const EVENT_TYPE_CHANGES = `
subscription Dashboard($includeExisting: Boolean!, $since: String) {
  eventTypeChanges(includeExisting: $includeExisting, since: $since) {
    kind cursor eventType { ${ROW} }
  }
}`;

export const ROW_QUERY = `
query Row($namespace: String!, $name: String!) {
  eventType(namespace: $namespace, name: $name) { ${ROW} }
}`;

export const NAMESPACES = `
query Namespaces {
  namespaces {
    name
    counts { brokers eventTypes readyEventTypes consumableEventTypes triggers }
  }
}`;

const BROKER = `namespace name ready reason message class url`;

export const BROKERS = `
query Brokers {
  brokers { ${BROKER} triggers { name } }
}`;

export const BROKER_CHANGES = `
subscription BrokerChanges {
  brokerChanges { kind cursor broker { ${BROKER} } }
}`;

export const EVENT_TYPE = `
query EventType($namespace: String!, $name: String!) {
  eventType(namespace: $namespace, name: $name) {
    ${ROW}
    description schema createdAt apiVersion message
    labels { key value }
    attributes { name value required }
    conditions { type status reason message lastTransitionTime }
    owner { apiVersion kind name namespace }
    reference { apiVersion kind name namespace }
    broker { name ready reason }
    consumerMatches {
      match
      trigger {
        name ready reason subscriberUri
        subscriber { uri ref { apiVersion kind name namespace } }
        filter { attributes { key value } }
        filters
      }
    }
  }
}`;

export const SUBSCRIBE = `
mutation Subscribe($namespace: String!, $name: String!, $subscriber: SubscriberInput!,
                   $triggerName: String) {
  subscribeToEventType(namespace: $namespace, name: $name, subscriber: $subscriber,
                       triggerName: $triggerName) {
    __typename
    ... on TriggerCreated { created trigger { name namespace } }
    ... on ValidationFailed { message errors { field reason message } }
    ... on AlreadyExists { message }
    ... on NotFound { message }
    ... on Forbidden { message }
    ... on Conflict { message }
    ... on Unavailable { message }
  }
}`;
