import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is a static single-page app served by `tiota server` from web/dist. For work on
// the console itself, `npx vite web` serves it with hot reload and passes /api on to a running
// server (TIOTA_SERVER, default http://127.0.0.1:8080); see docs/console.md.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/api': process.env.TIOTA_SERVER ?? 'http://127.0.0.1:8080' } },
});
