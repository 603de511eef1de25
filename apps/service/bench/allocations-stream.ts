/**
 * `GET /allocations` alone: the app over an in-memory consensus holding `--pins` pins (200,000
 * by default), listening on 127.0.0.1, read at full speed by `fetch`. Prints the time to the
 * first byte and to the end, and the heap and RSS growth of this process while streaming, so a
 * change to the route can be compared in one sitting without three daemons. The client shares
 * this process's event loop, so its first byte waits for the server's first burst of lines:
 * read the first byte from `bench/million.ts` (or `curl -w %{time_starttransfer}`).
 *
 * `pnpm --filter @pinraft/service exec node --conditions=@pinraft/source --expose-gc bench/allocations-stream.ts`
 */
import { parseArgs } from 'node:util'
import { apiFixture } from '../test/support/api-fixture.ts'
import { cidFor } from '../test/support/processes.ts'

const { values } = parseArgs({ options: { pins: { type: 'string', default: '200000' } } })
const count = Number(values.pins)
const fixture = await apiFixture()
for (let index = 0; index < count; index++)
  await fixture.consensus.logPin({ cid: await cidFor(index), name: `pin ${index}` })
const address = await fixture.app.listen({ host: '127.0.0.1', port: 0 })
const collect = (globalThis as { gc?: () => void }).gc
collect?.()
const before = process.memoryUsage()
let maxRss = before.rss
let maxHeap = before.heapUsed
const sampler = setInterval(() => {
  const now = process.memoryUsage()
  maxRss = Math.max(maxRss, now.rss)
  maxHeap = Math.max(maxHeap, now.heapUsed)
}, 20)
const began = performance.now()
const response = await fetch(`${address}/allocations`)
const reader = response.body!.getReader()
let first = Number.NaN
let lines = 0
for (;;) {
  const chunk = await reader.read()
  if (chunk.done) break
  if (Number.isNaN(first)) first = performance.now() - began
  for (const byte of chunk.value) if (byte === 10) lines++
}
const total = performance.now() - began
clearInterval(sampler)
await fixture.app.close()
if (lines !== count) throw new Error(`${lines} lines, expected ${count}`)
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
console.log(
  `GET /allocations, ${count.toLocaleString('en-US')} pins in process: first byte after ${first.toFixed(0)} ms, all after ${(total / 1000).toFixed(2)} s (${((1000 * total) / count).toFixed(1)} µs a pin, client included); heap +${megabytes(maxHeap - before.heapUsed)}, RSS +${megabytes(maxRss - before.rss)}`,
)
