import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@pinraft/source'] },
  test: {
    name: '@pinraft/raft-core',
    include: ['test/**/*.test.ts'],
  },
})
