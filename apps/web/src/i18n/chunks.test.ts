// The production build's chunk graph (built in memory with the app's vite.config.ts): the English
// dictionary is a chunk of its own that the entry imports dynamically, never a static import a
// phone must download before the first screen.
import { fileURLToPath } from "node:url";
import { build, type Rollup } from "vite";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ENGLISH = /\/src\/i18n\/en\.ts$/;
const PORTUGUESE = /\/src\/i18n\/pt\.ts$/;

async function chunks(): Promise<Rollup.OutputChunk[]> {
  const result = await build({
    root: ROOT,
    configFile: `${ROOT}/vite.config.ts`,
    logLevel: "silent",
    build: { write: false },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
  return outputs.flatMap((o) => o.output.filter((c): c is Rollup.OutputChunk => c.type === "chunk"));
}

/** The entries' chunks and every chunk they import statically: what runs before the first screen. */
function eager(all: Rollup.OutputChunk[]): Rollup.OutputChunk[] {
  const byName = new Map(all.map((c) => [c.fileName, c]));
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    byName.get(name)?.imports.forEach(visit);
  };
  all.filter((c) => c.isEntry).forEach((c) => visit(c.fileName));
  return [...seen].map((name) => byName.get(name)!);
}

describe("the built chunks", () => {
  it("load English only on demand and pt-BR with the entry", async () => {
    const all = await chunks();
    const modules = (c: Rollup.OutputChunk) => c.moduleIds.map((id) => id.replace(/\\/g, "/"));
    const first = eager(all);
    expect(first.some((c) => c.isEntry)).toBe(true);
    expect(first.flatMap(modules).filter((id) => ENGLISH.test(id))).toEqual([]);
    expect(first.flatMap(modules).some((id) => PORTUGUESE.test(id))).toBe(true);

    const english = all.filter((c) => modules(c).some((id) => ENGLISH.test(id)));
    expect(english).toHaveLength(1);
    expect(english[0].isDynamicEntry).toBe(true);
    // Fetched by the chunk holding the catalog, which runs first.
    expect(first.some((c) => c.dynamicImports.includes(english[0].fileName))).toBe(true);
  }, 120_000);
});
