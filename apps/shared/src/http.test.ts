import { describe, expect, it } from "vitest";
import { ApiError, createClient, type KeyStore } from "./http";

function memory(): KeyStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

interface Seen {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: () => Response, seen: Seen[]): typeof fetch {
  return (async (url: RequestInfo | URL, init?: RequestInit) => {
    seen.push({ url: String(url), init: init ?? {} });
    return answer();
  }) as typeof fetch;
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

describe("the API client", () => {
  it("posts JSON with the token of its own key", async () => {
    const store = memory();
    const seen: Seen[] = [];
    const client = createClient({ base: "http://api/", tokenKey: "k", storage: () => store, fetcher: fakeFetch(() => json({ res: 1 }), seen) });
    client.setToken("T");
    expect(await client.call("getUsers", { q: "ana" })).toEqual({ res: 1 });
    expect(seen[0].url).toBe("http://api/glimpse/getUsers");
    expect((seen[0].init.headers as Record<string, string>).Authorization).toBe("Bearer T");
    expect(seen[0].init.body).toBe('{"q":"ana"}');
    expect(store.data.get("k")).toBe("T");
  });

  it("turns an error answer into ApiError with the field", async () => {
    const client = createClient({ base: "", tokenKey: "k", storage: memory, fetcher: fakeFetch(() => json({ error: "bad", field: "days" }, 400), []) });
    const failure = await client.call("grantPremiumDays").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(400);
    expect((failure as ApiError).field).toBe("days");
  });

  it("drops the token and calls the session on a 401", async () => {
    const store = memory();
    let told = 0;
    const client = createClient({ base: "", tokenKey: "k", storage: () => store, fetcher: fakeFetch(() => json({ error: "expired" }, 401), []) });
    client.setToken("old");
    client.onUnauthorized(() => told++);
    await expect(client.call("getOverview")).rejects.toBeInstanceOf(ApiError);
    expect(told).toBe(1);
    expect(client.getToken()).toBeNull();
  });

  it("reports an unreachable server as status 0", async () => {
    const failing = (async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof fetch;
    const client = createClient({ base: "", tokenKey: "k", storage: memory, fetcher: failing });
    const failure = (await client.call("x").catch((e: unknown) => e)) as ApiError;
    expect(failure.status).toBe(0);
  });

  it("reads a page and the next cursor from the header", async () => {
    let n = 0;
    const answers = [json([{ a: 1 }, { a: 2 }], 200, { "X-Glimpse-Next": "abc" }), json([{ a: 3 }])];
    const seen: Seen[] = [];
    const client = createClient({ base: "", tokenKey: "k", storage: memory, fetcher: fakeFetch(() => answers[n++], seen) });
    const first = await client.page<{ a: number }>("getUsers", { limit: 2 });
    expect(first).toEqual({ items: [{ a: 1 }, { a: 2 }], next: "abc" });
    const second = await client.page<{ a: number }>("getUsers", { limit: 2, cursor: first.next });
    expect(second).toEqual({ items: [{ a: 3 }], next: null });
    expect(JSON.parse(String(seen[1].init.body))).toEqual({ limit: 2, cursor: "abc" });
  });

  it("sends the validator it holds and reads a bodiless 304 as unchanged", async () => {
    let n = 0;
    const answers = [
      json({ v: 1 }, 200, { ETag: 'W/"a"' }),
      new Response(null, { status: 304, headers: { ETag: 'W/"a"', "X-Glimpse-Server-Time": "12.5" } }),
    ];
    const seen: Seen[] = [];
    const client = createClient({ base: "", tokenKey: "k", storage: memory, fetcher: fakeFetch(() => answers[n++], seen) });
    const first = await client.conditional<{ v: number }>("status", {}, null);
    expect(first).toMatchObject({ data: { v: 1 }, notModified: false, etag: 'W/"a"' });
    expect((seen[0].init.headers as Record<string, string>)["If-None-Match"]).toBeUndefined();
    const second = await client.conditional<{ v: number }>("status", {}, first.etag);
    expect(second).toMatchObject({ data: null, notModified: true, etag: 'W/"a"' });
    expect(second.headers.get("X-Glimpse-Server-Time")).toBe("12.5");
    expect((seen[1].init.headers as Record<string, string>)["If-None-Match"]).toBe('W/"a"');
  });

  it("treats a 304 it did not ask for as an error", async () => {
    const client = createClient({ base: "", tokenKey: "k", storage: memory, fetcher: fakeFetch(() => new Response(null, { status: 304 }), []) });
    await expect(client.call("status")).rejects.toBeInstanceOf(ApiError);
  });
});
