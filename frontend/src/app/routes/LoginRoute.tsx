import { PasskeySignIn } from "../../features/passkeys/PasskeySignIn";
import { LoginPage } from "../../features/sign-in/LoginPage";

/** The login page, with the ways in other features add: signing in with a passkey. */
export function LoginRoute() {
  return <LoginPage otherWays={(notify) => <PasskeySignIn onNotice={notify} />} />;
}
