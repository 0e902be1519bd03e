import { describe, expect, it } from "vitest";
import { createTranslator, dictionaryProblems } from "../../../shared/src/i18n";
import { catalog } from "./catalog";
import { en } from "./en";
import { pt, type MessageKey } from "./pt";

describe("manager texts", () => {
  it("has every text in both languages with the same placeholders", () => {
    expect(dictionaryProblems(pt, en)).toEqual([]);
  });

  it("fills placeholders", () => {
    const t = createTranslator<MessageKey>({ "pt-BR": pt, en });
    expect(t("en", "servers.lease", { s: 4 })).toBe("A server silent for more than 4 s is considered dead.");
    expect(t("pt-BR", "strategies.report", { n: 3, rate: "60%" })).toBe("3 sinais, acerto 60%");
  });

  it("fetches English only when asked", async () => {
    expect(catalog.has("en")).toBe(false);
    expect(catalog.translate("pt-BR", "menu.users")).toBe(pt["menu.users"]);
    expect(await catalog.load("en")).toBe(true);
    expect(catalog.translate("en", "menu.users")).toBe("Users");
  });
});
