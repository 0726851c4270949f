import { useState } from "react";
import type { FormEvent } from "react";

import { Alert, Field, SubmitButton, useAction } from "../../components/ui";
import { resendVerification } from "../../lib/api/account";
import { useCooldown } from "../../lib/cooldown";

const TEXT = {
  heading: "Ask for a new link",
  email: "Your email",
  send: "Send a new link",
  sendTo: (email: string) => `Send a new link to ${email}`,
  sent: (email: string) => `If an account with ${email} is waiting for its address to be confirmed, a new link is on its way.`,
  wait: (seconds: number) => `You can ask again in ${seconds} s.`,
};

/** After a dead verification link: a new one, for this account (signed in) or for an address typed here. */
export function NewVerificationLink({ email }: { email: string | null }) {
  const [sentTo, setSentTo] = useState<string | null>(null);
  const resend = useAction((address: string) => resendVerification(address));
  const cooldown = useCooldown(60);

  async function send(address: string) {
    if ((await resend.run(address)).ok) {
      setSentTo(address);
      cooldown.start();
    }
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    await send(String(new FormData(event.currentTarget).get("email") ?? "").trim());
  }

  return (
    <div className="new-link">
      <h3>{TEXT.heading}</h3>
      <Alert kind="success">{sentTo && TEXT.sent(sentTo)}</Alert>
      <Alert kind="error">{resend.error}</Alert>
      {email ? (
        <button type="button" onClick={() => void send(email)} disabled={resend.busy || cooldown.left > 0} aria-busy={resend.busy}>
          {TEXT.sendTo(email)}
        </button>
      ) : (
        <form onSubmit={(event) => void submit(event)}>
          <Field label={TEXT.email} name="email" type="email" autoComplete="email" required />
          <SubmitButton busy={resend.busy}>{TEXT.send}</SubmitButton>
        </form>
      )}
      {cooldown.left > 0 && <p className="meta">{TEXT.wait(cooldown.left)}</p>}
    </div>
  );
}
