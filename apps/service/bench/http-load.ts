/**
 * A closed-loop HTTP load generator, run in its own process by `bench/daemon.ts` so that its CPU
 * is not the daemons'. `clients` loops each send `POST /pins/{cid}` with a fresh CID, wait for
 * the answer, and send the next, over keep-alive connections (an undici Pool, one connection per
 * client), for `seconds`. The CIDs are computed before the clock starts, so the generator's
 * sha256 is not measured. Prints one JSON line: pins, seconds, p50/p99 in ms, errors.
 *
 * `node --conditions=@pinraft/source bench/http-load.ts --url <base> --clients <n> --seconds <s>
 * --label <unique text>`
 */
import { createHash } from 'node:crypto'
import { parseArgs } from 'node:util'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { Pool } from 'undici'
import { percentile } from './support/statistics.ts'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    clients: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '3' },
    label: { type: 'string', default: String(process.pid) },
    /** An upper bound on requests, whatever the rate (the CIDs are precomputed). */
    'max-requests': { type: 'string', default: '200000' },
    path: { type: 'string', default: '/pins/' },
  },
})
if (values.url === undefined) throw new Error('--url is required (the API base URL)')
const clients = Number(values.clients)
const seconds = Number(values.seconds)
const maxRequests = Number(values['max-requests'])
if (!(clients >= 1 && seconds > 0 && maxRequests >= clients))
  throw new Error('--clients ≥ 1, --seconds > 0 and --max-requests ≥ --clients')

const sha256Code = 0x12
const cids: string[] = new Array(maxRequests)
for (let index = 0; index < maxRequests; index++) {
  const digest = createHash('sha256').update(`${values.label} ${index}`).digest()
  cids[index] = CID.createV1(raw.code, createDigest(sha256Code, digest)).toString()
}

const pool = new Pool(values.url, {
  connections: clients,
  pipelining: 1,
  keepAliveTimeout: 60_000,
})
const latencies = new Float64Array(maxRequests)
let issued = 0
let completed = 0
let errors = 0
let firstError = ''
process.stdout.write(`${JSON.stringify({ started: true })}\n`)
const deadline = performance.now() + seconds * 1000
const cpuBefore = process.cpuUsage()
const began = performance.now()
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (issued < maxRequests && performance.now() < deadline) {
      const cid = cids[issued++] as string
      const started = performance.now()
      try {
        const response = await pool.request({ method: 'POST', path: `${values.path}${cid}` })
        await response.body.dump()
        if (response.statusCode !== 200) {
          errors++
          if (firstError === '') firstError = `HTTP ${response.statusCode}`
          continue
        }
      } catch (error) {
        errors++
        if (firstError === '') firstError = (error as Error).message
        continue
      }
      latencies[completed++] = performance.now() - started
    }
  }),
)
const elapsed = (performance.now() - began) / 1000
const cpu = process.cpuUsage(cpuBefore)
await pool.close()
const sorted = latencies.subarray(0, completed).sort()
process.stdout.write(
  `${JSON.stringify({
    pins: completed,
    seconds: elapsed,
    rate: completed / elapsed,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors,
    firstError,
    exhausted: issued >= maxRequests,
    cpuMicroseconds: cpu.user + cpu.system,
  })}\n`,
)
