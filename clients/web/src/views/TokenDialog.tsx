// Asks for a bearer token when the server answers 401 (or refuses the socket's token); the
// token is kept in localStorage (shared with the GraphiQL page).
import { useEffect, useRef, useState } from "preact/hooks";
import { storedToken, storeToken } from "../api/token";

export function TokenDialog({ onSaved, onCancel }: { onSaved: () => void; onCancel: () => void }) {
  const [token, setToken] = useState(storedToken() ?? "");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const rejected = storedToken() !== null;
  return (
    <div class="overlay" onKeyDown={(e) => e.key === "Escape" && onCancel()}>
      <form
        class="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="token-title"
        onSubmit={(e) => {
          e.preventDefault();
          storeToken(token.trim() || null);
          onSaved();
        }}
      >
        <h2 id="token-title">Access token</h2>
        <p>
          {rejected
            ? "The registry refused the stored token. Enter another one."
            : "This registry requires a bearer token. It is stored in this browser only."}
        </p>
        <label for="token-input">Token</label>
        <input
          id="token-input"
          ref={input}
          type="password"
          autoComplete="off"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <div class="actions">
          <button type="button" class="secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit">Save token</button>
        </div>
      </form>
    </div>
  );
}
