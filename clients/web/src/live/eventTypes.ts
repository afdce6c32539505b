// The EventTypes of every readable namespace, kept live by ONE eventTypeChanges subscription.
//
// Guarantees: the first subscription uses includeExisting, so the rows are the registry's
// set at one instant followed by every later change (no gap, no duplicate: rows are keyed
// by namespace/name). After a lost connection it resumes with `since` = the last cursor and
// receives exactly the missed changes. When the server cannot resume (RESYNC_REQUIRED: the
// cursor is older than its history, or from before a restart) or refuses the cursor, it
// re-reads the whole set through a fresh includeExisting subscription; the old rows stay on
// screen (status "resyncing") until the new set is complete, then replace them at once.
import type { EventTypeChange, Row } from "../api/types";
import { EVENT_TYPE_CHANGES } from "../api/documents";
import { backoff, isRefusal, liveClient } from "./client";

export type Status = "connecting" | "live" | "reconnecting" | "resyncing" | "unauthorized";

export function rowKey(row: { namespace: string; name: string }): string {
  return `${row.namespace}/${row.name}`;
}

/** How long a changed row stays highlighted (the CSS animation's length). */
export const HIGHLIGHT_MS = 2500;

export class LiveEventTypes {
  rows = new Map<string, Row>();
  /** When each row last changed live (performance.now()), for the highlight. */
  changedAt = new Map<string, number>();
  status: Status = "connecting";
  /** Bumped on every visible change, so views can memoize on it. */
  version = 0;

  private cursor: string | null = null;
  private incoming: Map<string, Row> | null = null;
  private generation = 0;
  private unsubscribe: (() => void) | null = null;
  private attempts = 0;
  private retry: number | undefined;
  private notifyTimer: number | undefined;
  private listeners = new Set<() => void>();

  start(): void {
    this.subscribe();
  }

  /** Listen to changes, delivered at most once per frame. */
  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Put a row read by a query (e.g. after subscribing, for its consumers count). */
  patch(read: Row): void {
    const key = rowKey(read);
    const current = this.rows.get(key);
    if (!current) return;
    const row: Row = {
      namespace: read.namespace,
      name: read.name,
      type: read.type,
      source: read.source,
      brokerName: read.brokerName,
      ready: read.ready,
      reason: read.reason,
      consumable: read.consumable,
      consumers: read.consumers.map(({ name }) => ({ name })),
    };
    if (JSON.stringify(row) === JSON.stringify(current)) return;
    this.rows.set(key, row);
    this.changed();
  }

  /** Start over (after a new token): a fresh includeExisting subscription. */
  restart(): void {
    this.cursor = null;
    this.setStatus("connecting");
    this.subscribe();
  }

  private subscribe(): void {
    this.stop();
    const generation = ++this.generation;
    const since = this.cursor;
    if (since === null) this.incoming = new Map();
    const variables = since === null ? { includeExisting: true } : { includeExisting: false, since };
    const client = liveClient();
    // A resumed subscription has no marker to wait for: it is live once the socket is.
    const offConnected = client.on("connected", () => {
      if (generation === this.generation && since !== null) this.setStatus("live");
    });
    const unsubscribe = client.subscribe<{ eventTypeChanges: EventTypeChange }>(
      { query: EVENT_TYPE_CHANGES, variables },
      {
        next: (result) => {
          if (generation !== this.generation) return;
          if (result.errors?.length || !result.data) {
            this.resync(); // e.g. a cursor the server refuses: read everything again
            return;
          }
          this.apply(result.data.eventTypeChanges);
        },
        error: (error) => {
          if (generation === this.generation) this.lost(error);
        },
        complete: () => {
          if (generation === this.generation) this.lost(null);
        },
      },
    );
    this.unsubscribe = () => {
      offConnected();
      unsubscribe();
    };
  }

  private stop(): void {
    window.clearTimeout(this.retry);
    this.generation++;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    unsubscribe?.();
  }

  private apply(change: EventTypeChange): void {
    this.attempts = 0;
    const row = change.eventType;
    switch (change.kind) {
      case "EXISTING":
        if (row) this.incoming?.set(rowKey(row), row);
        return;
      case "INITIAL_SET_COMPLETE":
        this.cursor = change.cursor;
        this.replaceAll(this.incoming ?? new Map());
        this.incoming = null;
        this.setStatus("live");
        return;
      case "RESYNC_REQUIRED":
        this.resync();
        return;
      case "ADDED":
      case "UPDATED":
        this.cursor = change.cursor;
        if (row) this.rows.set(rowKey(row), row);
        if (row) this.changedAt.set(rowKey(row), performance.now());
        break;
      case "DELETED":
        this.cursor = change.cursor;
        if (row) this.rows.delete(rowKey(row));
        if (row) this.changedAt.delete(rowKey(row));
        break;
    }
    this.changed();
  }

  /** The new complete set; rows that differ from what was shown are highlighted. */
  private replaceAll(next: Map<string, Row>): void {
    const firstLoad = this.version === 0 && this.rows.size === 0;
    if (!firstLoad) {
      const now = performance.now();
      for (const [key, row] of next) {
        const old = this.rows.get(key);
        if (!old || JSON.stringify(old) !== JSON.stringify(row)) this.changedAt.set(key, now);
      }
    }
    this.rows = next;
    this.changed();
  }

  private resync(): void {
    this.cursor = null;
    this.setStatus("resyncing");
    this.subscribe();
  }

  private lost(error: unknown): void {
    this.stop();
    if (isRefusal(error)) {
      this.setStatus("unauthorized");
      return;
    }
    this.setStatus("reconnecting");
    this.retry = window.setTimeout(() => {
      this.attempts++;
      this.subscribe();
    }, backoff(this.attempts));
  }

  private setStatus(status: Status): void {
    if (this.status === status) return;
    this.status = status;
    this.changed();
  }

  private changed(): void {
    this.version++;
    if (this.notifyTimer !== undefined) return;
    this.notifyTimer = window.setTimeout(() => {
      this.notifyTimer = undefined;
      for (const listener of this.listeners) listener();
    }, 16);
  }
}
