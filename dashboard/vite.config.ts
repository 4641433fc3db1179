import { sveltekit } from "@sveltejs/kit/vite";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

// `npm run dev` (hot reload while working on a page) forwards the API's paths to a running
// mesh, so the page and the API share one origin as they do behind Envoy.
const api = process.env.PAYLOOPS_API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [tailwindcss(), sveltekit()],
  server: {
    host: "127.0.0.1",
    proxy: { "/v1": api, "/.well-known": api, "/health": api },
  },
});
