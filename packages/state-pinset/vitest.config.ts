import { defineProject } from 'vitest/config'

// Vitest runs tests in Vite's SSR environment, which takes its conditions from `ssr.resolve`:
// without `@pinraft/source` there, `@pinraft/raft-core` resolves to its (unbuilt) dist. The
// server defaults follow it so that multiformats still resolves its Node entries.
const conditions = ['@pinraft/source', 'module', 'node', 'development|production']

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: '@pinraft/state-pinset',
    include: ['test/**/*.test.ts'],
  },
})
