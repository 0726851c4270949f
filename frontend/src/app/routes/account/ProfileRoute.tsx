import { ChangeEmail } from "../../features/account/ChangeEmail";
import { ChangePassword } from "../../features/account/ChangePassword";
import { DeleteAccount } from "../../features/account/DeleteAccount";
import { YourAddress } from "../../features/account/YourAddress";
import { SignInMethods } from "../../features/providers/SignInMethods";
import { useAuth } from "../../lib/session";
import { SecondFactors } from "./SecondFactors";

/** The account page: the account's own sections, its second factors, its providers. */
export function AccountRoute() {
  const { user } = useAuth();
  if (!user) return null;
  return (
    <section aria-labelledby="account-title">
      <h1 id="account-title">Account</h1>
      <YourAddress user={user} />
      <ChangeEmail email={user.email} />
      {/* Accounts made by a provider have no password to change: Sign-in methods offers setting one. */}
      {user.has_password !== false && <ChangePassword />}
      <SecondFactors />
      <SignInMethods />
      <DeleteAccount email={user.email} />
    </section>
  );
}
