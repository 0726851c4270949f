import { Link, useLocation } from "react-router";

import type { User } from "../../lib/api/client";

const TEXT = {
  label: "Your address",
  ask: "Confirm your address: we sent a link to",
  more: "Send it again or fix the address",
};

/** A quiet line on every page until the account's address is confirmed. */
export function VerifyBanner({ user }: { user: User }) {
  const { pathname } = useLocation();
  if (user.is_verified || pathname === "/welcome") return null;
  return (
    // A landmark of its own, so nothing on the page sits outside one (a screen reader's map).
    <aside className="verify-banner" aria-label={TEXT.label}>
      <p>
        {TEXT.ask} <strong>{user.email}</strong>. <Link to="/welcome">{TEXT.more}</Link>
      </p>
    </aside>
  );
}
