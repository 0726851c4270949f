import { Navigate, NavLink, Outlet, useLocation } from "react-router";

import { useAuth } from "../auth/AuthProvider";
import { Alert, PublicPage, Spinner } from "./ui";

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
  return <Layout />;
}

/** Login, registration, forgot-password: once signed in, go where the person was heading. */
export function SignedOutOnly() {
  const { state } = useAuth();
  const location = useLocation();
  if (state.status === "unknown") {
    return <Spinner label="Restoring your session…" />;
  }
  if (state.status === "signed-in") {
    const from = (location.state as { from?: string } | null)?.from;
    return <Navigate to={from ?? "/"} replace />;
  }
  return (
    <PublicPage>
      <Outlet />
    </PublicPage>
  );
}

function Layout() {
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
          <NavLink to="/sessions">Sessions</NavLink>
          {user?.is_superuser && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        <div className="who">
          <span className="email" title={user?.email}>
            {user?.email}
          </span>
          <button type="button" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main">
        <Outlet />
      </main>
    </>
  );
}
