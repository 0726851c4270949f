import { TokenManager } from "./tokenManager";

/** The one token manager of this tab. */
export const tokens = new TokenManager();
