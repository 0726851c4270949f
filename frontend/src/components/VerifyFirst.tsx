import { Link } from "react-router";

/**
 * In place of a control that adds a way to sign in (a passkey, an authenticator app, a provider)
 * while the account's address is unconfirmed: the server refuses those until then
 * (VERIFICATION_REQUIRED), so the page says why instead of offering a button that fails. The
 * welcome page sends the link again, or mends the address.
 */
export function VerifyFirst({ email, what }: { email: string; what: string }) {
  return (
    <p className="alert alert-info">
      Confirm your address first to {what}: open the link we sent to <strong>{email}</strong>, or{" "}
      <Link to="/welcome">send a new one</Link>.
    </p>
  );
}
