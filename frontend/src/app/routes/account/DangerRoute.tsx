import { DeleteAccount } from "../../../features/account/DeleteAccount";
import { usePageTitle } from "../../../lib/pageTitle";
import { useAuth } from "../../../lib/session";

/** Account › Danger zone: deleting the account. */
export function DangerRoute() {
  usePageTitle("Danger zone");
  const { user } = useAuth();
  if (!user) return null;
  return (
    <section aria-labelledby="danger-title">
      <h1 id="danger-title">Danger zone</h1>
      <DeleteAccount email={user.email} />
    </section>
  );
}
