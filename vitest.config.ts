import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The example fleet's VM credentials are encrypted with this vault password (as in npm start).
    env: { SITEFORGE_VAULT_PASSWORD: 'example-fleet-only' },
  },
});
