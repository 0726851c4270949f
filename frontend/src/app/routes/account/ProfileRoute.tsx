import { ChangeEmail } from "../../../features/account/ChangeEmail";
import { YourAddress } from "../../../features/account/YourAddress";
import { usePageTitle } from "../../../lib/pageTitle";
import { useAuth } from "../../../lib/session";

/** Account › Profile: the address, confirmed or not, and changing it. */
export function ProfileRoute() {
  usePageTitle("Profile");
  const { user } = useAuth();
  if (!user) return null;
  return (
    <section aria-labelledby="profile-title">
      <h1 id="profile-title">Profile</h1>
      <YourAddress user={user} />
      <ChangeEmail email={user.email} />
    </section>
  );
}
