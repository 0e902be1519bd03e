import { describe, expect, it } from "vitest";
import { createCatalog, createLanguageChooser, createTranslator, detectLanguage, dictionaryProblems, fill, type Language } from "./i18n";

type Key = "hello" | "only";
const PT: Record<Key, string> = { hello: "olá {name}", only: "só em português" };
const EN = { hello: "hello {name}" } as Record<Key, string>;

/** A loader whose promise the test settles, counting its calls. */
function deferredLoader() {
  const calls: { resolve: (d: Record<Key, string>) => void; reject: (e: Error) => void }[] = [];
  const loader = () =>
    new Promise<Record<Key, string>>((resolve, reject) => {
      calls.push({ resolve, reject });
    });
  return { loader, calls };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("i18n core", () => {
  it("follows the stored choice, then the browser", () => {
    expect(detectLanguage("en", ["pt-BR"])).toBe("en");
    expect(detectLanguage(null, ["pt-PT"])).toBe("pt-BR");
    expect(detectLanguage(null, ["fr", "en-US"])).toBe("en");
    expect(detectLanguage("xx", ["de"])).toBe("en");
  });

  it("fills placeholders and keeps unknown ones", () => {
    expect(fill("{n} velas de {x}", { n: 3 })).toBe("3 velas de {x}");
  });

  it("falls back to pt-BR, then to the key", () => {
    const t = createTranslator<"a" | "b">({ "pt-BR": { a: "um {n}", b: "dois" }, en: { a: "one {n}" } as Record<"a" | "b", string> });
    expect(t("en", "a", { n: 1 })).toBe("one 1");
    expect(t("en", "b")).toBe("dois");
  });

  it("finds missing keys and mismatched placeholders", () => {
    expect(dictionaryProblems({ a: "{n} x", b: "y" }, { a: "x", c: "z" })).toEqual([
      "placeholders of a",
      "missing b",
      "extra c",
    ]);
  });

  it("loads a language on first use, once, and translates it after", async () => {
    const { loader, calls } = deferredLoader();
    const catalog = createCatalog<Key>(PT, { en: loader });
    expect(catalog.has("pt-BR")).toBe(true);
    expect(catalog.has("en")).toBe(false);
    expect(calls).toHaveLength(0); // nothing fetched until asked
    const first = catalog.load("en");
    const second = catalog.load("en");
    expect(calls).toHaveLength(1);
    calls[0].resolve(EN);
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(catalog.has("en")).toBe(true);
    expect(catalog.translate("en", "hello", { name: "Ana" })).toBe("hello Ana");
    expect(catalog.translate("en", "only")).toBe("só em português");
    expect(await catalog.load("en")).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it("retries a dictionary that failed to load", async () => {
    const { loader, calls } = deferredLoader();
    const catalog = createCatalog<Key>(PT, { en: loader });
    const failed = catalog.load("en");
    calls[0].reject(new Error("offline"));
    expect(await failed).toBe(false);
    expect(catalog.has("en")).toBe(false);
    const retried = catalog.load("en");
    expect(calls).toHaveLength(2);
    calls[1].resolve(EN);
    expect(await retried).toBe(true);
  });

  it("keeps the screen's language until the chosen one's texts arrive", async () => {
    const { loader, calls } = deferredLoader();
    const shown: Language[] = [];
    const choose = createLanguageChooser(createCatalog<Key>(PT, { en: loader }), (l) => shown.push(l));
    choose("pt-BR");
    expect(shown).toEqual(["pt-BR"]);
    choose("en");
    await settle();
    expect(shown).toEqual(["pt-BR"]);
    calls[0].resolve(EN);
    await settle();
    expect(shown).toEqual(["pt-BR", "en"]);
  });

  it("drops a choice overtaken by a later one", async () => {
    const { loader, calls } = deferredLoader();
    const shown: Language[] = [];
    const choose = createLanguageChooser(createCatalog<Key>(PT, { en: loader }), (l) => shown.push(l));
    choose("en");
    choose("pt-BR");
    calls[0].resolve(EN);
    await settle();
    expect(shown).toEqual(["pt-BR"]);
  });

  it("shows pt-BR when the first language's texts cannot be fetched, and keeps the screen on a later failure", async () => {
    const { loader, calls } = deferredLoader();
    const shown: Language[] = [];
    const choose = createLanguageChooser(createCatalog<Key>(PT, { en: loader }), (l) => shown.push(l));
    choose("en");
    calls[0].reject(new Error("offline"));
    await settle();
    expect(shown).toEqual(["pt-BR"]);
    choose("en");
    calls[1].reject(new Error("offline"));
    await settle();
    expect(shown).toEqual(["pt-BR"]);
  });
});
