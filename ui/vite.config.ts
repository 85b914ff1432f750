// Vite and Vitest configuration for the webview. The dev server is what tauri.conf.json's devUrl points
// at; the build goes to dist/ (frontendDist) and must satisfy the app's strict CSP (scripts/verify-dist.mjs).

/// <reference types="vitest/config" />
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // Never turn assets into data: URLs: the CSP allows fonts and styles from 'self' only.
    assetsInlineLimit: 0,
    // Every webview Tauri targets supports <link rel="modulepreload">.
    modulePreload: { polyfill: false },
    // The app, and the UI benchmark's floor: a page that only subscribes to a Channel and paints (src/floor.ts).
    rolldownOptions: {
      input: {
        index: fileURLToPath(new URL("index.html", import.meta.url)),
        floor: fileURLToPath(new URL("floor.html", import.meta.url)),
      },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    benchmark: { include: ["bench/**/*.bench.ts"] },
  },
});
