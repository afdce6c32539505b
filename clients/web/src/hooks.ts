import { useEffect, useState } from "preact/hooks";
import type { LiveEventTypes } from "./live/eventTypes";

/** Re-render whenever the live store reports a change (at most once per frame). */
export function useLive(store: LiveEventTypes): number {
  const [, setTick] = useState(0);
  useEffect(() => store.listen(() => setTick((n) => n + 1)), [store]);
  return store.version;
}

export function useMedia(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const update = () => setMatches(list.matches);
    list.addEventListener("change", update);
    return () => list.removeEventListener("change", update);
  }, [query]);
  return matches;
}
