// GraphQL queries and mutations over HTTP POST to the server that served the page.
import { authorization } from "./token";

export const GRAPHQL_PATH = "/graphql";

/** The server answered 401: the registry runs with tokens and ours is missing or unknown. */
export class Unauthorized extends Error {}

/** Any other failure: a status other than 200, or GraphQL errors without data. */
export class RequestFailed extends Error {}

const unauthorizedListeners = new Set<() => void>();

/** Called whenever a request is refused for its token (to ask the person for one). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function reportUnauthorized(): void {
  for (const listener of unauthorizedListeners) listener();
}

export async function request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(GRAPHQL_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...authorization() },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) {
    reportUnauthorized();
    throw new Unauthorized("a valid bearer token is required");
  }
  const body = (await response.json().catch(() => null)) as {
    data?: T;
    errors?: { message: string }[];
  } | null;
  if (!response.ok || body === null || body.data == null) {
    const message = body?.errors?.map((e) => e.message).join("; ") ?? `HTTP ${response.status}`;
    throw new RequestFailed(message);
  }
  return body.data;
}
