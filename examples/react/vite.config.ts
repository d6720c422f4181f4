import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `pnpm build`: the browser bundle (dist/client) and the server entry (dist/server), which
// leaves its dependencies to Node. In this repository `@jobwatch/widget` is a linked
// workspace package, which Vite would bundle; it is named here so that the server loads it
// from node_modules as it would in any other app.
export default defineConfig({
  plugins: [react()],
  ssr: { external: ['@jobwatch/widget'] },
});
