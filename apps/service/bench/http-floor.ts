/**
 * The floor under the daemon benchmark's HTTP points, run by `bench/daemon.ts` in a process of
 * its own: a bare `node:http` server on 127.0.0.1 that answers every request at once with a body
 * the size of a pin's JSON (no routing, no validation, no consensus). What the load generator
 * reaches against it is what HTTP and loopback TCP alone allow on this machine. Prints
 * `{"port":…}` once listening; stops on SIGTERM.
 */
import { createServer } from 'node:http'

// About the size of `POST /pins/{cid}`'s answer (a pin in IPFS Cluster's JSON).
const body = `${JSON.stringify({ cid: 'b'.repeat(59), padding: 'x'.repeat(380) })}\n`
const server = createServer((request, response) => {
  request.resume()
  request.once('end', () => {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
    response.end(body)
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`)
})
process.once('SIGTERM', () => server.close(() => process.exit(0)))
