// Hash routes, so the server serves one page for every view:
//   #/                          EventTypes (optionally #/?ns=NAME)
//   #/brokers                   Brokers
//   #/eventtypes/NS/NAME        one EventType, with the Subscribe form
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { view: "eventTypes"; namespace: string | null }
  | { view: "brokers" }
  | { view: "eventType"; namespace: string; name: string };

export function parse(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "brokers") return { view: "brokers" };
  if (parts[0] === "eventtypes" && parts.length === 3) {
    return { view: "eventType", namespace: parts[1]!, name: parts[2]! };
  }
  return { view: "eventTypes", namespace: new URLSearchParams(query).get("ns") };
}

export function href(route: Route): string {
  switch (route.view) {
    case "brokers":
      return "#/brokers";
    case "eventType":
      return `#/eventtypes/${encodeURIComponent(route.namespace)}/${encodeURIComponent(route.name)}`;
    case "eventTypes":
      return route.namespace === null ? "#/" : `#/?ns=${encodeURIComponent(route.namespace)}`;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const update = () => setRoute(parse(location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
