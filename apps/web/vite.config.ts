/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// In development the API runs apart (`glimpse up`, port 5000): the dev server
// forwards /glimpse to it, so the app keeps using relative URLs as it does
// when the API serves the built app on the same origin.
const api = process.env.GLIMPSE_API_URL ?? "http://127.0.0.1:5000";

export default defineConfig({
  plugins: [react()],
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
