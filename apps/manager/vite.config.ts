/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API serves the built app at /manager/; in development the API runs apart
// (`glimpse up`, port 5000) and the dev server forwards /glimpse to it.
declare const process: { env: Record<string, string | undefined> };
const api = process.env.GLIMPSE_API_URL ?? "http://127.0.0.1:5000";

export default defineConfig({
  base: "/manager/",
  plugins: [react()],
  // apps/shared/src/react imports React without a node_modules of its own: it gets this app's one.
  resolve: { dedupe: ["react", "react-dom"] },
  server: {
    port: 8101,
    proxy: { "/glimpse": { target: api, changeOrigin: false } },
    // The code shared with the user app sits beside this folder (apps/shared).
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
