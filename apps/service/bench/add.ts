/**
 * `POST /add` of N MiB (default 256) of random bytes into one real single-peer daemon with its
 * embedded IPFS node (in this process, loopback only): MB/s from the first byte sent to the
 * pinned root, and the process's RSS growth (peak minus before). The upload is generated as it
 * is sent, 1 MiB at a time, so the growth is the daemon's. Usage: node bench/add.ts [--mib N]
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { initializeFolder } from '../src/config/initialize.ts'
import { startDaemon } from '../src/daemon/daemon.ts'

const index = process.argv.indexOf('--mib')
const mib = index < 0 ? 256 : Number(process.argv[index + 1])
const total = mib * 1024 * 1024

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      )
    })
  })
}

const root = await mkdtemp(join(tmpdir(), 'pinraft-add-bench-'))
const folder = join(root, 'peer')
await initializeFolder({ folder, peers: [], force: false })
const daemon = await startDaemon({
  folder,
  bootstrap: [],
  leave: false,
  joinTimeout: 30_000,
  environment: {
    PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
    PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
    PINRAFT_IPFS_CONNECTOR_EMBEDDED_LISTEN_MULTIADDRESS: '/ip4/127.0.0.1/tcp/0',
  },
  logger: pino({ level: 'warn' }),
})
try {
  await daemon.consensus.ready({ signal: AbortSignal.timeout(20_000) })
  const rssBefore = process.memoryUsage().rss
  let rssPeak = rssBefore
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
  }, 50)
  const boundary = 'benchboundary'
  const started = performance.now()
  const output = await new Promise<string>((resolve, reject) => {
    const upload = request(`${daemon.apiUrl}/add?cid-version=1&name=bench`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    })
    upload.on('error', reject)
    upload.on('response', (response) => {
      let text = ''
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString()
      })
      response.on('end', () => resolve(text))
    })
    upload.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    )
    let sent = 0
    const pump = (): void => {
      while (sent < total) {
        const chunk = randomBytes(Math.min(1024 * 1024, total - sent))
        sent += chunk.length
        if (!upload.write(chunk)) {
          upload.once('drain', pump)
          return
        }
      }
      upload.end(`\r\n--${boundary}--\r\n`)
    }
    pump()
  })
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  const last = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as { cid?: string }
  if (last.cid === undefined || daemon.consensus.state().get(last.cid) === undefined) {
    throw new Error(`the add did not pin its root: ${output.slice(-500)}`)
  }
  console.log(
    JSON.stringify({
      addMiB: mib,
      addMBps: Number((total / 1e6 / seconds).toFixed(1)),
      rssGrowthMB: Math.round((rssPeak - rssBefore) / 1e6),
      root: last.cid,
    }),
  )
} finally {
  await daemon.stop()
  await rm(root, { recursive: true, force: true })
}
