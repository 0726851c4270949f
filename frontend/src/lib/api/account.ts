/**
 * My account's life (issue 13) over the typed client: changing its address (confirmed from the
 * new address before anything changes), deleting it, and its security activity.
 */
import { api } from "./client";
import { nextCursor } from "./paging";
import type { components } from "./schema";

type Schemas = components["schemas"];

/** PATCH /users/me's answer: the link went to `new_email`, and works until `expires_at`. */
export type EmailChangeAccepted = Schemas["EmailChangeAccepted"];
export type PendingEmailChange = Schemas["PendingEmailChange"];

export const emailChange = {
  /** Ask to move my account to `email` (202): nothing changes until the new address confirms. */
  request: (email: string) => api.PATCH("/users/me", { body: { email } }),
  pending: () => api.GET("/users/me/email-change"),
  cancelMine: () => api.DELETE("/users/me/email-change"),
  /** The link mailed to the new address: the account moves there. Signed in to the account, or
   * with its `password`. */
  confirm: (token: string, password?: string) =>
    api.POST("/auth/email-change/confirm", { body: { token, ...(password === undefined ? {} : { password }) } }),
  /** The link mailed to the old address: the pending change is dropped. Needs no session. */
  cancel: (token: string) => api.POST("/auth/email-change/cancel", { body: { token } }),
};

/** The verification link: signed in to the account, or with its `password` (see proofing). */
export const verifyAddress = (token: string, password?: string) =>
  api.POST("/auth/verify", { body: { token, ...(password === undefined ? {} : { password }) } });

/** "This wasn't me": the account made with my address, never confirmed, is deleted at once. */
export const declineAccount = (token: string) => api.POST("/auth/verify/not-me", { body: { token } });

/** Mail a new verification link to `email` (202 whatever the address). */
export const resendVerification = (email: string) => api.POST("/auth/request-verify-token", { body: { email } });

/** Delete my account and everything in it; the server clears this browser's cookies. */
export const deleteMyAccount = () => api.DELETE("/users/me");

/** One entry of the security activity log ("device": "Firefox on Linux", as the server names it). */
export type ActivityEvent = Schemas["SecurityEventRead"];

/** A page of the log and the cursor of the next one (null on the last page). */
export interface ActivityPage {
  events: ActivityEvent[];
  next: string | null;
}

export const ACTIVITY_PAGE_SIZE = 20;

async function activityPage(
  call: Promise<{ data?: ActivityEvent[]; error?: unknown; response: Response }>,
): Promise<{ data?: ActivityPage; error?: unknown }> {
  const { data, error, response } = await call;
  if (error !== undefined) return { error };
  return { data: { events: data ?? [], next: nextCursor(response.headers.get("link")) } };
}

const pageQuery = (cursor: string | null) => ({ limit: ACTIVITY_PAGE_SIZE, ...(cursor ? { cursor } : {}) });

export const activity = {
  mine: (cursor: string | null) => activityPage(api.GET("/users/me/activity", { params: { query: pageQuery(cursor) } })),
  /** Superusers: someone else's. */
  ofUser: (id: string, cursor: string | null) =>
    activityPage(api.GET("/users/{id}/activity", { params: { path: { id }, query: pageQuery(cursor) } })),
};
