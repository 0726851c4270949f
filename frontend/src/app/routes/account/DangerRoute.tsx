import { DeleteAccount } from "../../../features/account/DeleteAccount";
import { usePageTitle } from "../../../lib/pageTitle";
import { useAuth } from "../../../lib/session";

const TEXT = {
  title: "Danger zone",
};

/** Account › Danger zone: deleting the account. */
export function DangerRoute() {
  usePageTitle(TEXT.title);
  const { user } = useAuth();
  if (!user) return null;
  return (
    <section aria-labelledby="danger-title">
      <h1 id="danger-title">{TEXT.title}</h1>
      <DeleteAccount email={user.email} />
    </section>
  );
}
