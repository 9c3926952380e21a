/**
 * Vite build of the web UI: Preact via @preact/preset-vite, served from `/`, written to
 * frontend/dist. The manifest lets scripts/check-bundle.ts tell the initial bundle from lazy chunks.
 */
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `vite` dev mode against a running API (the canned dev server or `estafette start`).
    proxy: { '/api': process.env.ESTAFETTE_URL ?? 'http://localhost:5174' },
  },
});
