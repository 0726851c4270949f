import { ChangeEmail } from "../../../features/account/ChangeEmail";
import { YourAddress } from "../../../features/account/YourAddress";
import { usePageTitle } from "../../../lib/pageTitle";
import { useAuth } from "../../../lib/session";

const TEXT = {
  title: "Profile",
};

/** Account › Profile: the address, confirmed or not, and changing it. */
export function ProfileRoute() {
  usePageTitle(TEXT.title);
  const { user } = useAuth();
  if (!user) return null;
  return (
    <section aria-labelledby="profile-title">
      <h1 id="profile-title">{TEXT.title}</h1>
      <YourAddress user={user} />
      <ChangeEmail email={user.email} />
    </section>
  );
}
