import { act } from "react";
import { createRoot } from "react-dom/client";
import type { Root } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { CANCELLED, useConfirmed } from "../../lib/confirmation";
import { passwordProof, ProofMethods } from "../../lib/proofs";
import type { TextProof } from "../../lib/proofs";
import { ConfirmProvider } from "./ConfirmProvider";

const confirm = vi.hoisted(() => vi.fn());
vi.mock("../../lib/api/secondFactors", () => ({ secondFactors: { confirm } }));
const auth = vi.hoisted(() => ({ state: { status: "signed-in" }, logout: async () => undefined }));
vi.mock("../../lib/session", () => ({ useAuth: () => auth }));

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const REQUIRED = { detail: { code: "CONFIRMATION_REQUIRED", reason: "Confirm it's you.", methods: ["password", "totp"] } };

type Result = { data?: string; error?: unknown };

/** A second method as a factor feature would describe one (the app's are in app/proofMethods.ts). */
const appCode: TextProof = {
  method: "totp",
  switchLabel: "Use your authenticator app",
  kind: "text",
  field: { label: "Authenticator code" },
  proof: (value) => ({ code: value.replaceAll(" ", "") }),
};

function Probe({ action, onResult }: { action: () => Promise<Result>; onResult: (result: Result) => void }) {
  const confirmed = useConfirmed();
  return (
    <button type="button" onClick={() => void confirmed(action)().then(onResult)}>
      Change something
    </button>
  );
}

const flush = () => act(async () => new Promise((resolve) => setTimeout(resolve, 0)));

function byText<T extends HTMLElement>(container: ParentNode, selector: string, text: string): T {
  const found = [...container.querySelectorAll<T>(selector)].find((element) => element.textContent?.trim() === text);
  if (!found) throw new Error(`no ${selector} "${text}"`);
  return found;
}

function field(container: ParentNode, label: string): HTMLInputElement {
  const id = byText<HTMLLabelElement>(container, "label", label).htmlFor;
  return (container as Element).ownerDocument.getElementById(id) as HTMLInputElement;
}

describe("ConfirmProvider", () => {
  let root: Root;
  let container: HTMLDivElement;

  beforeEach(() => {
    confirm.mockReset();
    auth.state = { status: "signed-in" };
    container = document.createElement("div");
    document.body.append(container);
    root = createRoot(container);
  });

  afterEach(() => {
    act(() => root.unmount());
    container.remove();
  });

  const results: Result[] = [];
  const show = (action: () => Promise<Result>) =>
    act(() =>
      root.render(
        <ProofMethods value={[passwordProof, appCode]}>
          <ConfirmProvider>
            <Probe action={action} onResult={(result) => results.push(result)} />
          </ConfirmProvider>
        </ProofMethods>,
      ),
    );

  async function start(action: () => Promise<Result>) {
    results.length = 0;
    show(action);
    await act(async () => byText(container, "button", "Change something").click());
    await flush();
    return results;
  }

  it("asks for a listed method, confirms, and runs the action once more", async () => {
    const action = vi.fn<() => Promise<Result>>().mockResolvedValueOnce({ error: REQUIRED }).mockResolvedValueOnce({ data: "done" });
    const results = await start(action);

    const dialog = container.querySelector("dialog")!;
    expect(dialog.querySelector("h2")?.textContent).toBe("Confirm it's you");
    field(dialog, "Your password").value = "my password";
    confirm.mockResolvedValueOnce({ data: { confirmed_until: "2026-11-23T12:05:00Z" } });
    await act(async () => byText(dialog, "button", "Confirm").click());
    await flush();

    expect(confirm.mock.calls).toEqual([[{ current_password: "my password" }]]);
    expect(action).toHaveBeenCalledTimes(2);
    expect(results).toEqual([{ data: "done" }]);
    expect(container.querySelector("dialog")).toBeNull();
  });

  it("stays open on a wrong proof, takes another method, and gives up quietly on Cancel", async () => {
    const action = vi.fn<() => Promise<Result>>().mockResolvedValue({ error: REQUIRED });
    const results = await start(action);
    const dialog = container.querySelector("dialog")!;

    await act(async () => byText(dialog, "button", "Use your authenticator app").click());
    field(dialog, "Authenticator code").value = "123 456";
    confirm.mockResolvedValueOnce({ error: { detail: { code: "CONFIRMATION_INVALID", reason: "That code is wrong." } } });
    await act(async () => byText(dialog, "button", "Confirm").click());
    await flush();

    expect(confirm.mock.calls).toEqual([[{ code: "123456" }]]);
    expect(dialog.querySelector("[role=alert]")?.textContent).toBe("That code is wrong.");
    expect(container.querySelector("dialog")).toBe(dialog);

    await act(async () => byText(dialog, "button", "Cancel").click());
    await flush();
    expect(results).toEqual([{ error: CANCELLED }]);
    expect(action).toHaveBeenCalledTimes(1);
    expect(container.querySelector("dialog")).toBeNull();
  });

  it("gives up when the person is signed out meanwhile", async () => {
    const action = vi.fn<() => Promise<Result>>().mockResolvedValue({ error: REQUIRED });
    const results = await start(action);
    expect(container.querySelector("dialog")).not.toBeNull();

    auth.state = { status: "signed-out" };
    show(action);
    await flush();

    expect(container.querySelector("dialog")).toBeNull();
    expect(results).toEqual([{ error: CANCELLED }]);
  });
});
