import { useEffect, useMemo, useState } from "preact/hooks";
import { watchBrokers, type BrokerState } from "../live/brokers";
import type { LiveEventTypes } from "../live/eventTypes";
import { ReadyBadge } from "./badges";

export function BrokersView({ store, version }: { store: LiveEventTypes; version: number }) {
  const [brokers, setBrokers] = useState<Map<string, BrokerState> | null>(null);
  useEffect(() => watchBrokers(setBrokers), []);
  const carried = useMemo(() => {
    const counts = new Map<string, number>();
    for (const row of store.rows.values()) {
      if (!row.brokerName) continue;
      const key = `${row.namespace}/${row.brokerName}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }, [version]);
  const list = [...(brokers?.values() ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  return (
    <section class="view brokers" aria-labelledby="brokers-title">
      <div class="view-head">
        <h1 id="brokers-title">Brokers</h1>
        <p class="count">{brokers === null ? "Loading…" : `${list.length}`}</p>
      </div>
      <table class="plain brokers-table">
        <thead>
          <tr>
            <th scope="col">Namespace</th><th scope="col">Name</th><th scope="col">Ready</th>
            <th scope="col">Reason</th><th scope="col">EventTypes</th><th scope="col">Triggers</th>
            <th scope="col" class="wide">Address</th>
          </tr>
        </thead>
        <tbody>
          {list.map((b) => (
            <tr key={b.key} data-broker={b.key} data-ready={String(b.ready)}>
              <td>{b.namespace}</td>
              <td><strong>{b.name}</strong>{b.class && <div class="muted">{b.class}</div>}</td>
              <td><ReadyBadge ready={b.ready} reason={b.reason} /></td>
              <td title={b.message ?? undefined}>{b.reason ?? ""}</td>
              <td>{carried.get(b.key) ?? 0}</td>
              <td>{b.triggerCount}</td>
              <td class="wide"><code>{b.url ?? "—"}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
