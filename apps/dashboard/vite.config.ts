import { defineConfig } from 'vite'

// The service serves the build at /ui on the API's own listener: every URL in it is under /ui/,
// and nothing is loaded from anywhere else (no CDN, system fonts only).
export default defineConfig({
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    emptyOutDir: true,
    sourcemap: false,
  },
})
