import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is a static single-page app served by `tiota server` from web/dist.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
});
