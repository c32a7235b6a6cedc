import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = import.meta.dirname;

// `base: './'` keeps asset URLs relative, so one build loads from file:// in the desktop shell
// and from `/` on the hub.
export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: `${root}/dist`,
    emptyOutDir: true,
    // The hub's CSP forbids inline scripts and data: URLs; keep every asset a separate file.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
