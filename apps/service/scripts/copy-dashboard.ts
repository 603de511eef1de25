// Part of `pnpm build`: copies the dashboard's build (turbo builds @pinraft/dashboard first, a
// dependency) into dist/ui, so that the service package carries it and `GET /ui` serves it with
// no network access and no workspace around it.
import { cpSync, existsSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const source = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url))
const target = fileURLToPath(new URL('../dist/ui/', import.meta.url))
if (!existsSync(`${source}index.html`)) {
  process.stderr.write(
    `the dashboard is not built (no ${source}index.html): run \`pnpm build\` at the repository root, or \`pnpm --filter @pinraft/dashboard build\` first\n`,
  )
  process.exit(1)
}
rmSync(target, { recursive: true, force: true })
cpSync(source, target, { recursive: true })
process.stdout.write(`dashboard copied to ${target}\n`)
