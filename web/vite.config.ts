import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The bundle carries no deployment settings: the page reads /config.json from the web server at start.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
});
