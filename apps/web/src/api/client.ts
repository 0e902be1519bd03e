// The one place that talks HTTP: it adds the token, turns {error, field}
// answers into ApiError, and on a 401 drops the token and hands control to
// the session (which goes back to the login page).

const TOKEN_KEY = "glimpse.token";

// Same origin when the API serves the app; an absolute address for builds
// that run elsewhere (the Android app): VITE_API_BASE=https://api.example
const BASE = String(import.meta.env.VITE_API_BASE ?? "").replace(/\/+$/, "");

export class ApiError extends Error {
  readonly status: number; // 0: the server could not be reached
  readonly field?: string;
  readonly body?: unknown;

  constructor(status: number, message: string, field?: string, body?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.field = field;
    this.body = body;
  }
}

let unauthorized: () => void = () => {};
let lastStart = 0;

/** When the last request started (ms since the epoch): pollers keep their distance from it. */
export function lastRequestStartedAt(): number {
  return lastStart;
}

/** What to do when the server says the token is no longer good (set by the session). */
export function onUnauthorized(handler: () => void): void {
  unauthorized = handler;
}

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  localStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  localStorage.removeItem(TOKEN_KEY);
}

type Method = "GET" | "POST";

/** Call `/glimpse/<route>`: POST with a JSON body (GET without one). */
export async function call<T>(route: string, body?: object, method: Method = "POST"): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method === "POST") headers["Content-Type"] = "application/json";
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  lastStart = Date.now();
  try {
    response = await fetch(`${BASE}/glimpse/${route}`, {
      method,
      headers,
      body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
    });
  } catch (error) {
    throw new ApiError(0, error instanceof Error ? error.message : "network error");
  }
  const data: unknown = await response.json().catch(() => null);
  if (response.status === 401 && token) {
    clearToken();
    unauthorized();
  }
  if (!response.ok) {
    const { error, field } = (data ?? {}) as { error?: string; field?: string };
    throw new ApiError(response.status, error ?? response.statusText, field, data);
  }
  return data as T;
}
