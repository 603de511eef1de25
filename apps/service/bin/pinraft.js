#!/usr/bin/env node
// Runs the TypeScript sources with Node's type stripping (Node 24). Workspace packages are
// resolved to their sources through the `@pinraft/source` export condition, so nothing needs
// building first.
import { registerHooks } from 'node:module'

registerHooks({
  resolve(specifier, context, nextResolve) {
    const conditions = context.conditions.includes('@pinraft/source')
      ? context.conditions
      : ['@pinraft/source', ...context.conditions]
    return nextResolve(specifier, { ...context, conditions })
  },
})

await import('../src/cli/main.ts')
