// One EventType: v1beta3 attributes, schema link, description, conditions with reasons,
// consumers with their filters, the owning source, and the Subscribe form. Re-read whenever
// its live row changes.
import { useEffect, useState } from "preact/hooks";
import { EVENT_TYPE } from "../api/documents";
import { request } from "../api/http";
import type { EventTypeDetail, Reference } from "../api/types";
import { rowKey, type LiveEventTypes } from "../live/eventTypes";
import { href } from "../route";
import { ReadyBadge, YesNo } from "./badges";
import { SubscribeForm } from "./SubscribeForm";

interface Props {
  store: LiveEventTypes;
  namespace: string;
  name: string;
}

function reference(ref: Reference | null) {
  if (!ref) return <span class="none">—</span>;
  return (
    <code>
      {ref.kind} {ref.namespace ? `${ref.namespace}/` : ""}
      {ref.name} <span class="muted">({ref.apiVersion})</span>
    </code>
  );
}

function filterText(trigger: EventTypeDetail["consumerMatches"][number]["trigger"]): string {
  const parts: string[] = [];
  for (const { key, value } of trigger.filter?.attributes ?? []) parts.push(`${key} = ${value}`);
  if (trigger.filters && (!Array.isArray(trigger.filters) || trigger.filters.length > 0)) {
    parts.push(JSON.stringify(trigger.filters));
  }
  return parts.length ? parts.join(", ") : "all events";
}

export function EventTypeView({ store, namespace, name }: Props) {
  const [detail, setDetail] = useState<EventTypeDetail | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const row = store.rows.get(rowKey({ namespace, name }));

  useEffect(() => {
    let current = true;
    request<{ eventType: EventTypeDetail | null }>(EVENT_TYPE, { namespace, name })
      .then((data) => {
        if (!current) return;
        setDetail(data.eventType);
        setError(null);
        if (data.eventType) store.patch(data.eventType);
      })
      .catch((e: unknown) => current && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      current = false;
    };
  }, [namespace, name, row, reload]);

  const back = <a class="back" href={href({ view: "eventTypes", namespace })}>← EventTypes in {namespace}</a>;
  if (error) return <section class="view detail">{back}<p class="form-error" role="alert">{error}</p></section>;
  if (detail === undefined) return <section class="view detail">{back}<p>Loading…</p></section>;
  if (detail === null) {
    return (
      <section class="view detail">
        {back}
        <h1>EventType {namespace}/{name} not found</h1>
        <p>It may have been deleted.</p>
      </section>
    );
  }
  return (
    <section class="view detail" aria-labelledby="detail-title">
      {back}
      <header class="detail-head">
        <h1 id="detail-title">{detail.type}</h1>
        <p class="muted">
          {detail.namespace}/{detail.name} · read as {detail.apiVersion}
        </p>
        <p class="badges">
          <ReadyBadge ready={detail.ready} reason={detail.reason} />
          <YesNo value={detail.consumable} yes="Consumable" no="Not consumable" />
          {detail.broker ? (
            <span class="muted">
              Broker <strong>{detail.broker.name}</strong> <ReadyBadge ready={detail.broker.ready} reason={detail.broker.reason} />
            </span>
          ) : (
            <span class="muted">Broker {detail.brokerName ?? "—"} (missing)</span>
          )}
        </p>
        {detail.description && <p class="description">{detail.description}</p>}
      </header>
      <div class="columns">
        <div>
          <h2>Attributes</h2>
          <table class="plain">
            <thead><tr><th scope="col">Name</th><th scope="col">Value</th><th scope="col">Required</th></tr></thead>
            <tbody>
              {detail.attributes.map((a) => (
                <tr key={a.name}><td><code>{a.name}</code></td><td>{a.value ?? <span class="none">any</span>}</td><td>{a.required ? "yes" : "no"}</td></tr>
              ))}
            </tbody>
          </table>
          <dl class="facts">
            <dt>Source</dt><dd>{detail.source ?? <span class="none">—</span>}</dd>
            <dt>Schema</dt>
            <dd>{detail.schema ? <a href={detail.schema} rel="noreferrer noopener" target="_blank">{detail.schema}</a> : <span class="none">—</span>}</dd>
            <dt>Owner</dt><dd>{reference(detail.owner)}</dd>
            <dt>Reference</dt><dd>{reference(detail.reference)}</dd>
            <dt>Created</dt><dd>{detail.createdAt}</dd>
            {detail.labels.length > 0 && <><dt>Labels</dt><dd>{detail.labels.map((l) => <code key={l.key} class="label">{l.key}={l.value}</code>)}</dd></>}
          </dl>
          <h2>Conditions</h2>
          <table class="plain">
            <thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th></tr></thead>
            <tbody>
              {detail.conditions.length === 0 && <tr><td colSpan={4} class="none">No conditions yet</td></tr>}
              {detail.conditions.map((c) => (
                <tr key={c.type}><td>{c.type}</td><td>{c.status}</td><td>{c.reason ?? ""}</td><td>{c.message ?? ""}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h2>Consumers ({detail.consumerMatches.length})</h2>
          {detail.consumerMatches.length === 0 && <p class="none">No Trigger receives this type yet.</p>}
          <ul class="consumers">
            {detail.consumerMatches.map(({ match, trigger }) => (
              <li key={trigger.name} data-trigger={trigger.name}>
                <strong>{trigger.name}</strong> <ReadyBadge ready={trigger.ready} reason={trigger.reason} />
                {match === "UNKNOWN" && <span class="badge muted" title="The filter cannot be decided here (e.g. CESQL)">may match</span>}
                <div class="muted">→ {trigger.subscriberUri ?? trigger.subscriber.uri ?? (trigger.subscriber.ref ? `${trigger.subscriber.ref.kind} ${trigger.subscriber.ref.name}` : "—")}</div>
                <div class="filter"><span class="muted">filter:</span> <code>{filterText(trigger)}</code></div>
              </li>
            ))}
          </ul>
          <SubscribeForm namespace={namespace} name={name} onCreated={() => setReload((n) => n + 1)} />
        </div>
      </div>
    </section>
  );
}
