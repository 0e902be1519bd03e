/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { defineConfig, type HtmlTagDescriptor, type Plugin, type Rollup } from "vite";

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
  let write = true;
  return {
    name: "glimpse-precompress",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
      write = config.build.write;
    },
    closeBundle() {
      // An in-memory build (src/i18n/chunks.test.ts) leaves dist alone.
      if (!write) return;
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

const IONIC_CORE = /node_modules[\\/]@ionic[\\/]core[\\/]/;
const REACT_DOM = /node_modules[\\/](react|react-dom|scheduler)[\\/]/;
const IONIC_COMPONENTS = fileURLToPath(new URL("./node_modules/@ionic/core/components/", import.meta.url));
/** Ionic components the first screen does not show (wrapped in src/components/ionic/later.ts). */
const LATER_COMPONENTS = ["input", "menu", "menu-toggle", "range", "refresher", "refresher-content", "segment",
  "segment-button", "textarea", "toggle", "modal", "popover", "alert", "toast", "checkbox", "radio", "radio-group"];
/**
 * Their modules: each `ion-x.js`, and the `p-*.js` module that holds its code when `ion-x.js` only
 * re-exports it (the modal's, the popover's, ...). Helpers they share with the first screen's
 * components stay in the first chunk.
 */
const LATER_IONIC = new Set(
  LATER_COMPONENTS.flatMap((name) => {
    const file = join(IONIC_COMPONENTS, `ion-${name}.js`);
    const code = readFileSync(file, "utf8");
    const body = /^import\{[^}]*\}from"\.\/(p-[\w-]+\.js)";const \w+=\w+,\w+=\w+;export\{/m.exec(code);
    return body ? [file, join(IONIC_COMPONENTS, body[1])] : [file];
  }),
);
const isLaterIonic = (id: string) => LATER_IONIC.has(id.split("?")[0]);
/** The module the app's `@ionic/react` imports resolve to (see there). */
const IONIC_REACT_FACADE = fileURLToPath(new URL("./src/components/ionic/react.ts", import.meta.url));

/** Resolves the app's `@ionic/react` to IONIC_REACT_FACADE; the facade's own import gets the package. */
function ionicReactFacade(): Plugin {
  return {
    name: "glimpse-ionic-react-facade",
    enforce: "pre",
    resolveId(source, importer) {
      if (source !== "@ionic/react" || !importer || importer.split("?")[0] === IONIC_REACT_FACADE) return null;
      if (importer.includes("/node_modules/")) return null;
      return IONIC_REACT_FACADE;
    },
  };
}

const EARLY_STATUS = "/src/session/earlyStatus.ts";

/**
 * Lists the dashboard's chunk (the home shell, lazy in App.tsx) and the chunks it imports as
 * modulepreload links in index.html: a phone fetches them with the entry instead of after
 * running it, which saved a round trip (0.6 s on a 3G link) before the first usable screen.
 * The login page pays a few KB more, fetched in parallel.
 */
function preloadDashboard(): Plugin {
  let base = "/";
  return {
    name: "glimpse-preload-dashboard",
    apply: "build",
    configResolved(config) {
      base = config.base;
    },
    transformIndexHtml: {
      order: "post",
      handler(_html, ctx) {
        const bundle = ctx.bundle;
        if (!bundle) return [];
        const chunks = Object.values(bundle).filter((c): c is Rollup.OutputChunk => c.type === "chunk");
        const facade = (c: Rollup.OutputChunk) => c.facadeModuleId?.replace(/\\/g, "/") ?? "";
        const home = chunks.find((c) => facade(c).endsWith("/src/pages/home/HomePage.tsx"));
        const early = chunks.find((c) => c.isEntry && facade(c).endsWith(EARLY_STATUS));
        const entry = chunks.find((c) => c.isEntry && c !== early);
        if (!home || !entry) return [];
        // The entries and their own imports are in the page already.
        const loaded = new Set([entry.fileName, ...entry.imports, ...(early ? [early.fileName, ...early.imports] : [])]);
        const files: string[] = [];
        const visit = (name: string) => {
          if (loaded.has(name)) return;
          loaded.add(name);
          files.push(name);
          const chunk = bundle[name];
          if (chunk?.type === "chunk") chunk.imports.forEach(visit);
        };
        visit(home.fileName);
        // The first screen's chunks and all they import: none of them may pull in the later components.
        const eager = new Set<string>();
        const follow = (name: string) => {
          const chunk = bundle[name];
          if (eager.has(name) || chunk?.type !== "chunk") return;
          eager.add(name);
          chunk.imports.forEach(follow);
        };
        [entry.fileName, ...(early ? [early.fileName] : []), home.fileName].forEach(follow);
        const pulled = [...eager].filter((name) => (bundle[name] as Rollup.OutputChunk).name === "ionic-later");
        if (pulled.length) {
          throw new Error(`the first screen imports ${pulled.join(", ")}: a component of it uses a later Ionic component`);
        }
        const tags = files.map(
          (file): HtmlTagDescriptor => ({
            tag: "link",
            attrs: { rel: "modulepreload", crossorigin: true, href: `${base}${file}` },
            injectTo: "head",
          }),
        );
        // The early status request, an entry of its own (see `input`): it runs as soon as its small
        // chunks arrive, while Ionic's is still downloading.
        if (early) {
          tags.unshift({
            tag: "script",
            attrs: { type: "module", crossorigin: true, src: `${base}${early.fileName}` },
            injectTo: "head-prepend",
          });
        }
        return tags;
      },
    },
  };
}

export default defineConfig({
  plugins: [ionicReactFacade(), react(), precompress(), preloadDashboard()],
  // apps/shared/src/react imports React without a node_modules of its own: it gets this app's one.
  resolve: { dedupe: ["react", "react-dom"] },
  server: {
    port: 8100,
    proxy: { "/glimpse": { target: api, changeOrigin: false } },
    // The code shared with the manager app sits beside this folder (apps/shared).
    fs: { allow: [".."] },
  },
  build: {
    outDir: "dist",
    chunkSizeWarningLimit: 1500,
    // dist/.vite/manifest.json: the chunk graph scripts/bundle-size.mjs checks (English out of the entry).
    manifest: true,
    rolldownOptions: {
      input: { index: "index.html", early: `.${EARLY_STATUS}` },
      output: {
        codeSplitting: {
          // Ionic's core in one chunk: left to itself the bundler cut a dozen small chunks out of it
          // (shared by the first chunk and the pages'), each one more request on a phone's link
          // (23 requests before the dashboard, now 11).
          // The components the first screen does not show (src/components/ionic/later.ts: forms, the
          // menu, the overlays, checkbox and radios) go to a chunk of their own, fetched after it: ~370 KB
          // the dashboard no longer compiles first. "ionic" goes first so that the helpers both share
          // stay in it.
          groups: [
            // React and React DOM with it: the later chunk uses them too (the overlays' createPortal), and
            // left to itself the bundler cut them out of the entry into one more chunk to fetch first.
            {
              name: "ionic",
              priority: 2,
              test: (id: string) => (IONIC_CORE.test(id) && !isLaterIonic(id)) || REACT_DOM.test(id),
            },
            { name: "ionic-later", priority: 1, test: isLaterIonic },
          ],
        },
      },
      treeshake: {
        // @ionic/react imports every Ionic component to wrap it; each component's module registers
        // its class at load (a call the bundler must keep), so all ~80 of them (1 MB) landed in the
        // first chunk. Only the definition has that effect, and it runs again when a wrapper is
        // used (defineCustomElement): unused components can go.
        moduleSideEffects: [{ test: /@ionic[\\/]core[\\/]components[\\/]ion-[^\\/]+\.js$/, sideEffects: false }],
        // Wrappers @ionic/react makes at load without a pure annotation (IonNav's): unused, they go too.
        manualPureFunctions: ["createReactComponent", "createForwardRef"],
      },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
