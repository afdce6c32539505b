// The shapes of the registry's answers that the dashboard reads (see schema.graphql).

export interface Row {
  namespace: string;
  name: string;
  type: string;
  source: string | null;
  brokerName: string | null;
  ready: boolean | null;
  reason: string | null;
  consumable: boolean;
  consumers: { name: string }[];
}

export type ChangeKind =
  | "EXISTING"
  | "INITIAL_SET_COMPLETE"
  | "ADDED"
  | "UPDATED"
  | "DELETED"
  | "RESYNC_REQUIRED";

export interface EventTypeChange {
  kind: ChangeKind;
  cursor: string;
  eventType: Row | null;
}

export interface Condition {
  type: string;
  status: string;
  reason: string | null;
  message: string | null;
  lastTransitionTime: string | null;
}

export interface Reference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | null;
}

export interface Broker {
  namespace: string;
  name: string;
  ready: boolean | null;
  reason: string | null;
  message: string | null;
  class: string | null;
  url: string | null;
  eventTypeCount: number;
  triggerCount: number;
}

export interface BrokerChange {
  kind: ChangeKind;
  cursor: string;
  broker: Omit<Broker, "eventTypeCount" | "triggerCount"> | null;
}

export interface Trigger {
  name: string;
  ready: boolean | null;
  reason: string | null;
  subscriberUri: string | null;
  subscriber: { uri: string | null; ref: Reference | null };
  filter: { attributes: { key: string; value: string }[] } | null;
  filters: unknown;
}

export interface EventTypeDetail extends Row {
  description: string | null;
  schema: string | null;
  createdAt: string;
  apiVersion: string;
  message: string | null;
  labels: { key: string; value: string }[];
  attributes: { name: string; value: string | null; required: boolean }[];
  conditions: Condition[];
  owner: Reference | null;
  reference: Reference | null;
  broker: { name: string; ready: boolean | null; reason: string | null } | null;
  consumerMatches: { match: "YES" | "UNKNOWN"; trigger: Trigger }[];
}

export interface NamespaceCounts {
  name: string;
  counts: {
    brokers: number;
    eventTypes: number;
    readyEventTypes: number;
    consumableEventTypes: number;
    triggers: number;
  };
}

export interface FieldError {
  field: string;
  reason: string;
  message: string;
}

export type SubscribeResult =
  | { __typename: "TriggerCreated"; created: boolean; trigger: { name: string; namespace: string } }
  | { __typename: "ValidationFailed"; message: string; errors: FieldError[] }
  | {
      __typename: "AlreadyExists" | "NotFound" | "Forbidden" | "Conflict" | "Unavailable";
      message: string;
    };
