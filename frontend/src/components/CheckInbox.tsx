import { useState } from "react";
import type { FormEvent } from "react";

import { emailChange, resendVerification } from "../lib/api/account";
import { useCooldown } from "../lib/cooldown";
import { Alert, Field, SubmitButton, useAction } from "./ui";

export const RESEND_SECONDS = 60;

const TEXT = {
  sent: (email: string) => `We sent a link to ${email}. Open it to confirm the address is yours.`,
  why: "Until then, this account cannot add a passkey, an authenticator app or another way to sign in, and it is deleted after a while if nobody confirms it.",
  resend: "Send the link again",
  sending: "Sending…",
  wait: (seconds: number) => `You can ask again in ${seconds} s.`,
  resent: (email: string) => `A new link is on its way to ${email}. The one sent before still works until it expires.`,
  spam: "Nothing after a few minutes? Look in the spam folder, or check the address below.",
  typo: "Typed the wrong address?",
  newAddress: "The right address",
  change: "Use this address",
  changed: (email: string) => `We sent a link to ${email}. Your account moves there once you open it.`,
  registerAgain: "Typed the wrong address? Create the account again with the right one: this one is deleted if nobody confirms it.",
};

/**
 * Where the confirmation link went, a way to have it sent again (after a short wait), and, when
 * signed in, a way to mend a mistyped address (the new address confirms itself).
 */
export function CheckInbox({ email, signedIn }: { email: string; signedIn: boolean }) {
  const [notice, setNotice] = useState<string | null>(null);
  const resend = useAction((address: string) => resendVerification(address));
  const change = useAction((address: string) => emailChange.request(address));
  const cooldown = useCooldown(RESEND_SECONDS);

  async function sendAgain() {
    setNotice(null);
    if ((await resend.run(email)).ok) {
      setNotice(TEXT.resent(email));
      cooldown.start();
    }
  }

  async function fix(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const address = String(new FormData(form).get("email") ?? "").trim();
    setNotice(null);
    const result = await change.run(address);
    if (result.ok) {
      setNotice(TEXT.changed(result.data?.new_email ?? address));
      form.reset();
    }
  }

  return (
    <div className="check-inbox">
      <p>
        <strong>{TEXT.sent(email)}</strong>
      </p>
      <p className="meta">{TEXT.why}</p>
      <Alert kind="success">{notice}</Alert>
      <Alert kind="error">{resend.error}</Alert>
      <p>
        <button
          type="button"
          onClick={() => void sendAgain()}
          disabled={resend.busy || cooldown.left > 0}
          aria-busy={resend.busy}
          aria-describedby={cooldown.left > 0 ? "resend-wait" : undefined}
        >
          {resend.busy ? TEXT.sending : TEXT.resend}
        </button>{" "}
        {cooldown.left > 0 && (
          <span id="resend-wait" className="meta">
            {TEXT.wait(cooldown.left)}
          </span>
        )}
      </p>
      <p className="meta">{TEXT.spam}</p>
      {signedIn ? (
        <form onSubmit={(event) => void fix(event)} aria-label={TEXT.typo}>
          <Field label={TEXT.newAddress} name="email" type="email" autoComplete="email" required hint={TEXT.typo} error={change.error} />
          <SubmitButton busy={change.busy}>{TEXT.change}</SubmitButton>
        </form>
      ) : (
        <p className="meta">{TEXT.registerAgain}</p>
      )}
    </div>
  );
}
