import { TokenManager } from "./tokenManager";

/** The CSRF cookie lives exactly as long as the refresh cookie (backend/apps/auth/sessions/cookies.py)
 * and, unlike it, scripts can read it: without it there is no session to restore. */
const CSRF_COOKIE = /(?:^|;\s*)FARM_csrf=[^;]/;

/** The one token manager of this tab. */
export const tokens = new TokenManager({ mayHaveSession: () => CSRF_COOKIE.test(document.cookie) });
