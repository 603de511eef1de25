import { CID } from 'multiformats/cid'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { addUnixfs } from '../src/adder/unixfs-adder.ts'
import { resolveIpfsHttpConfiguration } from '../src/configuration/ipfshttp-configuration.ts'
import { createKuboConnector, type KuboIpfsConnector } from '../src/kubo/kubo-connector.ts'
import { type FakeKubo, startFakeKubo } from '../src/testing/fake-kubo.ts'
import { chunksOf, collect } from './support.ts'

const cid = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
let kubo: FakeKubo
let connector: KuboIpfsConnector

function connect(overrides: Record<string, unknown> = {}): KuboIpfsConnector {
  return createKuboConnector({
    configuration: resolveIpfsHttpConfiguration({
      node_multiaddress: kubo.multiaddress,
      ...overrides,
    }),
  })
}

beforeEach(async () => {
  kubo = await startFakeKubo()
  connector = connect()
  await connector.start()
})
afterEach(async () => {
  await connector.stop()
  await kubo.close()
})

describe('the Kubo RPC connector (against recorded Kubo response shapes)', () => {
  it('reads the node ID and addresses from /api/v0/id', async () => {
    const id = await connector.id()
    expect(id.id).toBe('12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf')
    expect(id.addresses).toEqual([`/ip4/127.0.0.1/tcp/4001/p2p/${id.id}`])
    expect(kubo.requests).toEqual(['POST /api/v0/id'])
  })

  it('pins with pin/add?recursive&progress, reporting the streamed progress', async () => {
    const progress: number[] = []
    await connector.pin(cid, { onProgress: (event) => progress.push(event.blocks) })
    expect(progress).toEqual([1, 2, 3])
    expect(kubo.requests).toEqual([`POST /api/v0/pin/add?arg=${cid}&recursive=true&progress=true`])
    expect(await connector.pinLsCid(cid)).toBe('recursive')
    await connector.pin(cid, { mode: 'direct' })
    expect(kubo.requests.at(-1)).toContain('recursive=false')
  })

  it('fails a pin that makes no progress for pin_timeout with a PinTimeoutError', async () => {
    kubo.stallPins = true
    const short = connect({ pin_timeout: '300ms' })
    await expect(short.pin(cid)).rejects.toMatchObject({ name: 'PinTimeoutError' })
  })

  it('turns an error half-way through the pin/add stream into an IpfsRequestError with Kubo’s message', async () => {
    kubo.pinStreamError = 'context canceled'
    await expect(connector.pin(cid)).rejects.toMatchObject({
      name: 'IpfsRequestError',
      message: expect.stringContaining('context canceled'),
    })
    expect(await connector.pinLsCid(cid)).toBe('unpinned')
  })

  it('unpins with pin/rm, and unpinning what is not pinned is not an error', async () => {
    await connector.pin(cid)
    await connector.unpin(cid)
    expect(await connector.pinLsCid(cid)).toBe('unpinned')
    await connector.unpin(cid)
    expect(kubo.requests.filter((line) => line.includes('pin/rm'))).toHaveLength(2)
  })

  it('refuses to unpin when unpin_disable is set', async () => {
    await connector.pin(cid)
    await expect(connect({ unpin_disable: true }).unpin(cid)).rejects.toMatchObject({
      name: 'UnsupportedOperationError',
    })
    expect(kubo.pins.has(cid.toString())).toBe(true)
  })

  it('streams pin/ls?type=recursive&stream=true', async () => {
    await connector.pin(cid)
    const listed = []
    for await (const entry of connector.pinLs()) listed.push(entry)
    expect(listed.map((entry) => [entry.cid.toString(), entry.type])).toEqual([
      [cid.toString(), 'recursive'],
    ])
    expect(kubo.requests.at(-1)).toBe('POST /api/v0/pin/ls?type=recursive&stream=true')
  })

  it('writes the adder’s blocks with block/put and reads them back with block/get', async () => {
    const bytes = new Uint8Array(300_000).fill(7)
    const { result: root } = await collect(
      addUnixfs(
        (async function* () {
          yield { path: 'f', content: chunksOf(bytes) }
        })(),
        connector,
        { cidVersion: 1 },
      ),
    )
    expect(kubo.blocks.size).toBe(3)
    expect(kubo.requests[0]).toBe(
      'POST /api/v0/block/put?cid-codec=raw&mhtype=sha2-256&mhlen=-1&pin=false',
    )
    expect(await connector.blockHas(root)).toBe(true)
    expect((await connector.blockGet(root)).length).toBeGreaterThan(0)
    expect(await connector.blockHas(cid)).toBe(false)
  })

  it('reads repo/stat, swarm/peers and resolve', async () => {
    expect(await connector.repoStat()).toEqual({ repoSize: 0, storageMax: 10_000_000_000 })
    expect(await connector.swarmPeers()).toEqual([
      '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
    ])
    expect((await connector.resolve(`/ipfs/${cid}/a`)).toString()).toBe(cid.toString())
  })

  it('streams repo/gc, removed blocks and per-block errors alike', async () => {
    await connector.blockPut(
      CID.parse('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'),
      new TextEncoder().encode('hello world'),
    )
    const entries = []
    for await (const entry of connector.repoGc()) entries.push(entry)
    expect(entries).toEqual([
      { cid: CID.parse('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e') },
      { error: 'could not remove QmFake: permission denied' },
    ])
  })

  it('turns a 500 from Kubo into an IpfsRequestError carrying Kubo’s message', async () => {
    kubo.failAll = 'failed to get repo: resource temporarily unavailable'
    await expect(connector.id()).rejects.toMatchObject({
      name: 'IpfsRequestError',
      status: 500,
      message: 'Kubo answered id with 500: failed to get repo: resource temporarily unavailable',
    })
  })

  it('says Kubo is unreachable when nothing listens at node_multiaddress', async () => {
    await kubo.close()
    await expect(connector.id()).rejects.toMatchObject({ name: 'IpfsUnreachableError' })
    kubo = await startFakeKubo() // for afterEach
  })

  it('skips addresses Kubo cannot connect to', async () => {
    await connector.connectSwarms([
      '/ip4/127.0.0.1/tcp/1',
      `/ip4/127.0.0.1/tcp/4101/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK`,
    ])
    expect(kubo.requests.filter((line) => line.includes('swarm/connect'))).toHaveLength(2)
  })
})
