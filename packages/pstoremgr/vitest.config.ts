import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@pinraft/source'] },
  test: {
    name: '@pinraft/pstoremgr',
    include: ['test/**/*.test.ts'],
  },
})
