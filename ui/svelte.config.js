// Svelte compiler options, shared by vite-plugin-svelte and svelte-check. Svelte 5 compiles the
// TypeScript in <script lang="ts"> itself, so there is no preprocessor.

/** @type {import("@sveltejs/vite-plugin-svelte").SvelteConfig} */
export default {
  compilerOptions: {
    runes: true,
  },
};
