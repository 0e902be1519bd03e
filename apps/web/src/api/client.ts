// The user app's API client: the shared client (apps/shared/src/http.ts) with
// the user's token key and the API's address.

import { createClient } from "../../../shared/src/http";

export { ApiError } from "../../../shared/src/http";

const TOKEN_KEY = "glimpse.token";

// Same origin when the API serves the app; an absolute address for builds
// that run elsewhere (the Android app): VITE_API_BASE=https://api.example
const BASE = String(import.meta.env.VITE_API_BASE ?? "");

const client = createClient({ base: BASE, tokenKey: TOKEN_KEY });

export const { call, conditional, download, getToken, setToken, clearToken, onUnauthorized, lastRequestStartedAt } = client;
