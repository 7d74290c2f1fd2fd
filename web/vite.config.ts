/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The dev server proxies the API to a local Go server (make run, or
// `go run ./cmd/elasticpool run` with PORT); override with API_URL.
const apiURL = process.env.API_URL ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      '/api': { target: apiURL, changeOrigin: true },
      '/healthz': { target: apiURL, changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    // Pages are lazy chunks; the vendor libraries below are split so a page
    // change does not invalidate them.
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (!id.includes('node_modules')) return undefined;
          if (id.includes('echarts') || id.includes('zrender')) return 'echarts';
          if (id.includes('/antd/') || id.includes('@rc-component') || id.includes('@ant-design')) return 'antd';
          if (id.includes('react') || id.includes('scheduler')) return 'react';
          return undefined;
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    testTimeout: 20000,
    css: false,
  },
});
