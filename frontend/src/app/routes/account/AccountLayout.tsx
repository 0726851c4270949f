import { NavLink, Outlet } from "react-router";

export const ACCOUNT_PAGES = [
  { to: "/account", label: "Profile", end: true },
  { to: "/account/security", label: "Security" },
  { to: "/account/sessions", label: "Sessions" },
  { to: "/account/activity", label: "Activity" },
  { to: "/account/danger", label: "Danger zone" },
] as const;

/** The account area: its pages, each with its own address, side by side. */
export function AccountLayout() {
  return (
    <div className="account-area">
      <nav aria-label="Account" className="subnav">
        {ACCOUNT_PAGES.map((page) => (
          <NavLink key={page.to} to={page.to} end={"end" in page ? page.end : false}>
            {page.label}
          </NavLink>
        ))}
      </nav>
      <div className="account-page">
        <Outlet />
      </div>
    </div>
  );
}
