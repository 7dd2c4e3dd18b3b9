import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;
// Where the server serves the page from (see README): PARLEY_WEB_OUT, else
// ../build/web next to the C++ build.
const outDir = process.env.PARLEY_WEB_OUT ? resolve(process.env.PARLEY_WEB_OUT) : resolve(root, '../build/web');
// `npm run dev` forwards the chat socket and the API to a running server.
const backend = process.env.PARLEY_DEV_BACKEND ?? 'http://127.0.0.1:3001';

export default defineConfig({
  root,
  base: '/',
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
  },
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    assetsDir: 'assets',
    // Every asset a file of its own: the CSP allows data: images, but the
    // favicon and friends are simpler to cache as files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        index: resolve(root, 'index.html'),
        admin: resolve(root, 'admin.html'),
      },
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  // `npm run preview` serves the build under the server's CSP, so a
  // violation shows up before it reaches the C++ side.
  preview: {
    headers: {
      'Content-Security-Policy':
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    },
  },
  server: {
    proxy: {
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
      '/api': { target: backend },
      '/health': { target: backend },
    },
  },
  test: {
    include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
    environment: 'node',
    restoreMocks: true,
  },
});
