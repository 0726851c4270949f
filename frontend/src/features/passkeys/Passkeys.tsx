import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";
import type { RegistrationResponseJSON } from "@simplewebauthn/browser";

import { VerifyFirst } from "../../components/VerifyFirst";
import { Alert, Field, Spinner, useAction } from "../../components/ui";
import { useConfirmed } from "../../lib/confirmation";
import { describeDevice } from "../../lib/device";
import { signedOutText } from "../../lib/factors";
import type { FactorsProps } from "../../lib/factors";
import { useAuth } from "../../lib/session";
import { passkeys } from "./api";
import type { Passkey } from "./api";
import { PASSKEY_NAME_MAX, PasskeyItem } from "./PasskeyItem";
import { passkeyRegistration, supportsPasskeys } from "./webauthn";

type Message = { kind: "success" | "error" | "info"; text: string } | null;

/** A name that says where the passkey lives: "Passkey on Chrome on Android". */
export function defaultPasskeyName(userAgent: string): string {
  return `Passkey on ${describeDevice(userAgent)}`.slice(0, PASSKEY_NAME_MAX);
}

/** The account page's "Passkeys": list, add (after confirming it's you), rename, remove. */
export function Passkeys({ status, reload: reloadStatus, onCodes }: FactorsProps) {
  const { user } = useAuth();
  const confirmed = useConfirmed();
  const [list, setList] = useState<Passkey[] | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [adding, setAdding] = useState(false);
  const [supported] = useState(supportsPasskeys);
  const load = useAction(() => passkeys.list());
  const save = useAction((name: string, credential: RegistrationResponseJSON, endOthers: boolean) =>
    passkeys.add(name, credential, endOthers),
  );
  const rename = useAction((id: string, name: string) => passkeys.rename(id, name));
  const remove = useAction(confirmed((id: string) => passkeys.remove(id)));
  const fetchList = load.run;

  const reload = useCallback(async () => {
    const result = await fetchList();
    if (result.ok && result.data) setList(result.data);
  }, [fetchList]);

  useEffect(() => {
    void reload();
  }, [reload]);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get("name") ?? "").trim();
    // The first passkey signs out the other sessions whatever is asked; later ones when ticked.
    const endOthers = form.get("end_others") !== null ? form.get("end_others") === "on" : true;
    setMessage(null);
    setAdding(true);
    try {
      const outcome = await passkeyRegistration(confirmed(() => passkeys.registrationOptions()));
      if (!outcome.ok) {
        if (outcome.message) setMessage({ kind: outcome.kind, text: outcome.message });
        return;
      }
      const result = await save.run(name, outcome.credential, endOthers);
      if (result.ok && result.data) {
        const ended = signedOutText(result.data.other_sessions_ended);
        setMessage({
          kind: "success",
          text: `Added “${result.data.passkey.name}”. You can sign in with it now. ${ended}`.trim(),
        });
        onCodes(result.data.recovery_codes);
        await Promise.all([reload(), reloadStatus()]);
      }
    } finally {
      setAdding(false);
    }
  }

  async function renameOne(passkey: Passkey, name: string): Promise<boolean> {
    setMessage(null);
    const result = await rename.run(passkey.id, name);
    if (!result.ok) return false;
    setMessage({ kind: "success", text: `Renamed “${passkey.name}” to “${name}”.` });
    await reload();
    return true;
  }

  async function removeOne(passkey: Passkey) {
    if (!window.confirm(`Remove “${passkey.name}”? You will no longer be able to sign in with it.`)) return;
    setMessage(null);
    if ((await remove.run(passkey.id)).ok) {
      setMessage({
        kind: "success",
        text: `Removed “${passkey.name}”; your other sessions were signed out. Delete it from the device or password manager too, so it is no longer offered.`,
      });
      await Promise.all([reload(), reloadStatus()]);
    }
  }

  const busy = adding || save.busy || rename.busy || remove.busy;
  return (
    <section className="card" aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">Passkeys</h2>
      <p className="meta">
        Sign in with your fingerprint, face or screen lock instead of a password. A passkey also counts as a second
        step after your password.
      </p>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      <Alert kind="error">{load.error ?? save.error ?? rename.error ?? remove.error}</Alert>
      {!list ? (
        !load.error && <Spinner label="Loading your passkeys…" />
      ) : list.length === 0 ? (
        <p className="meta">No passkey yet.</p>
      ) : (
        <ul className="methods" aria-label="Your passkeys">
          {list.map((passkey) => (
            <PasskeyItem
              key={passkey.id}
              passkey={passkey}
              busy={busy}
              onRename={(name) => renameOne(passkey, name)}
              onRemove={() => void removeOne(passkey)}
            />
          ))}
        </ul>
      )}
      {user && !user.is_verified ? (
        <VerifyFirst email={user.email} what="add a passkey" />
      ) : !status.passkeys_available ? (
        <Alert kind="info">{status.passkeys_unavailable_reason ?? "This server cannot register passkeys."}</Alert>
      ) : !supported ? (
        <Alert kind="info">This browser cannot make passkeys. Try a current browser on your phone or computer.</Alert>
      ) : (
        <form className="add-passkey" onSubmit={(event) => void add(event)} aria-label="Add a passkey">
          <Field
            label="Name for the new passkey"
            name="name"
            defaultValue={defaultPasskeyName(navigator.userAgent)}
            maxLength={PASSKEY_NAME_MAX}
            required
            hint="So you can tell your passkeys apart later."
          />
          {list && list.length > 0 ? (
            <label className="check">
              <input type="checkbox" name="end_others" defaultChecked /> Sign out my other sessions too
            </label>
          ) : (
            <p className="meta">Adding your first passkey signs out your other sessions.</p>
          )}
          <button type="submit" className="primary" disabled={busy} aria-busy={adding}>
            {adding ? "Waiting for your authenticator…" : "Add a passkey"}
          </button>
        </form>
      )}
    </section>
  );
}
