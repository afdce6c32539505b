import { useEffect, useState } from "preact/hooks";
import { onUnauthorized } from "./api/http";
import { storedToken } from "./api/token";
import { useLive } from "./hooks";
import { resetLiveClient } from "./live/client";
import type { LiveEventTypes } from "./live/eventTypes";
import { href, useRoute } from "./route";
import { ConnectionIndicator } from "./views/badges";
import { BrokersView } from "./views/BrokersView";
import { EventTypesView } from "./views/EventTypesView";
import { EventTypeView } from "./views/EventTypeView";
import { Namespaces } from "./views/Namespaces";
import { TokenDialog } from "./views/TokenDialog";

export function App({ store }: { store: LiveEventTypes }) {
  const version = useLive(store);
  const route = useRoute();
  const [askToken, setAskToken] = useState(false);
  const [refreshKey, setRefreshKey] = useState(0);

  useEffect(() => onUnauthorized(() => setAskToken(true)), []);
  useEffect(() => {
    if (store.status === "unauthorized") setAskToken(true);
  }, [store.status]);

  function tokenSaved(): void {
    setAskToken(false);
    resetLiveClient();
    store.restart();
    setRefreshKey((n) => n + 1);
  }

  const selected = route.view === "eventTypes" ? route.namespace : route.view === "eventType" ? route.namespace : null;
  return (
    <div class="app">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="#/">
          <span class="logo" aria-hidden="true">◆</span> Knative Event Registry
        </a>
        <nav aria-label="Views" class="views">
          <a href={href({ view: "eventTypes", namespace: null })} aria-current={route.view !== "brokers" ? "page" : undefined}>
            EventTypes
          </a>
          <a href={href({ view: "brokers" })} aria-current={route.view === "brokers" ? "page" : undefined}>
            Brokers
          </a>
          <a href="/graphql">GraphiQL</a>
        </nav>
        <div class="right">
          <ConnectionIndicator status={store.status} />
          <button type="button" class="secondary small" onClick={() => setAskToken(true)}>
            {storedToken() ? "Change token" : "Token"}
          </button>
        </div>
      </header>
      <div class="layout">
        <Namespaces store={store} version={version} selected={selected} refreshKey={refreshKey} />
        <main id="main" tabIndex={-1}>
          {route.view === "eventTypes" && <EventTypesView store={store} version={version} namespace={route.namespace} />}
          {route.view === "brokers" && <BrokersView store={store} version={version} />}
          {route.view === "eventType" && (
            <EventTypeView key={`${route.namespace}/${route.name}/${refreshKey}`} store={store} namespace={route.namespace} name={route.name} />
          )}
        </main>
      </div>
      {askToken && <TokenDialog onSaved={tokenSaved} onCancel={() => setAskToken(false)} />}
    </div>
  );
}
