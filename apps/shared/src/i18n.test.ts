import { describe, expect, it } from "vitest";
import { createTranslator, detectLanguage, dictionaryProblems, fill } from "./i18n";

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
});
