import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

/**
 * A local HTTP server that answers Kubo's RPC API with the request and response shapes Kubo
 * documents (docs.ipfs.tech/reference/kubo/rpc): POST only, `arg` parameters, JSON bodies,
 * newline-delimited streams, `{"Message","Code","Type":"error"}` error bodies with status 500,
 * and errors half-way through a stream as a last `Type: error` line. Its state is in memory.
 */
export interface FakeKubo {
  readonly url: string
  readonly multiaddress: string
  readonly requests: string[]
  readonly pins: Map<string, 'recursive' | 'direct'>
  readonly blocks: Map<string, Uint8Array>
  /** Answer every call with a 500 and this message. */
  failAll: string | undefined
  /** pin/add: send one progress line, then nothing (a CID nobody holds). */
  stallPins: boolean
  /** pin/add: fail half-way through the stream with this message. */
  pinStreamError: string | undefined
  close(): Promise<void>
}

const peerId = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'

function kuboError(response: ServerResponse, message: string, status = 500): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(`${JSON.stringify({ Message: message, Code: 0, Type: 'error' })}\n`)
}

function json(response: ServerResponse, value: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end(`${JSON.stringify(value)}\n`)
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export async function startFakeKubo(): Promise<FakeKubo> {
  const requests: string[] = []
  const pins = new Map<string, 'recursive' | 'direct'>()
  const blocks = new Map<string, Uint8Array>()
  const state = {
    failAll: undefined as string | undefined,
    stallPins: false,
    pinStreamError: undefined as string | undefined,
  }
  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1')
      requests.push(`${request.method} ${url.pathname}${url.search}`)
      if (request.method !== 'POST') {
        response.writeHead(405)
        response.end('405 - Method Not Allowed\n')
        return
      }
      if (state.failAll !== undefined) return kuboError(response, state.failAll)
      const arg = url.searchParams.get('arg') ?? ''
      const command = url.pathname.replace(/^\/api\/v0\//, '')
      switch (command) {
        case 'id':
          return json(response, {
            ID: peerId,
            PublicKey: 'CAESIA==',
            Addresses: [`/ip4/127.0.0.1/tcp/4001/p2p/${peerId}`],
            AgentVersion: 'kubo/0.32.1/',
            Protocols: ['/ipfs/bitswap/1.2.0'],
          })
        case 'pin/add': {
          let cid: CID
          try {
            cid = CID.parse(arg)
          } catch {
            return kuboError(response, `invalid path "${arg}": invalid cid`)
          }
          response.writeHead(200, {
            'content-type': 'application/json',
            'x-chunked-output': '1',
            trailer: 'X-Stream-Error',
          })
          response.write(`${JSON.stringify({ Progress: 1 })}\n`)
          if (state.stallPins) return // the connection stays open, as a pin that finds nothing
          response.write(`${JSON.stringify({ Progress: 2 })}\n`)
          if (state.pinStreamError !== undefined) {
            response.addTrailers({ 'X-Stream-Error': state.pinStreamError })
            response.end(
              `${JSON.stringify({ Message: state.pinStreamError, Code: 0, Type: 'error' })}\n`,
            )
            return
          }
          pins.set(
            cid.toString(),
            url.searchParams.get('recursive') === 'false' ? 'direct' : 'recursive',
          )
          response.end(`${JSON.stringify({ Pins: [cid.toString()], Progress: 3 })}\n`)
          return
        }
        case 'pin/rm':
          if (!pins.delete(arg)) return kuboError(response, 'not pinned or pinned indirectly')
          return json(response, { Pins: [arg] })
        case 'pin/ls': {
          if (arg !== '') {
            const type = pins.get(arg)
            if (type === undefined) return kuboError(response, `path '${arg}' is not pinned`)
            return json(response, { Keys: { [arg]: { Type: type, Name: '' } } })
          }
          const wanted = url.searchParams.get('type') ?? 'all'
          response.writeHead(200, { 'content-type': 'application/json' })
          for (const [cid, type] of pins) {
            if (wanted === 'all' || wanted === type)
              response.write(`${JSON.stringify({ Cid: cid, Type: type, Name: '' })}\n`)
          }
          response.end()
          return
        }
        case 'repo/stat':
          return json(response, {
            RepoSize: [...blocks.values()].reduce((sum, bytes) => sum + bytes.length, 0),
            StorageMax: 10_000_000_000,
          })
        case 'repo/gc': {
          response.writeHead(200, { 'content-type': 'application/json' })
          for (const cid of [...blocks.keys()]) {
            if (pins.has(cid)) continue
            blocks.delete(cid)
            response.write(`${JSON.stringify({ Key: { '/': cid } })}\n`)
          }
          response.write(
            `${JSON.stringify({ Error: 'could not remove QmFake: permission denied' })}\n`,
          )
          response.end()
          return
        }
        case 'swarm/connect':
          if (!arg.includes('/p2p/')) return kuboError(response, `${arg}: invalid peer address`)
          return json(response, { Strings: [`connect ${arg.split('/p2p/')[1]} success`] })
        case 'swarm/peers':
          return json(response, {
            Peers: [
              {
                Addr: '/ip4/127.0.0.1/tcp/4101',
                Peer: '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
              },
            ],
          })
        case 'resolve': {
          const match = /^\/ipfs\/([^/]+)/.exec(arg)
          if (match === null) return kuboError(response, `invalid path "${arg}"`)
          return json(response, { Path: `/ipfs/${match[1]}` })
        }
        case 'block/put': {
          const body = await readBody(request)
          const form = await new Request('http://127.0.0.1/', {
            method: 'POST',
            headers: { 'content-type': request.headers['content-type'] ?? '' },
            body,
          }).formData()
          const file = form.get('file')
          if (!(file instanceof Blob))
            return kuboError(response, 'file argument "data" is required', 400)
          const bytes = new Uint8Array(await file.arrayBuffer())
          const codec = url.searchParams.get('cid-codec') === 'dag-pb' ? 0x70 : 0x55
          const cid = CID.createV1(codec, await sha256.digest(bytes))
          blocks.set(cid.toString(), bytes)
          return json(response, { Key: cid.toString(), Size: bytes.length })
        }
        case 'block/get': {
          const bytes = blocks.get(CID.parse(arg).toV1().toString())
          if (bytes === undefined)
            return kuboError(
              response,
              `block was not found locally (offline): ipld: could not find ${arg}`,
            )
          response.writeHead(200, { 'content-type': 'text/plain' })
          response.end(bytes)
          return
        }
        case 'block/stat':
          if (!blocks.has(CID.parse(arg).toV1().toString()))
            return kuboError(
              response,
              `block was not found locally (offline): ipld: could not find ${arg}`,
            )
          return json(response, { Key: arg, Size: 1 })
        default:
          response.writeHead(404, { 'content-type': 'text/plain' })
          response.end('404 page not found\n')
      }
    })().catch((error: unknown) => kuboError(response, (error as Error).message))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const fake: FakeKubo = {
    url: `http://127.0.0.1:${port}`,
    multiaddress: `/ip4/127.0.0.1/tcp/${port}`,
    requests,
    pins,
    blocks,
    get failAll() {
      return state.failAll
    },
    set failAll(value) {
      state.failAll = value
    },
    get stallPins() {
      return state.stallPins
    },
    set stallPins(value) {
      state.stallPins = value
    },
    get pinStreamError() {
      return state.pinStreamError
    },
    set pinStreamError(value) {
      state.pinStreamError = value
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return fake
}
