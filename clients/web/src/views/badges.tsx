import type { Status } from "../live/eventTypes";

export function ReadyBadge({ ready, reason }: { ready: boolean | null; reason?: string | null }) {
  const [label, tone] =
    ready === true ? ["Ready", "good"] : ready === false ? ["Not ready", "bad"] : ["Unknown", "muted"];
  return (
    <span class={`badge ${tone}`} title={reason ?? undefined}>
      {label}
    </span>
  );
}

export function YesNo({ value, yes = "Yes", no = "No" }: { value: boolean; yes?: string; no?: string }) {
  return <span class={`badge ${value ? "good" : "bad"}`}>{value ? yes : no}</span>;
}

const STATUS_TEXT: Record<Status, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  resyncing: "Resyncing…",
  unauthorized: "Token needed",
};

export function ConnectionIndicator({ status }: { status: Status }) {
  return (
    <span class={`connection ${status}`} role="status" aria-live="polite" data-status={status}>
      <span class="dot" aria-hidden="true" />
      {STATUS_TEXT[status]}
    </span>
  );
}
