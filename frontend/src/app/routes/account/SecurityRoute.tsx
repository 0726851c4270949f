import { ChangePassword } from "../../../features/account/ChangePassword";
import { SignInMethods } from "../../../features/providers/SignInMethods";
import { usePageTitle } from "../../../lib/pageTitle";
import { useAuth } from "../../../lib/session";
import { SecondFactors } from "../SecondFactors";

const TEXT = {
  title: "Security",
};

/** Account › Security: the password, two-step sign-in, passkeys, the providers to sign in with. */
export function SecurityRoute() {
  usePageTitle(TEXT.title);
  const { user } = useAuth();
  if (!user) return null;
  return (
    <section aria-labelledby="security-title">
      <h1 id="security-title">{TEXT.title}</h1>
      {/* Accounts made by a provider have no password to change: Sign-in methods offers setting one. */}
      {user.has_password !== false && <ChangePassword email={user.email} />}
      <SecondFactors />
      <SignInMethods />
    </section>
  );
}
