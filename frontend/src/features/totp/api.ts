/** The authenticator app's routes (`/auth/mfa/totp...`) over the typed client. */
import { api } from "../../lib/api/client";
import type { components } from "../../lib/api/schema";

export type TotpSetup = components["schemas"]["TotpSetup"];

export const totp = {
  setup: () => api.POST("/auth/mfa/totp/setup"),
  confirm: (code: string) => api.POST("/auth/mfa/totp/confirm", { body: { code } }),
  disable: () => api.DELETE("/auth/mfa/totp"),
};
