import { defineProject } from 'vitest/config'

// The tests are the page's pure modules (parsing, rates, layout): no DOM, no build. The page
// itself is tested in Chromium by apps/service/test/ui.e2e.test.ts.
export default defineProject({
  test: { include: ['test/**/*.test.ts'], environment: 'node' },
  resolve: { conditions: ['@pinraft/source'] },
})
