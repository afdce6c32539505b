// Brokers and their readiness: a query, kept current by a brokerChanges subscription on the
// shared socket (upserts are idempotent, so an event that the query already reflects changes
// nothing). A lost connection or RESYNC_REQUIRED re-reads the list after resubscribing.
import { BROKER_CHANGES, BROKERS } from "../api/documents";
import { request } from "../api/http";
import type { Broker, BrokerChange } from "../api/types";
import { backoff, isRefusal, liveClient } from "./client";

interface Queried extends Omit<Broker, "eventTypeCount" | "triggerCount"> {
  triggers: { name: string }[];
}

export type BrokerState = Omit<Broker, "eventTypeCount"> & { key: string };

export function watchBrokers(onChange: (brokers: Map<string, BrokerState>) => void): () => void {
  let brokers = new Map<string, BrokerState>();
  let stopped = false;
  let unsubscribe: (() => void) | null = null;
  let attempts = 0;
  let retry: number | undefined;
  let generation = 0;

  const keyOf = (b: { namespace: string; name: string }) => `${b.namespace}/${b.name}`;
  const publish = () => onChange(new Map(brokers));

  async function load(): Promise<void> {
    const data = await request<{ brokers: Queried[] }>(BROKERS);
    brokers = new Map(
      data.brokers.map(({ triggers, ...broker }) => [
        keyOf(broker),
        { ...broker, key: keyOf(broker), triggerCount: triggers.length },
      ]),
    );
    publish();
  }

  function start(): void {
    const current = ++generation; // unsubscribing completes the old sink: ignore it
    unsubscribe?.();
    unsubscribe = liveClient().subscribe<{ brokerChanges: BrokerChange }>(
      { query: BROKER_CHANGES },
      {
        next: ({ data }) => {
          if (current !== generation) return;
          attempts = 0;
          const change = data?.brokerChanges;
          if (!change) return;
          if (change.kind === "RESYNC_REQUIRED") {
            void load().catch(() => undefined);
            return;
          }
          const broker = change.broker;
          if (!broker) return;
          const key = keyOf(broker);
          if (change.kind === "DELETED") brokers.delete(key);
          else brokers.set(key, { ...broker, key, triggerCount: brokers.get(key)?.triggerCount ?? 0 });
          publish();
        },
        error: (error) => current === generation && lost(error),
        complete: () => current === generation && lost(null),
      },
    );
    void load().catch(() => undefined);
  }

  function lost(error: unknown): void {
    if (stopped || isRefusal(error)) return;
    retry = window.setTimeout(() => {
      attempts++;
      start();
    }, backoff(attempts));
  }

  start();
  return () => {
    stopped = true;
    generation++;
    window.clearTimeout(retry);
    unsubscribe?.();
  };
}
