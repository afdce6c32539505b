// One graphql-ws client (graphql-transport-ws) for the page; every subscription shares its
// socket. It never retries by itself: a lost socket errors every subscription, and each
// live store resubscribes with its own `since` cursor (graphql-ws would resend the first
// variables, replaying the whole set instead of resuming).
import { createClient, type Client } from "graphql-ws";
import { GRAPHQL_PATH, reportUnauthorized } from "../api/http";
import { authorization } from "../api/token";

/** Close codes with which the server refuses a token (graphql-transport-ws: 4401, 4403). */
const REFUSED = new Set([4401, 4403]);

let client: Client | null = null;

function url(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${GRAPHQL_PATH}`;
}

export function liveClient(): Client {
  client ??= createClient({
    url: url(),
    lazy: true,
    retryAttempts: 0,
    keepAlive: 10_000,
    connectionParams: () => authorization(),
    on: {
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        if (code !== undefined && REFUSED.has(code)) reportUnauthorized();
      },
    },
  });
  return client;
}

/** Drop the socket (after a new token is entered): the next subscription opens a fresh one. */
export function resetLiveClient(): void {
  const old = client;
  client = null;
  void old?.dispose();
}

export function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" && REFUSED.has(code);
}

/** Delay before the nth reconnection attempt: 250 ms doubling to 2 s. */
export function backoff(attempt: number): number {
  return Math.min(2000, 250 * 2 ** attempt);
}
