// The built UI goes to app/ccmgr/webui/, which ccmgr serves when frontend_path is unset
// (and which the wheel and the .deb carry as package data).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "../ccmgr/webui",
    emptyOutDir: true,
    // CSP forbids inline script/style: no inlined assets, no module preload polyfill inline.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
});
