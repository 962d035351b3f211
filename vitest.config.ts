// Test projects: one unit project per package (fast, no services) and one integration project
// that runs against the real servers started by scripts/services.sh.

import { defineConfig } from 'vitest/config'

const packages = ['engine', 'cli', 'agent', 'control-plane'] as const

/** Resolve workspace packages to their TypeScript sources, so unit tests need no build. */
const sourceConditions = ['@dbsnap/source']

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    allowOnly: false,
    passWithNoTests: false,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: {
          name: `${name}-unit`,
          include: [`packages/${name}/src/**/*.test.{ts,tsx}`],
        },
      })),
      {
        extends: true as const,
        test: { name: 'web-unit', include: ['packages/control-plane/web/src/**/*.test.{ts,tsx}'] },
      },
      {
        extends: true as const,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.{ts,tsx}'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
