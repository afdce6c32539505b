import { render } from "preact";
import { App } from "./App";
import { LiveEventTypes } from "./live/eventTypes";
import "./style.css";

const store = new LiveEventTypes();
store.start();
// For the browser tests and the bench: the live store, read-only by convention.
(window as unknown as { registryDashboard: LiveEventTypes }).registryDashboard = store;
render(<App store={store} />, document.getElementById("app")!);
