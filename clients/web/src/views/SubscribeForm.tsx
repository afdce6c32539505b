// Subscribe to an EventType: subscribeToEventType creates a Trigger on its Broker filtered on
// its exact type and source. A ValidationFailed answer puts each error at its input field
// (matched on the error's field path); other typed failures show above the button.
import { useState } from "preact/hooks";
import { SUBSCRIBE } from "../api/documents";
import { request } from "../api/http";
import type { FieldError, SubscribeResult } from "../api/types";

type Mode = "uri" | "ref";
type Field = "uri" | "refApiVersion" | "refKind" | "refName" | "triggerName";

/** Which input an error's field path belongs to; null: the form as a whole. */
export function inputFor(path: string, mode: Mode): Field | null {
  if (/subscriber$/.test(path)) return mode === "uri" ? "uri" : "refName";
  if (/subscriber\.uri$/.test(path)) return mode === "uri" ? "uri" : null;
  if (/subscriber\.ref\.apiVersion$/.test(path)) return "refApiVersion";
  if (/subscriber\.ref\.kind$/.test(path)) return "refKind";
  if (/subscriber\.ref(\.name)?$/.test(path)) return "refName";
  if (/^(input\.)?(name|generateName|triggerName)$/.test(path) && path !== "name") return "triggerName";
  return null;
}

interface Props {
  namespace: string;
  name: string;
  onCreated: () => void;
}

export function SubscribeForm({ namespace, name, onCreated }: Props) {
  const [mode, setMode] = useState<Mode>("uri");
  const [values, setValues] = useState<Record<Field, string>>({
    uri: "",
    refApiVersion: "serving.knative.dev/v1",
    refKind: "Service",
    refName: "",
    triggerName: "",
  });
  const [errors, setErrors] = useState<Partial<Record<Field, FieldError[]>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setProblem(null);
    setDone(null);
    const subscriber =
      mode === "uri"
        ? { uri: values.uri }
        : {
            ref: { apiVersion: values.refApiVersion, kind: values.refKind, name: values.refName },
            ...(values.uri ? { uri: values.uri } : {}),
          };
    try {
      const data = await request<{ subscribeToEventType: SubscribeResult }>(SUBSCRIBE, {
        namespace,
        name,
        subscriber,
        triggerName: values.triggerName.trim() || null,
      });
      const result = data.subscribeToEventType;
      if (result.__typename === "TriggerCreated") {
        setDone(
          result.created
            ? `Trigger ${result.trigger.name} created.`
            : `Trigger ${result.trigger.name} already subscribes this subscriber.`,
        );
        onCreated();
      } else if (result.__typename === "ValidationFailed") {
        const placed: Partial<Record<Field, FieldError[]>> = {};
        const unplaced: string[] = [];
        for (const error of result.errors) {
          const field = inputFor(error.field, mode);
          if (field === null) unplaced.push(`${error.field}: ${error.message}`);
          else (placed[field] ??= []).push(error);
        }
        setErrors(placed);
        setProblem(unplaced.length ? unplaced.join("; ") : null);
      } else {
        setProblem(result.message);
      }
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  function input(field: Field, label: string, props: Record<string, unknown> = {}) {
    const id = `subscribe-${field}`;
    const fieldErrors = errors[field] ?? [];
    return (
      <div class="field">
        <label for={id}>{label}</label>
        <input
          id={id}
          name={field}
          value={values[field]}
          aria-invalid={fieldErrors.length > 0 ? "true" : undefined}
          aria-describedby={fieldErrors.length > 0 ? `${id}-error` : undefined}
          onInput={(e) => setValues((v) => ({ ...v, [field]: e.currentTarget.value }))}
          {...props}
        />
        {fieldErrors.length > 0 && (
          <p class="field-error" id={`${id}-error`} data-field={field}>
            {fieldErrors.map((e) => `${e.message} (${e.reason})`).join("; ")}
          </p>
        )}
      </div>
    );
  }

  return (
    <form class="subscribe" onSubmit={submit} aria-labelledby="subscribe-title">
      <h2 id="subscribe-title">Subscribe</h2>
      <p class="hint">Creates a Trigger on this EventType's Broker, filtered on its exact type and source.</p>
      <fieldset class="mode">
        <legend>Subscriber</legend>
        <label>
          <input type="radio" name="mode" checked={mode === "uri"} onChange={() => setMode("uri")} /> URI
        </label>
        <label>
          <input type="radio" name="mode" checked={mode === "ref"} onChange={() => setMode("ref")} /> Kubernetes
          object
        </label>
      </fieldset>
      {mode === "uri" ? (
        input("uri", "Subscriber URI", { type: "text", placeholder: "http://my-consumer.default.svc.cluster.local" })
      ) : (
        <div class="ref">
          {input("refApiVersion", "API version")}
          {input("refKind", "Kind")}
          {input("refName", "Name", { placeholder: "my-service" })}
        </div>
      )}
      {input("triggerName", "Trigger name (optional)", { placeholder: "derived from the EventType" })}
      {problem && (
        <p class="form-error" role="alert">
          {problem}
        </p>
      )}
      {done && (
        <p class="form-done" role="status">
          {done}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? "Subscribing…" : "Subscribe"}
      </button>
    </form>
  );
}
