/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `make dev`: Vite serves the app and forwards API calls to the backend. The Host header is
// kept (no changeOrigin), so the backend sees the same origin the browser does and its Origin
// check for login and refresh passes.
const api = process.env.API_URL ?? "http://127.0.0.1:8000";
const apiPaths = [
  "/auth", "/users", "/task", "/dev", "/health", "/docs", "/docs-assets", "/docs-static", "/openapi.json", "/.well-known",
];

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(apiPaths.map((path) => [path, { target: api, changeOrigin: false }])),
  },
  // No source maps in production builds: they would publish the whole source next to the app.
  // The dev server (`make dev`) still gives the browser its maps.
  build: { sourcemap: false },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
