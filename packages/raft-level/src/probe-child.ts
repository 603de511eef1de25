/**
 * Child process that checks a copy of a store (see `probe` in database.ts): opens the LevelDB
 * copy, runs every check, prints one JSON line with the contents or the error, and exits.
 * Run apart from the peer because LevelDB aborts the whole process on some damaged tables.
 *
 * Usage: probe-child.(ts|js) <copy folder> <store folder> <write buffer size or "">
 */
import { Level } from 'level'
import { inspectLevel, openError } from './store-inspection.ts'

const [copy, location, writeBufferSize] = process.argv.slice(2) as [string, string, string]

function report(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

const level = new Level<Uint8Array, Uint8Array>(copy, {
  keyEncoding: 'view',
  valueEncoding: 'view',
  ...(writeBufferSize === '' ? {} : { writeBufferSize: Number(writeBufferSize) }),
})
try {
  try {
    await level.open()
  } catch (error) {
    throw openError(location, error, copy)
  }
  report({ contents: await inspectLevel(level, location, copy, { verifyEntries: true }) })
} catch (error) {
  const { name, message } = error as Error
  report({ error: { name, message } })
} finally {
  await level.close().catch(() => {})
}
