// Builds the web view into the control plane's dist/web, which src/web-assets.ts serves at `/`.
// `npm run dev -w @dbsnap/control-plane-web` serves it with hot reload, proxying /api to a
// control plane on DBSNAP_CP_URL (default http://127.0.0.1:8080).

import react from '@vitejs/plugin-react'
import { defaultClientConditions, defineConfig } from 'vite'

// The control plane replaces it with a fresh nonce per response (src/web-assets.ts).
const NONCE_PLACEHOLDER = '__DBSNAP_CSP_NONCE__'

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // The typed client and the scopes come from the control plane's sources, not its build.
  resolve: { conditions: ['@dbsnap/source', ...defaultClientConditions] },
  html: { cspNonce: NONCE_PLACEHOLDER },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // Monaco's chunk (about 2.7 MB), loaded only by the diff page's document view.
    chunkSizeWarningLimit: 3072,
  },
  server: {
    proxy: { '/api': process.env['DBSNAP_CP_URL'] ?? 'http://127.0.0.1:8080' },
  },
})
