/**
 * In place of a control that adds a way to sign in (a passkey, an authenticator app, a provider)
 * while the account's address is unconfirmed: the server refuses those until then
 * (VERIFICATION_REQUIRED), so the page says why instead of offering a button that fails. The
 * "Your address" card at the top of the account page sends the link again.
 */
export function VerifyFirst({ email, what }: { email: string; what: string }) {
  return (
    <p className="alert alert-info">
      Confirm your address first to {what}: open the link we sent to <strong>{email}</strong>, or{" "}
      <a href="#address-title">send a new one</a>.
    </p>
  );
}
