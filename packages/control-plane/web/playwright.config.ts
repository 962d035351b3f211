// Browser tests of the web view against the built control plane (`npm test` runs them after
// vitest). They use the system's Chromium (scripts/services.sh up installs it), never a
// browser Playwright downloads; screenshots go to test-output/web/.

import { defineConfig } from '@playwright/test'

export default defineConfig({
  testDir: './e2e',
  outputDir: '../../../test-output/web/results',
  reporter: [['list']],
  timeout: 30_000,
  // Two browsers, the control plane, its agent and the databases share two cores: a first
  // navigation has been seen to render 4 s after its data came (the connection page, CI run of
  // 2026-12-04). What must appear gets 15 s; a wrong page still fails, later.
  expect: { timeout: 15_000 },
  forbidOnly: true,
  fullyParallel: false,
  workers: 2,
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env['DBSNAP_CHROMIUM'] ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
})
