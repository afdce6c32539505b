// The EventTypes view: filters (search, type prefix, Broker, consumable) over the live rows,
// sortable columns, a count, and the virtualized table.
import { useMemo, useState } from "preact/hooks";
import type { LiveEventTypes } from "../live/eventTypes";
import { NO_CRITERIA, visibleRows, type Criteria, type Sort, type SortColumn } from "../rows";
import { EventTypeTable } from "./EventTypeTable";

interface Props {
  store: LiveEventTypes;
  version: number;
  namespace: string | null;
}

export function EventTypesView({ store, version, namespace }: Props) {
  const [criteria, setCriteria] = useState<Omit<Criteria, "namespace">>(NO_CRITERIA);
  const [sort, setSort] = useState<Sort>({ column: "type", descending: false });
  const full = { ...criteria, namespace };
  const rows = useMemo(
    () => visibleRows(store.rows.values(), full, sort),
    // eslint-style: version stands for the store's contents
    [version, criteria, sort, namespace],
  );
  const brokers = useMemo(() => {
    const names = new Set<string>();
    for (const row of store.rows.values()) {
      if (row.brokerName && (namespace === null || row.namespace === namespace)) names.add(row.brokerName);
    }
    return [...names].sort();
  }, [version, namespace]);
  const total = useMemo(() => {
    if (namespace === null) return store.rows.size;
    let count = 0;
    for (const row of store.rows.values()) if (row.namespace === namespace) count++;
    return count;
  }, [version, namespace]);

  const update = (patch: Partial<Criteria>) => setCriteria((c) => ({ ...c, ...patch }));
  const onSort = (column: SortColumn) =>
    setSort((s) => ({ column, descending: s.column === column ? !s.descending : false }));
  const loading = store.status === "connecting" && store.rows.size === 0;

  return (
    <section class="view eventtypes" aria-labelledby="eventtypes-title">
      <div class="view-head">
        <h1 id="eventtypes-title">
          EventTypes{namespace !== null && <span class="scope"> in {namespace}</span>}
        </h1>
        <p class="count" aria-live="polite" data-shown={rows.length} data-total={total}>
          {loading ? "Loading…" : `${rows.length.toLocaleString("en")} of ${total.toLocaleString("en")}`}
        </p>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label class="grow">
          <span>Search</span>
          <input
            type="search"
            name="search"
            placeholder="type, source or name"
            value={criteria.search}
            onInput={(e) => update({ search: e.currentTarget.value })}
          />
        </label>
        <label>
          <span>Type prefix</span>
          <input
            type="text"
            name="typePrefix"
            placeholder="dev.knative."
            value={criteria.typePrefix}
            onInput={(e) => update({ typePrefix: e.currentTarget.value })}
          />
        </label>
        <label>
          <span>Broker</span>
          <select
            name="broker"
            value={criteria.broker ?? ""}
            onChange={(e) => update({ broker: e.currentTarget.value || null })}
          >
            <option value="">Any</option>
            {brokers.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Consumable</span>
          <select
            name="consumable"
            value={criteria.consumable}
            onChange={(e) => update({ consumable: e.currentTarget.value as Criteria["consumable"] })}
          >
            <option value="any">Any</option>
            <option value="yes">Yes</option>
            <option value="no">No</option>
          </select>
        </label>
      </form>
      <EventTypeTable
        rows={rows}
        changedAt={store.changedAt}
        sort={sort}
        onSort={onSort}
        showNamespace={namespace === null}
      />
    </section>
  );
}
