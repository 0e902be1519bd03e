// The one place the apps talk HTTP to the Glimpse API: it adds the token,
// turns {error, field} answers into ApiError, and on a 401 drops the token
// and hands control to the session (which goes back to the login page).
// Framework-free, so the user app, the manager app and their tests share it.

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

export type Method = "GET" | "POST";

/** A page of a manager list: the rows and the cursor of the next page (null on the last). */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** What a conditional request answered: new data, or null when the caller's copy is still good. */
export interface Conditional<T> {
  data: T | null;
  notModified: boolean;
  etag: string | null;
  headers: Headers;
}

/** The response header that carries the next page's cursor. */
export const NEXT_HEADER = "X-Glimpse-Next";

export interface KeyStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ClientOptions {
  /** "" for the same origin, or an absolute address ("https://api.example"). */
  base: string;
  /** Where the token is kept (each app has its own, so both can be logged in). */
  tokenKey: string;
  storage?: () => KeyStore;
  fetcher?: typeof fetch;
}

export function createClient(options: ClientOptions) {
  const base = options.base.replace(/\/+$/, "");
  const storage = options.storage ?? (() => localStorage);
  const fetcher = options.fetcher ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  let unauthorized: () => void = () => {};
  let lastStart = 0;

  function getToken(): string | null {
    try {
      return storage().getItem(options.tokenKey);
    } catch {
      return null;
    }
  }

  function setToken(token: string): void {
    storage().setItem(options.tokenKey, token);
  }

  function clearToken(): void {
    storage().removeItem(options.tokenKey);
  }

  async function send(
    route: string,
    body: object | undefined,
    method: Method,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...extra };
    if (method === "POST") headers["Content-Type"] = "application/json";
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    lastStart = Date.now();
    let response: Response;
    try {
      response = await fetcher(`${base}/glimpse/${route}`, {
        method,
        headers,
        body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
      });
    } catch (error) {
      throw new ApiError(0, error instanceof Error ? error.message : "network error");
    }
    if (response.status === 401 && token) {
      clearToken();
      unauthorized();
    }
    if (!response.ok && !(response.status === 304 && extra["If-None-Match"])) {
      const data: unknown = await response.json().catch(() => null);
      const { error, field } = (data ?? {}) as { error?: string; field?: string };
      throw new ApiError(response.status, error ?? response.statusText, field, data);
    }
    return response;
  }

  /** Call `/glimpse/<route>`: POST with a JSON body (GET without one). */
  async function call<T>(route: string, body?: object, method: Method = "POST"): Promise<T> {
    const response = await send(route, body, method);
    return (await response.json().catch(() => null)) as T;
  }

  /** One page of a paged list route: the array body and the X-Glimpse-Next cursor. */
  async function page<T>(route: string, body: object = {}): Promise<Page<T>> {
    const response = await send(route, body, "POST");
    const items = ((await response.json().catch(() => null)) ?? []) as T[];
    return { items, next: response.headers.get(NEXT_HEADER) };
  }

  /**
   * A POST that may answer 304 Not Modified: `etag` is the validator of the answer the caller
   * holds (sent as If-None-Match); `data` is null when it is still good.
   */
  async function conditional<T>(route: string, body: object, etag: string | null): Promise<Conditional<T>> {
    const response = await send(route, body, "POST", etag ? { "If-None-Match": etag } : {});
    const notModified = response.status === 304;
    const data = notModified ? null : ((await response.json().catch(() => null)) as T);
    return { data, notModified, etag: response.headers.get("ETag") ?? (notModified ? etag : null), headers: response.headers };
  }

  /** A route that answers a file (CSV export): its bytes. */
  async function download(route: string, body: object = {}): Promise<Blob> {
    const response = await send(route, body, "POST");
    return response.blob();
  }

  return {
    call,
    conditional,
    page,
    download,
    getToken,
    setToken,
    clearToken,
    /** What to do when the server says the token is no longer good (set by the session). */
    onUnauthorized(handler: () => void): void {
      unauthorized = handler;
    },
    /** When the last request started (ms since the epoch): pollers keep their distance from it. */
    lastRequestStartedAt(): number {
      return lastStart;
    },
  };
}

export type Client = ReturnType<typeof createClient>;
