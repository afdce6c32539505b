import { render } from "preact";
import { App } from "./App";
import { liveClient } from "./live/client";
import { LiveEventTypes } from "./live/eventTypes";
import "./style.css";

const store = new LiveEventTypes();
store.start();
// For the browser tests and the bench: the live store (read it, do not change it) and a way
// to drop the socket as a network failure would.
(window as unknown as { registryDashboard: object }).registryDashboard = {
  store,
  dropConnection: () => liveClient().terminate(),
};
render(<App store={store} />, document.getElementById("app")!);
