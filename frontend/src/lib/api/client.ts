import createClient from "openapi-fetch";

import { tokens } from "../tokens/tokens";
import type { components, paths } from "./schema";

/** The typed API client: every call goes through the token manager (Bearer, refresh on 401). */
export const api = createClient<paths>({ fetch: (request) => tokens.fetch(request) });

export type User = components["schemas"]["UserRead"];
export type Task = components["schemas"]["TaskRead"];
export type Session = components["schemas"]["SessionRead"];

/** The login form is OAuth2's: form-encoded (openapi-fetch encodes it for this header). */
export const formBody = { headers: { "Content-Type": "application/x-www-form-urlencoded" } };
