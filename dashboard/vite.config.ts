import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The built assets ship inside the Python package (src/ado/dashboard/dist), served by
// `ado serve` at `/`. In development, `npm run dev` proxies the API to a running server.
const outDir = fileURLToPath(new URL("../src/ado/dashboard/dist", import.meta.url));
const apiTarget = process.env.ADO_API_URL ?? "http://127.0.0.1:8080";
const apiOrigin = new URL(apiTarget).origin;

/** Swagger UI's files (npm swagger-ui-dist) in dist/swagger-ui/: `ado serve` serves them
 * there, and /api/docs (ado.api.routes.docs) loads them rather than a CDN's. */
function swaggerUi(): Plugin {
  const files = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"];
  const dir = new URL("./node_modules/swagger-ui-dist/", import.meta.url);
  return {
    name: "ado-swagger-ui",
    apply: "build",
    generateBundle() {
      for (const name of files) {
        this.emitFile({ type: "asset", fileName: `swagger-ui/${name}`, source: readFileSync(new URL(name, dir)) });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), tailwindcss(), swaggerUi()],
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `ado serve` answers only its own Host and Origin (docs/api.md, "Access"): the proxy
    // presents the dev server's requests as the server's own pages.
    proxy: {
      "/api": { target: apiTarget, ws: true, changeOrigin: true, headers: { origin: apiOrigin } },
      "/health": { target: apiTarget, changeOrigin: true },
    },
  },
});
