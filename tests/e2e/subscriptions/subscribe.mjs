// Subscribe to the registry with the npm `graphql-ws` client (graphql-transport-ws over `ws`)
// and print what happens as JSON lines on stdout, one per line, each with a timestamp `t`
// (milliseconds since the Unix epoch, fractional):
//
//   {"t":..., "event":"connected"}                  the server acknowledged connection_init
//   {"t":..., "event":"next", "payload":{...}}      one subscription payload ({data, errors?})
//   {"t":..., "event":"error", "error":...}         the subscription or the socket failed
//   {"t":..., "event":"complete"}                   the server completed the subscription
//   {"t":..., "event":"closed", "code":N, "reason":"..."}
//
// Usage: node subscribe.mjs <url> <token|-> <query> [variablesJSON|-] [count]
//
// The token goes into connection_init's payload (connectionParams) as
// `authorization: Bearer <token>`; `-` sends no token. The program exits with 0 after `count`
// payloads (if given), when the server completes the subscription, or on SIGTERM/SIGINT;
// with 2 after an error. It never reconnects.

import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, query, variablesArg, countArg] = process.argv.slice(2);
if (!url || !token || !query) {
  process.stderr.write("usage: node subscribe.mjs <url> <token|-> <query> [variablesJSON|-] [count]\n");
  process.exit(64);
}
const variables = variablesArg && variablesArg !== "-" ? JSON.parse(variablesArg) : undefined;
const count = countArg ? Number.parseInt(countArg, 10) : Infinity;

function now() {
  return performance.timeOrigin + performance.now();
}

function emit(record) {
  process.stdout.write(JSON.stringify({ t: now(), ...record }) + "\n");
}

function describe(error) {
  if (error && typeof error === "object" && "code" in error && "reason" in error) {
    return { code: error.code, reason: error.reason }; // a CloseEvent
  }
  if (error instanceof Error) return { message: error.message };
  return error;
}

let received = 0;
let exiting = false;

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token === "-" ? {} : { authorization: `Bearer ${token}` },
  lazy: false,
  retryAttempts: 0,
  shouldRetry: () => false,
  on: {
    connected: () => emit({ event: "connected" }),
    closed: (event) => {
      emit({ event: "closed", code: event?.code ?? null, reason: event?.reason ?? "" });
      if (!exiting) finish(0);
    },
  },
});

function finish(code) {
  if (exiting) return;
  exiting = true;
  // Let stdout drain before leaving; dispose closes the socket (1000) if still open.
  Promise.resolve(client.dispose()).finally(() => {
    process.stdout.write("", () => process.exit(code));
  });
}

client.subscribe(
  { query, variables },
  {
    next: (payload) => {
      received += 1;
      emit({ event: "next", payload });
      if (received >= count) finish(0);
    },
    error: (error) => {
      emit({ event: "error", error: describe(error) });
      finish(2);
    },
    complete: () => {
      emit({ event: "complete" });
      finish(0);
    },
  },
);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => finish(0));
}
