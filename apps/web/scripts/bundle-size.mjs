// Prints the gzipped size of the built JavaScript (dist/assets/*.js) and
// fails when it is over the budget: `npm run build && npm run size`.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 600 * 1024;
const assets = join(import.meta.dirname, "..", "dist", "assets");
let raw = 0;
let gzipped = 0;
for (const name of readdirSync(assets).filter((n) => n.endsWith(".js"))) {
  const bytes = readFileSync(join(assets, name));
  raw += bytes.length;
  gzipped += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => (n / 1024).toFixed(1);
console.log(JSON.stringify({ js_bytes: raw, js_gzip_bytes: gzipped, js_gzip_kb: Number(kb(gzipped)), budget_kb: BUDGET_BYTES / 1024 }));
if (gzipped > BUDGET_BYTES) {
  console.error(`gzipped JavaScript is ${kb(gzipped)} KB, over the ${BUDGET_BYTES / 1024} KB budget`);
  process.exit(1);
}
