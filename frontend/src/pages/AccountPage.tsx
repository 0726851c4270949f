import { useState } from "react";
import type { FormEvent } from "react";

import { api } from "../api/client";
import { useAuth } from "../auth/AuthProvider";
import { useConfirmed } from "../components/ConfirmProvider";
import { Alert, Field, NewPasswordField, SubmitButton, useAction } from "../components/ui";
import { ChangeEmail } from "./ChangeEmail";
import { DeleteAccount } from "./DeleteAccount";
import { SecondFactors } from "./SecondFactors";
import { SignInMethods } from "./SignInMethods";

export function AccountPage() {
  const { user } = useAuth();
  const confirmed = useConfirmed();
  const [notice, setNotice] = useState<{ password?: string; verify?: string }>({});
  const changePassword = useAction(
    confirmed((current_password: string, new_password: string) =>
      api.POST("/users/me/password", { body: { current_password, new_password } }),
    ),
  );
  const resend = useAction((email: string) => api.POST("/auth/request-verify-token", { body: { email } }));
  if (!user) return null;

  async function submitPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    if ((await changePassword.run(String(data.get("current")), String(data.get("new")))).ok) {
      form.reset();
      setNotice({ password: "Password changed. Your other sessions were signed out." });
    }
  }

  async function resendVerification() {
    if ((await resend.run(user!.email)).ok) setNotice({ verify: `A new verification link is on its way to ${user!.email}.` });
  }

  return (
    <section aria-labelledby="account-title">
      <h1 id="account-title">Account</h1>
      <section className="card" aria-labelledby="address-title">
        <h2 id="address-title" tabIndex={-1}>
          Your address
        </h2>
        <p>
          <strong>{user.email}</strong>{" "}
          {user.is_verified ? (
            <span className="badge ok">verified</span>
          ) : (
            <span className="badge warn">not verified</span>
          )}
        </p>
        {!user.is_verified && (
          <>
            <p>
              Open the link we sent to this address to confirm it is yours. Until then, this account cannot add a passkey,
              an authenticator app or another way to sign in.
            </p>
            <Alert kind="success">{notice.verify}</Alert>
            <Alert kind="error">{resend.error}</Alert>
            <button type="button" onClick={() => void resendVerification()} disabled={resend.busy} aria-busy={resend.busy}>
              {resend.busy ? "Sending…" : "Send a new verification link"}
            </button>
          </>
        )}
      </section>

      <ChangeEmail email={user.email} />

      {/* Accounts made by a provider have no password to change: Sign-in methods offers setting one. */}
      {user.has_password !== false && (
        <form className="card" onSubmit={submitPassword} aria-labelledby="password-title">
          <h2 id="password-title">Change password</h2>
          <Alert kind="success">{notice.password}</Alert>
          <Alert kind="error">{changePassword.error}</Alert>
          <Field label="Current password" name="current" type="password" autoComplete="current-password" required />
          <NewPasswordField name="new" />
          <SubmitButton busy={changePassword.busy}>Change password</SubmitButton>
        </form>
      )}

      <SecondFactors />
      <SignInMethods />
      <DeleteAccount email={user.email} />
    </section>
  );
}
