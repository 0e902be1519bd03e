import type { CapacitorConfig } from "@capacitor/cli";

// Android build (documented in the README, not run by `make`):
//   npm run build && npx cap add android && npx cap sync android
// The app inside the APK is not served by the API, so it needs the API's
// address at build time: VITE_API_BASE=https://api.example npm run build.
const config: CapacitorConfig = {
  appId: "local.glimpse.app",
  appName: "Glimpse",
  webDir: "dist",
  android: { allowMixedContent: false },
};

export default config;
