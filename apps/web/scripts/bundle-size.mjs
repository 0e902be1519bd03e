// Prints the gzipped size of the built JavaScript (dist/assets/*.js) and of the entry chunk, and
// fails when the total is over the budget or when the entry's static imports hold the English
// dictionary (it must stay a chunk of its own, fetched only for English): `npm run build && npm run size`.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 600 * 1024;
const ENGLISH = "src/i18n/en.ts";
const dist = join(import.meta.dirname, "..", "dist");
const assets = join(dist, "assets");
const gzipSize = (bytes) => gzipSync(bytes, { level: 9 }).length;
let raw = 0;
let gzipped = 0;
for (const name of readdirSync(assets).filter((n) => n.endsWith(".js"))) {
  const bytes = readFileSync(join(assets, name));
  raw += bytes.length;
  gzipped += gzipSize(bytes);
}

// Vite's manifest (build.manifest in vite.config.ts): chunks by source, with their static imports.
const manifest = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8"));
const eager = new Set();
const visit = (key) => {
  if (eager.has(key) || !manifest[key]) return;
  eager.add(key);
  (manifest[key].imports ?? []).forEach(visit);
};
Object.keys(manifest).filter((key) => manifest[key].isEntry).forEach(visit);
const entry = manifest["index.html"];
const entryGzip = entry ? gzipSize(readFileSync(join(dist, entry.file))) : null;

const kb = (n) => (n / 1024).toFixed(1);
console.log(
  JSON.stringify({
    js_bytes: raw,
    js_gzip_bytes: gzipped,
    js_gzip_kb: Number(kb(gzipped)),
    budget_kb: BUDGET_BYTES / 1024,
    entry_chunk: entry?.file ?? null,
    entry_gzip_bytes: entryGzip,
  }),
);
let failed = false;
if (gzipped > BUDGET_BYTES) {
  console.error(`gzipped JavaScript is ${kb(gzipped)} KB, over the ${BUDGET_BYTES / 1024} KB budget`);
  failed = true;
}
if (!entry) {
  console.error("the manifest names no chunk for index.html");
  failed = true;
}
if (eager.has(ENGLISH) || !manifest[ENGLISH]?.isDynamicEntry) {
  console.error(`${ENGLISH} must be a chunk of its own, imported dynamically, outside the entry's static imports`);
  failed = true;
}
if (failed) process.exit(1);
