import { useEffect, useId, useRef, useState } from "react";

import { Alert } from "../../components/ui";
import { recoveryCodesFileName, recoveryCodesText } from "./codesFile";

/** Save `text` as a file through the browser's download. */
function download(text: string, fileName: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * New recovery codes, shown this once: copy them, download them, then say they are saved. The
 * server keeps only their hashes, so nothing can show them again.
 */
export function RecoveryCodesPanel({ codes, account, onDone }: { codes: string[]; account: string; onDone: () => void }) {
  const titleId = useId();
  const title = useRef<HTMLHeadingElement>(null);
  const [made] = useState(() => new Date());
  const [notice, setNotice] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const text = recoveryCodesText(codes, account, made);

  // The button that brought them is gone: bring the codes into view, and focus with them.
  useEffect(() => {
    title.current?.focus();
  }, []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setNotice({ kind: "success", text: "The codes are on your clipboard: paste them somewhere safe." });
    } catch {
      setNotice({ kind: "error", text: "Your browser did not allow copying: select the codes and copy them yourself." });
    }
  }

  return (
    <section className="recovery-codes" aria-labelledby={titleId}>
      <h3 id={titleId} ref={title} tabIndex={-1}>
        Your recovery codes
      </h3>
      <p className="alert alert-info">
        <strong>Store these now; they will not be shown again.</strong> Each code works once, to sign in when you
        cannot use your authenticator app or passkey.
      </p>
      <ol className="codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      <div className="method-actions">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" onClick={() => download(text, recoveryCodesFileName(made))}>
          Download as .txt
        </button>
        <button type="button" className="primary" onClick={onDone}>
          I have saved them
        </button>
      </div>
    </section>
  );
}
