/** The recovery codes' route over the typed client. */
import { api } from "../../lib/api/client";

export const recoveryCodes = {
  /** Ten new codes; with `endOtherSessions`, my other sessions are signed out too. */
  renew: (endOtherSessions = true) =>
    api.POST("/auth/mfa/recovery-codes", { body: { end_other_sessions: endOtherSessions } }),
};
