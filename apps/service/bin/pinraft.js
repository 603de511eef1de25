#!/usr/bin/env node
// The `pinraft` command. It runs the TypeScript sources with Node's type stripping, which needs
// Node 24, so it checks the version first, in syntax any Node can parse, before loading anything.
const required = 24
const major = Number(process.versions.node.split('.')[0])
if (!(major >= required)) {
  process.stderr.write(
    `pinraft needs Node ${required} or newer; this is Node ${process.versions.node} (${process.execPath}).\n` +
      `Inside the pinraft repository, run it through pnpm, which uses the workspace's Node ${required}: pnpm exec pinraft ...\n` +
      `Elsewhere, install Node ${required} (https://nodejs.org, or \`nvm install ${required}\`) and make it the \`node\` on PATH.\n`,
  )
  process.exit(1)
}
// From a checkout (or `pnpm link --global`): the TypeScript sources, with workspace packages
// resolved to their sources through the `@pinraft/source` export condition, so nothing needs
// building. Installed as a package (`pnpm pack`, `pnpm deploy`): the build, because Node does
// not strip types under node_modules, where the installed dependencies are. A checkout is told
// apart by its tsconfig.json, which `files` leaves out of every package.
// Loading and compiling the program (types stripped) took most of a start: Node's compile
// cache (in the OS temporary folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off) skips it after
// the first run.
const { enableCompileCache } = await import('node:module')
enableCompileCache?.()
const { existsSync } = await import('node:fs')
const sources = new URL('../src/cli/main.ts', import.meta.url)
const checkout =
  !import.meta.url.includes('/node_modules/') &&
  existsSync(sources) &&
  existsSync(new URL('../tsconfig.json', import.meta.url))
if (checkout) {
  const { registerHooks } = await import('node:module')
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const conditions = context.conditions.includes('@pinraft/source')
        ? context.conditions
        : ['@pinraft/source', ...context.conditions]
      return nextResolve(specifier, { ...context, conditions })
    },
  })
  await import(sources.href)
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href)
}
