import { defineConfig } from 'vitest/config'

// One project per workspace package: `pnpm exec vitest` at the root runs them all, while each
// package's own `test` script (run by turbo) runs just its project.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tests/*'],
  },
})
