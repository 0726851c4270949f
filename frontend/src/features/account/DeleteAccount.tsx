import { useState } from "react";
import type { FormEvent } from "react";

import { Alert, Field, useAction } from "../../components/ui";
import { deleteMyAccount } from "../../lib/api/account";
import { useConfirmed } from "../../lib/confirmation";
import { useAuth } from "../../lib/session";

/** Typing the account's address (any case) or the word DELETE unlocks the button. */
export function deletionTyped(typed: string, email: string): boolean {
  const text = typed.trim();
  return text === "DELETE" || (text !== "" && text.toLowerCase() === email.toLowerCase());
}

/**
 * The account page's last section. The server deletes everything and clears this browser's
 * cookies; then every tab signs out and the login page says why.
 */
export function DeleteAccount({ email }: { email: string }) {
  const { accountDeleted } = useAuth();
  const confirmed = useConfirmed();
  const [typed, setTyped] = useState("");
  const remove = useAction(confirmed(() => deleteMyAccount()));
  const ready = deletionTyped(typed, email);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (ready && (await remove.run()).ok) accountDeleted();
  }

  return (
    <section className="card danger-zone" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete account</h2>
      <p>Deleting your account removes everything in it, for good:</p>
      <ul>
        <li>your tasks;</li>
        <li>every session: you are signed out on all your devices;</li>
        <li>your second factors, recovery codes and passkeys;</li>
        <li>the sign-in providers linked to it, and its security activity.</li>
      </ul>
      <p>
        <strong>This cannot be undone.</strong> We mail a last message to {email}.
      </p>
      <Alert kind="error">{remove.error}</Alert>
      <form onSubmit={submit}>
        <Field
          label="Type your email address to confirm"
          hint={`Type ${email} (or the word DELETE).`}
          name="confirm-delete"
          type="text"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
        />
        <button type="submit" className="danger" disabled={!ready || remove.busy} aria-busy={remove.busy}>
          {remove.busy ? "Deleting…" : "Delete my account"}
        </button>
      </form>
    </section>
  );
}
