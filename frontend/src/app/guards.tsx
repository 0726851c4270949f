import { Suspense, useEffect, useRef } from "react";
import type { ReactNode } from "react";
import { Navigate, NavLink, Outlet, useLocation, useNavigate } from "react-router";

import { ThemeSwitch } from "../components/ThemeSwitch";
import { Alert, PublicPage, Spinner } from "../components/ui";
import { VerifyBanner } from "../features/account/VerifyBanner";
import { useAuth } from "../lib/session";

/** Pages for signed-in people: wait for the session to be restored, else go to the login page. */
export function RequireAuth() {
  const { state, user, userError, reloadUser } = useAuth();
  const location = useLocation();
  if (state.status === "signed-in" && !user && userError) {
    return (
      <PublicPage>
        <Alert kind="error">Your account could not be loaded: {userError}</Alert>
        <button type="button" onClick={() => void reloadUser()}>
          Try again
        </button>
      </PublicPage>
    );
  }
  if (state.status === "unknown" || (state.status === "signed-in" && !user)) {
    return <Spinner label="Restoring your session…" />;
  }
  if (state.status === "signed-out") {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  // Pages keep their user's data in state (tasks, sessions...): another user gets fresh pages.
  return <Layout key={state.userId} />;
}

/**
 * When the shared refresh cookie brought another user, start over on the start page: the page
 * on screen (with its address) was the previous user's. Rendered once, inside the router.
 */
export function StartOverOnUserSwitch() {
  const { state } = useAuth();
  const navigate = useNavigate();
  const switchTo = state.status === "signed-in" && state.switchedFrom !== null ? `${state.switchedFrom}>${state.userId}` : null;
  // `navigate` changes with every address: remember the switch handled, or every later
  // navigation would be sent back to the start while the notice is up.
  const handled = useRef<string | null>(null);
  useEffect(() => {
    if (switchTo === handled.current) return;
    handled.current = switchTo;
    if (switchTo !== null) void navigate("/", { replace: true });
  }, [switchTo, navigate]);
  return null;
}

/** Login, registration, forgot-password: once signed in, go where the person was heading. */
export function SignedOutOnly() {
  const { state } = useAuth();
  const location = useLocation();
  if (state.status === "unknown") {
    return <Spinner label="Restoring your session…" />;
  }
  if (state.status === "signed-in") {
    // Where the previous user was heading is no business of someone else signed in elsewhere.
    const from = state.switchedFrom === null ? (location.state as { from?: string } | null)?.from : undefined;
    return <Navigate to={from ?? "/"} replace />;
  }
  return (
    <PublicPage>
      <Outlet />
    </PublicPage>
  );
}

/** The frame of signed-in pages: the top bar, the address banner, the page (or `children`). */
export function Layout({ children }: { children?: ReactNode }) {
  const { user, logout } = useAuth();
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">FARM Auth</span>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Tasks
          </NavLink>
          <NavLink to="/account">Account</NavLink>
          {user?.is_superuser && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        <ThemeSwitch />
        <div className="who">
          <span className="email" title={user?.email}>
            {user?.email}
          </span>
          <button type="button" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      {user && <VerifyBanner user={user} />}
      <main id="main">
        <SwitchNotice />
        <Suspense fallback={<Spinner />}>{children ?? <Outlet />}</Suspense>
      </main>
    </>
  );
}

/** Why the screen started over: the account now is the one signed in to in another tab. */
function SwitchNotice() {
  const { state, user, acknowledgeSwitch } = useAuth();
  if (state.status !== "signed-in" || state.switchedFrom === null || !user) return null;
  return (
    <Alert kind="info">
      You are now signed in as <strong>{user.email}</strong>: this browser was signed in to that account in another
      tab.{" "}
      <button type="button" onClick={acknowledgeSwitch}>
        Dismiss
      </button>
    </Alert>
  );
}
