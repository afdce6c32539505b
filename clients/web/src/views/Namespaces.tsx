// Namespaces with their counts: EventTypes, ready and consumable ones live from the rows;
// Brokers and Triggers from a query refreshed (at most once a second) while rows change.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { NAMESPACES } from "../api/documents";
import { request } from "../api/http";
import type { NamespaceCounts } from "../api/types";
import type { LiveEventTypes } from "../live/eventTypes";
import { href } from "../route";
import { tally } from "../rows";

interface Props {
  store: LiveEventTypes;
  version: number;
  selected: string | null;
  refreshKey: number;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function Namespaces({ store, version, selected, refreshKey }: Props) {
  const [queried, setQueried] = useState<NamespaceCounts[]>([]);
  const counts = useMemo(() => tally(store.rows.values()), [version]);

  const pending = useRef<number | undefined>(undefined);
  const fetched = useRef(false);
  useEffect(() => {
    if (pending.current !== undefined) return; // throttled: one query per second at most
    pending.current = window.setTimeout(
      () => {
        pending.current = undefined;
        fetched.current = true;
        request<{ namespaces: NamespaceCounts[] }>(NAMESPACES)
          .then((data) => setQueried(data.namespaces))
          .catch(() => undefined);
      },
      fetched.current ? 1000 : 0,
    );
  }, [version, refreshKey]);
  useEffect(() => () => window.clearTimeout(pending.current), []);

  const names = new Set([...queried.map((n) => n.name), ...counts.keys()]);
  const sorted = [...names].sort();
  const byName = new Map(queried.map((n) => [n.name, n.counts]));
  return (
    <nav class="namespaces" aria-label="Namespaces">
      <h2>Namespaces</h2>
      <ul>
        <li>
          <a href={href({ view: "eventTypes", namespace: null })} aria-current={selected === null ? "page" : undefined}>
            <span class="name">All namespaces</span>
            <span class="tally">{store.rows.size.toLocaleString("en")}</span>
          </a>
        </li>
        {sorted.map((name) => {
          const live = counts.get(name);
          const other = byName.get(name);
          return (
            <li key={name} data-namespace={name}>
              <a href={href({ view: "eventTypes", namespace: name })} aria-current={selected === name ? "page" : undefined}>
                <span class="name">{name}</span>
                <span class="tally" title="EventTypes">
                  {(live?.eventTypes ?? 0).toLocaleString("en")}
                </span>
                <span class="detail">
                  {plural(live?.consumable ?? 0, "consumable", "consumable")} ·{" "}
                  {plural(other?.brokers ?? 0, "Broker", "Brokers")} · {plural(other?.triggers ?? 0, "Trigger", "Triggers")}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
