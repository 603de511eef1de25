// Preloaded with `--import` into a `pinraft` process: writes every module URL the process
// resolved to the file named by PINRAFT_TEST_MODULES when it exits.
import { writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const resolved = new Set<string>()
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context)
    resolved.add(result.url)
    return result
  },
})
process.once('exit', () => {
  const target = process.env.PINRAFT_TEST_MODULES
  if (target !== undefined) writeFileSync(target, [...resolved].join('\n'))
})
