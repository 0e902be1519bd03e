/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

// In development the API runs apart (`glimpse up`, port 5000): the dev server
// forwards /glimpse to it, so the app keeps using relative URLs as it does
// when the API serves the built app on the same origin.
const api = process.env.GLIMPSE_API_URL ?? "http://127.0.0.1:5000";

/**
 * Writes `name.br` and `name.gz` beside each built script and stylesheet, at the
 * best levels, so the API (api/webapp.py) serves them compressed without spending
 * its own CPU on it.
 */
function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "glimpse-precompress",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const assets = join(outDir, "assets");
      for (const name of readdirSync(assets).filter((n) => /\.(js|css)$/.test(n))) {
        const raw = readFileSync(join(assets, name));
        writeFileSync(
          join(assets, `${name}.br`),
          brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
        );
        writeFileSync(join(assets, `${name}.gz`), gzipSync(raw, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  server: {
    port: 8100,
    proxy: { "/glimpse": { target: api, changeOrigin: false } },
    // The code shared with the manager app sits beside this folder (apps/shared).
    fs: { allow: [".."] },
  },
  build: {
    outDir: "dist",
    chunkSizeWarningLimit: 1500,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
