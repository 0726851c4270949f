import { useState } from "react";
import type { FormEvent } from "react";

import { Field } from "../../components/ui";
import { timeAgo } from "../../lib/device";
import type { Passkey } from "./api";

export const PASSKEY_NAME_MAX = 64;

function day(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
}

/** One passkey of the account: its name and dates; rename it in place, or remove it. */
export function PasskeyItem({
  passkey,
  busy,
  onRename,
  onRemove,
}: {
  passkey: Passkey;
  busy: boolean;
  /** Resolves true once renamed. */
  onRename: (name: string) => Promise<boolean>;
  onRemove: () => void;
}) {
  const [renaming, setRenaming] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("name") ?? "").trim();
    if (name === passkey.name || (await onRename(name))) setRenaming(false);
  }

  if (renaming) {
    return (
      <li className="method">
        <form className="rename-passkey" onSubmit={(event) => void submit(event)} aria-label={`Rename ${passkey.name}`}>
          <Field label="New name" name="name" defaultValue={passkey.name} maxLength={PASSKEY_NAME_MAX} required autoFocus />
          <div className="method-actions">
            <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
              Save
            </button>
            <button type="button" onClick={() => setRenaming(false)}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li className="method">
      <div className="passkey-info">
        <strong>{passkey.name}</strong>
        {passkey.backed_up && (
          <span className="badge ok" title="Your password manager or platform keeps a copy, on your other devices too">
            synced
          </span>
        )}
        <div className="meta">
          Added on {day(passkey.created_at)} ·{" "}
          {passkey.last_used_at ? `last used ${timeAgo(passkey.last_used_at)}` : "not used yet"}
        </div>
      </div>
      <div className="method-actions">
        <button type="button" disabled={busy} onClick={() => setRenaming(true)} aria-label={`Rename ${passkey.name}`}>
          Rename
        </button>
        <button type="button" className="danger" disabled={busy} onClick={onRemove} aria-label={`Remove ${passkey.name}`}>
          Remove
        </button>
      </div>
    </li>
  );
}
