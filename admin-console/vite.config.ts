import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import license from 'rollup-plugin-license'

// The server serves dist/ at /admin/ (same origin as /api/v1, so no CORS). For `npm run dev`, the API is proxied
// to a dev server (WXMP_API_ORIGIN, default http://127.0.0.1:8080).
const api = process.env.WXMP_API_ORIGIN ?? 'http://127.0.0.1:8080'

export default defineConfig({
  base: '/admin/',
  plugins: [
    vue(),
    // The licence texts of every bundled library, next to the bundle (dist/THIRD-PARTY-LICENSES.txt).
    license({
      thirdParty: {
        includePrivate: false,
        output: {
          file: 'dist/THIRD-PARTY-LICENSES.txt',
        },
      },
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    // no source maps in the committed bundle; deterministic names from content hashes
    sourcemap: false,
  },
  server: { proxy: { '/api': api } },
  preview: { proxy: { '/api': api } },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'happy-dom',
  },
})
