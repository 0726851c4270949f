import { useEffect, useId, useRef } from "react";

import { ProofForm } from "../../components/ProofForm";
import { errorMessage } from "../../lib/api/errors";
import { secondFactors } from "../../lib/api/secondFactors";
import type { ConfirmMethod, Proof } from "../../lib/api/secondFactors";
import { useAuth } from "../../lib/session";

/**
 * "Confirm it's you": a modal that takes one proof (only the methods the server listed) and
 * POSTs it to /auth/confirm. `onDone(true)` once accepted; `onDone(false)` when dismissed.
 */
export function ConfirmDialog({ methods, onDone }: { methods: ConfirmMethod[]; onDone: (confirmed: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (typeof dialog.showModal === "function") {
      if (!dialog.open) dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
    return () => {
      if (typeof dialog.close === "function" && dialog.open) dialog.close();
    };
  }, []);

  async function prove(proof: Proof): Promise<string | null> {
    const { error } = await secondFactors.confirm(proof);
    if (error !== undefined) return errorMessage(error);
    onDone(true);
    return null;
  }

  return (
    <dialog
      ref={ref}
      className="confirm-dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault(); // Escape: closed through state, like Cancel
        onDone(false);
      }}
    >
      <h2 id={titleId}>Confirm it's you</h2>
      {methods.length === 0 ? (
        <SignInAgain onCancel={() => onDone(false)} />
      ) : (
        <>
          <p className="meta">For your safety, this change needs a fresh proof that it's you. It counts for a few minutes.</p>
          <ProofForm methods={methods} purpose={{ purpose: "confirm" }} submitLabel="Confirm" onProof={prove}>
            <button type="button" onClick={() => onDone(false)}>
              Cancel
            </button>
          </ProofForm>
        </>
      )}
    </dialog>
  );
}

/** An account with no password and no second factor (made by a provider) confirms by signing in. */
function SignInAgain({ onCancel }: { onCancel: () => void }) {
  const { logout } = useAuth();
  return (
    <>
      <p>Your account has no password or second factor to confirm with: sign in again, then make this change within a few minutes.</p>
      <div className="method-actions">
        <button
          type="button"
          className="primary"
          onClick={() => {
            onCancel();
            void logout();
          }}
        >
          Sign in again
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}
