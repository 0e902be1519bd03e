import { describe, expect, it } from "vitest";
import { detectLanguage, dictionary, translate } from "./core";

describe("languages", () => {
  it("follows the stored choice, then the browser", () => {
    expect(detectLanguage("en", ["pt-BR"])).toBe("en");
    expect(detectLanguage(null, ["pt-BR", "en"])).toBe("pt-BR");
    expect(detectLanguage(null, ["pt-PT"])).toBe("pt-BR");
    expect(detectLanguage(null, ["fr-FR", "en-US"])).toBe("en");
    expect(detectLanguage("xx", ["de"])).toBe("en");
  });

  it("fills placeholders and keeps unknown ones", () => {
    expect(translate("pt-BR", "strategy.candles", { n: 5 })).toBe("5 velas");
    expect(translate("en", "strategy.candles", { n: 5 })).toBe("5 candles");
    expect(translate("en", "reset.sent")).toBe("We sent a code to {email}.");
  });

  it("has every text in both languages with the same placeholders", () => {
    const pt = dictionary("pt-BR");
    const en = dictionary("en");
    expect(Object.keys(en).sort()).toEqual(Object.keys(pt).sort());
    const holes = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(pt) as (keyof typeof pt)[]) {
      expect(holes(en[key]), key).toEqual(holes(pt[key]));
      expect(en[key].trim(), key).not.toBe("");
    }
  });
});
