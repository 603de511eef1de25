import { defineProject } from 'vitest/config'

// Vitest runs tests in Vite's SSR environment, which takes its conditions from `ssr.resolve`:
// without `@pinraft/source` there, the workspace packages resolve to their (unbuilt) dist.
const conditions = ['@pinraft/source', 'module', 'node', 'development|production']

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: '@pinraft/service',
    include: ['test/**/*.test.ts'],
    // The end-to-end file runs real daemons: never run files side by side on 2 cores.
    fileParallelism: false,
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
})
