import { defineProject } from 'vitest/config'

// Vitest runs tests in Vite's SSR environment, which takes its conditions from `ssr.resolve`:
// without them `@pinraft/raft-core` resolves to its (unbuilt) dist.
const conditions = ['@pinraft/source']

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: '@pinraft/raft-level',
    include: ['test/**/*.test.ts'],
  },
})
