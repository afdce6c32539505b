// Filtering and sorting of the EventTypes table: pure functions of the rows and the criteria.
import type { Row } from "./api/types";

export interface Criteria {
  namespace: string | null;
  search: string;
  typePrefix: string;
  broker: string | null;
  consumable: "any" | "yes" | "no";
}

export type SortColumn = "type" | "source" | "broker" | "ready" | "consumable" | "consumers";

export interface Sort {
  column: SortColumn;
  descending: boolean;
}

export const NO_CRITERIA: Criteria = {
  namespace: null,
  search: "",
  typePrefix: "",
  broker: null,
  consumable: "any",
};

export function matches(row: Row, criteria: Criteria, needle: string): boolean {
  if (criteria.namespace !== null && row.namespace !== criteria.namespace) return false;
  if (criteria.broker !== null && row.brokerName !== criteria.broker) return false;
  if (criteria.consumable !== "any" && row.consumable !== (criteria.consumable === "yes")) {
    return false;
  }
  if (criteria.typePrefix && !row.type.startsWith(criteria.typePrefix)) return false;
  if (!needle) return true;
  return (
    row.type.toLowerCase().includes(needle) ||
    row.name.toLowerCase().includes(needle) ||
    (row.source ?? "").toLowerCase().includes(needle)
  );
}

const ORDER_OF_READY = (ready: boolean | null): number => (ready === true ? 0 : ready === null ? 1 : 2);

function compare(a: Row, b: Row, column: SortColumn): number {
  switch (column) {
    case "type":
      return a.type.localeCompare(b.type);
    case "source":
      return (a.source ?? "").localeCompare(b.source ?? "");
    case "broker":
      return (a.brokerName ?? "").localeCompare(b.brokerName ?? "");
    case "ready":
      return ORDER_OF_READY(a.ready) - ORDER_OF_READY(b.ready);
    case "consumable":
      return Number(b.consumable) - Number(a.consumable);
    case "consumers":
      return b.consumers.length - a.consumers.length;
  }
}

/** The rows meeting every criterion, sorted; ties by namespace then name (a stable order). */
export function visibleRows(rows: Iterable<Row>, criteria: Criteria, sort: Sort): Row[] {
  const needle = criteria.search.trim().toLowerCase();
  const kept: Row[] = [];
  for (const row of rows) if (matches(row, criteria, needle)) kept.push(row);
  const direction = sort.descending ? -1 : 1;
  kept.sort(
    (a, b) =>
      direction * compare(a, b, sort.column) ||
      a.namespace.localeCompare(b.namespace) ||
      a.name.localeCompare(b.name),
  );
  return kept;
}

export interface NamespaceTally {
  name: string;
  eventTypes: number;
  ready: number;
  consumable: number;
}

/** Live counts per namespace, from the rows themselves. */
export function tally(rows: Iterable<Row>): Map<string, NamespaceTally> {
  const counts = new Map<string, NamespaceTally>();
  for (const row of rows) {
    let entry = counts.get(row.namespace);
    if (!entry) {
      entry = { name: row.namespace, eventTypes: 0, ready: 0, consumable: 0 };
      counts.set(row.namespace, entry);
    }
    entry.eventTypes++;
    if (row.ready === true) entry.ready++;
    if (row.consumable) entry.consumable++;
  }
  return counts;
}
