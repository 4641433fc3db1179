import adapter from "@sveltejs/adapter-static";
import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // A single-page app: every route is rendered in the browser from one fallback page, which
    // Envoy serves for the app's paths (cli/dashboard_routes.py). Nothing is pre-rendered: each
    // page needs the signed-in user's data.
    adapter: adapter({ pages: "build", assets: "build", fallback: "index.html", strict: true }),
  },
};
