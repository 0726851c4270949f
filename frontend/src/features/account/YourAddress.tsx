import { useState } from "react";

import { Alert, useAction } from "../../components/ui";
import { resendVerification } from "../../lib/api/account";
import type { User } from "../../lib/api/client";

/**
 * The account page's "Your address": verified or not, and while not, what that holds back and a
 * new link. (The sections that add a way to sign in point here: `#address-title`.)
 */
export function YourAddress({ user }: { user: User }) {
  const [notice, setNotice] = useState<string | null>(null);
  const resend = useAction((email: string) => resendVerification(email));

  async function send() {
    if ((await resend.run(user.email)).ok) setNotice(`A new verification link is on its way to ${user.email}.`);
  }

  return (
    <section className="card" aria-labelledby="address-title">
      <h2 id="address-title" tabIndex={-1}>
        Your address
      </h2>
      <p>
        <strong>{user.email}</strong>{" "}
        {user.is_verified ? <span className="badge ok">verified</span> : <span className="badge warn">not verified</span>}
      </p>
      {!user.is_verified && (
        <>
          <p>
            Open the link we sent to this address to confirm it is yours. Until then, this account cannot add a passkey, an
            authenticator app or another way to sign in.
          </p>
          <Alert kind="success">{notice}</Alert>
          <Alert kind="error">{resend.error}</Alert>
          <button type="button" onClick={() => void send()} disabled={resend.busy} aria-busy={resend.busy}>
            {resend.busy ? "Sending…" : "Send a new verification link"}
          </button>
        </>
      )}
    </section>
  );
}
