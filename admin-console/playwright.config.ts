import { defineConfig } from '@playwright/test'

// Debian's Chromium (apt-get install chromium fonts-noto-cjk): Playwright's own browser download does not work
// here. The flags keep it off the network this machine does not have.
export default defineConfig({
  testDir: 'tests/e2e',
  globalSetup: './tests/support/global-setup.ts',
  globalTeardown: './tests/support/global-teardown.ts',
  // one dev server, two cores: tests run one after another
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    locale: 'zh-CN',
    timezoneId: 'America/Los_Angeles', // the console shows Asia/Shanghai times whatever the browser's zone
    viewport: { width: 1400, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    trace: 'off',
  },
})
