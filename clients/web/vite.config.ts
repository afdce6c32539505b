// Builds the dashboard into the Python package (server/event_registry/static/ui/), served at
// /ui. Content-hashed names make the build reproducible: tests/browser/test_dashboard_build.py
// rebuilds into a temporary directory and compares every file with the committed ones.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../../server/event_registry/static/ui", import.meta.url));

export default defineConfig({
  base: "/ui/",
  // Preact's automatic JSX runtime, without a framework plugin (no HMR needed).
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: process.env.DASHBOARD_OUT_DIR ?? outDir,
    emptyOutDir: true,
    sourcemap: false,
    // One script and one stylesheet: the page makes three requests, all to the server.
    modulePreload: false,
    reportCompressedSize: false,
  },
});
