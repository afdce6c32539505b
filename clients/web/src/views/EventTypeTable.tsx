// The EventTypes table, virtualized: only the rows in view (and a few around them) are in the
// DOM, at fixed heights, so 5,000 rows scroll and filter as fast as 50. Keyboard: Tab reaches
// the header's sort buttons and the rows' links; ArrowUp/ArrowDown/Home/End/PageUp/PageDown
// move between rows; Enter opens one.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Row } from "../api/types";
import { useMedia } from "../hooks";
import { HIGHLIGHT_MS, rowKey } from "../live/eventTypes";
import { href } from "../route";
import type { Sort, SortColumn } from "../rows";
import { ReadyBadge, YesNo } from "./badges";

const COLUMNS: { column: SortColumn; label: string }[] = [
  { column: "type", label: "Type" },
  { column: "source", label: "Source" },
  { column: "broker", label: "Broker" },
  { column: "ready", label: "Ready" },
  { column: "consumable", label: "Consumable" },
  { column: "consumers", label: "Consumers" },
];
const OVERSCAN = 8;

interface Props {
  rows: Row[];
  changedAt: Map<string, number>;
  sort: Sort;
  onSort: (column: SortColumn) => void;
  showNamespace: boolean;
}

export function EventTypeTable({ rows, changedAt, sort, onSort, showNamespace }: Props) {
  const narrow = useMedia("(max-width: 720px)");
  const rowHeight = narrow ? 64 : 44;
  const body = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [focusIndex, setFocusIndex] = useState<number | null>(null);

  useLayoutEffect(() => {
    const element = body.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  const now = performance.now();

  useEffect(() => {
    if (focusIndex === null) return;
    const link = body.current?.querySelector<HTMLAnchorElement>(`[data-index="${focusIndex}"] a`);
    link?.focus({ preventScroll: true });
  }, [focusIndex, first, last]);

  function moveTo(index: number): void {
    const element = body.current;
    if (!element || rows.length === 0) return;
    const target = Math.max(0, Math.min(rows.length - 1, index));
    const top = target * rowHeight;
    if (top < element.scrollTop) element.scrollTop = top;
    else if (top + rowHeight > element.scrollTop + element.clientHeight) {
      element.scrollTop = top + rowHeight - element.clientHeight;
    }
    setScrollTop(element.scrollTop);
    setFocusIndex(target);
  }

  function onKeyDown(event: KeyboardEvent): void {
    const current = focusIndex ?? -1;
    const page = Math.max(1, Math.floor(height / rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: current + 1,
      ArrowUp: current - 1,
      PageDown: current + page,
      PageUp: current - page,
      Home: 0,
      End: rows.length - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    moveTo(target);
  }

  return (
    <div class="table" role="table" aria-label="EventTypes" aria-rowcount={rows.length + 1}>
      <div class="row header" role="row" aria-rowindex={1}>
        {COLUMNS.map(({ column, label }) => (
          <div
            key={column}
            class={`cell ${column}`}
            role="columnheader"
            aria-sort={sort.column === column ? (sort.descending ? "descending" : "ascending") : "none"}
          >
            <button type="button" class="sort" onClick={() => onSort(column)} data-sort={column}>
              {label}
              <span aria-hidden="true" class="arrow">
                {sort.column === column ? (sort.descending ? "▼" : "▲") : ""}
              </span>
            </button>
          </div>
        ))}
      </div>
      <div
        class="body"
        ref={body}
        role="rowgroup"
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        onKeyDown={onKeyDown}
      >
        {rows.length === 0 && <p class="empty">No EventType matches.</p>}
        <div class="spacer" style={{ height: `${rows.length * rowHeight}px` }}>
          {rows.slice(first, last).map((row, offset) => {
            const index = first + offset;
            const key = rowKey(row);
            const changed = changedAt.get(key);
            const flashing = changed !== undefined && now - changed < HIGHLIGHT_MS;
            return (
              <div
                key={flashing ? `${key}@${changed}` : key}
                class={`row${flashing ? " flash" : ""}`}
                role="row"
                aria-rowindex={index + 2}
                data-index={index}
                data-key={key}
                data-ready={String(row.ready)}
                data-consumable={String(row.consumable)}
                style={{ transform: `translateY(${index * rowHeight}px)`, height: `${rowHeight}px` }}
              >
                <div class="cell type" role="cell">
                  <a
                    href={href({ view: "eventType", namespace: row.namespace, name: row.name })}
                    onFocus={() => setFocusIndex(index)}
                    title={`${row.namespace}/${row.name}`}
                  >
                    {row.type}
                  </a>
                  {showNamespace && <span class="namespace">{row.namespace}</span>}
                </div>
                <div class="cell source" role="cell" title={row.source ?? undefined}>
                  {row.source ?? <span class="none">—</span>}
                </div>
                <div class="cell broker" role="cell">
                  {row.brokerName ?? <span class="none">—</span>}
                </div>
                <div class="cell ready" role="cell">
                  <ReadyBadge ready={row.ready} reason={row.reason} />
                </div>
                <div class="cell consumable" role="cell">
                  <YesNo value={row.consumable} />
                </div>
                <div class="cell consumers" role="cell">
                  {row.consumers.length}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
