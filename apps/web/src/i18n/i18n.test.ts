import { describe, expect, it } from "vitest";
import { catalog, detectLanguage } from "./core";
import { en } from "./en";
import { pt } from "./pt";

describe("languages", () => {
  it("follows the stored choice, then the browser", () => {
    expect(detectLanguage("en", ["pt-BR"])).toBe("en");
    expect(detectLanguage(null, ["pt-BR", "en"])).toBe("pt-BR");
    expect(detectLanguage(null, ["pt-PT"])).toBe("pt-BR");
    expect(detectLanguage(null, ["fr-FR", "en-US"])).toBe("en");
    expect(detectLanguage("xx", ["de"])).toBe("en");
  });

  it("fetches English when asked, then fills placeholders and keeps unknown ones", async () => {
    expect(catalog.translate("pt-BR", "strategy.candles", { n: 5 })).toBe("5 velas");
    expect(catalog.has("en")).toBe(false);
    expect(await catalog.load("en")).toBe(true);
    expect(catalog.translate("en", "strategy.candles", { n: 5 })).toBe("5 candles");
    expect(catalog.translate("en", "reset.sent")).toBe("We sent a code to {email}.");
  });

  it("has every text in both languages with the same placeholders", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(pt).sort());
    const holes = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(pt) as (keyof typeof pt)[]) {
      expect(holes(en[key]), key).toEqual(holes(pt[key]));
      expect(en[key].trim(), key).not.toBe("");
    }
  });
});
