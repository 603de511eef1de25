import { AllocationError } from '@pinraft/allocation'
import type { ClusterPinOptions } from '@pinraft/cluster'
import type { AbortOptions } from '@pinraft/consensus'
import { type Pin, type PinInput, validatePin } from '@pinraft/state-pinset'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ApiCluster } from '../src/http/api-context.ts'
import { createApp } from '../src/http/app.ts'
import { type ApiFixture, apiFixture, CID_V0, CID_V1, newPeerId } from './support/api-fixture.ts'

/**
 * The Cluster's pinning side as the routes see it: records what it was asked, allocates to the
 * peers it was given (or fails as the allocator would).
 */
class FakePinningCluster {
  readonly pins: { input: PinInput; pinUpdate: string | undefined; signal: boolean }[] = []
  readonly removed: { peer: string; signal: boolean }[] = []
  allocations: string[] = []
  failure: Error | null = null

  async pin(input: PinInput, options?: ClusterPinOptions): Promise<Pin> {
    this.pins.push({
      input,
      pinUpdate: options?.pinUpdate?.toString(),
      signal: options?.signal !== undefined,
    })
    if (this.failure !== null) throw this.failure
    // An update takes the factors of the pin it updates (here 1/1), not the request's.
    const copied =
      options?.pinUpdate === undefined ? {} : { replicationFactorMin: 1, replicationFactorMax: 1 }
    return validatePin({ ...input, ...copied, allocations: this.allocations })
  }

  readonly paths: { path: string; pinUpdate: string | undefined }[] = []

  /** Pins by path resolve to CID_V1 here. */
  async pinPath(path: string, input: Omit<PinInput, 'cid'>, options?: ClusterPinOptions) {
    this.paths.push({ path, pinUpdate: options?.pinUpdate?.toString() })
    return this.pin({ ...input, cid: CID_V1 }, options)
  }

  async peerRemove(peer: string, options?: AbortOptions): Promise<void> {
    this.removed.push({ peer, signal: options?.signal !== undefined })
    if (this.failure !== null) throw this.failure
  }
}

let fixture: ApiFixture
let cluster: FakePinningCluster
let app: ReturnType<typeof createApp>

beforeEach(async () => {
  fixture = await apiFixture()
  cluster = new FakePinningCluster()
  app = createApp({
    // The status routes are registered too but not called here.
    context: { ...fixture.context, cluster: cluster as unknown as ApiCluster },
  })
  await app.ready()
})

afterEach(async () => {
  await app.close()
  await fixture.app.close()
})

describe('POST /pins/{cid} with the cluster', () => {
  it('pins through the cluster, which allocates, and answers the pin it stored', async () => {
    const [a, b] = await Promise.all([newPeerId(), newPeerId()])
    cluster.allocations = [a, b]
    const response = await app.inject({
      method: 'POST',
      url: `/pins/${CID_V1}?replication-min=1&replication-max=2&name=x`,
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      cid: CID_V1,
      name: 'x',
      replication_factor_min: 1,
      replication_factor_max: 2,
      allocations: [a, b],
    })
    expect(cluster.pins).toHaveLength(1)
    expect(cluster.pins[0]).toMatchObject({ pinUpdate: undefined, signal: true })
    // Nothing went to consensus behind the cluster's back.
    expect(fixture.consensus.calls.filter((call) => call.method === 'logPin')).toEqual([])
  })

  it('passes user-allocations, origins and shard-size on in the pin', async () => {
    const [a, b] = await Promise.all([newPeerId(), newPeerId()])
    const origin = `/ip4/10.0.0.1/tcp/4001/p2p/${b}`
    const response = await app.inject({
      method: 'POST',
      url: `/pins/${CID_V0}?replication=1&user-allocations=${a},%20${b}&origins=${encodeURIComponent(origin)}&shard-size=1048576`,
    })
    expect(response.statusCode).toBe(200)
    expect(cluster.pins[0]?.input).toMatchObject({
      userAllocations: [a, b],
      origins: [origin],
      shardSize: 1048576,
    })
    expect(response.json()).toMatchObject({
      user_allocations: [a, b],
      origins: [origin],
      shard_size: 1048576,
    })
  })

  it('passes pin-update on to the cluster, without checking the factors it will copy', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/pins/${CID_V1}?pin-update=${CID_V0}&name=v2&replication-min=3&replication-max=2`,
    })
    expect(response.statusCode).toBe(200)
    expect(cluster.pins[0]).toMatchObject({ pinUpdate: CID_V0, input: { name: 'v2' } })
  })

  it('passes pin-update on for a pin by path too (ctl: pin update <from> <path>)', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/pins/ipfs/${CID_V1}/sub?pin-update=${CID_V0}`,
    })
    expect(response.statusCode).toBe(200)
    expect(cluster.paths).toEqual([{ path: `/ipfs/${CID_V1}/sub`, pinUpdate: CID_V0 }])
  })

  it('treats pin-update naming the pinned CID itself as a plain pin, as 1.x', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/pins/${CID_V1}?pin-update=${CID_V1}`,
    })
    expect(response.statusCode).toBe(200)
    expect(cluster.pins[0]?.pinUpdate).toBeUndefined()
  })

  it("answers 1.x's 500 and message when there are not enough peers to allocate", async () => {
    cluster.failure = new AllocationError(3, 3, ['a', 'b'])
    const response = await app.inject({ method: 'POST', url: `/pins/${CID_V0}?replication=3` })
    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({
      code: 500,
      message:
        'not enough peers to allocate CID. Needed at least: 3. Wanted at most: 3. Available candidates: 2. See logs for more info.',
    })
  })

  it('answers 404 when the pin to update is not in the pinset', async () => {
    cluster.failure = Object.assign(new Error(`not found: ${CID_V0} is not pinned`), {
      name: 'PinNotFoundError',
    })
    const response = await app.inject({
      method: 'POST',
      url: `/pins/${CID_V1}?pin-update=${CID_V0}`,
    })
    expect(response.statusCode).toBe(404)
    expect(response.json().message).toContain('not found')
  })
})

describe('replication factors, as 1.x checks them before pinning', () => {
  it.each([
    ['replication-min=3&replication-max=2', 'cluster.replication_factor_min is larger than max'],
    // The fixture's defaults are -1/-1: a min alone is larger than the default max, as in 1.x.
    ['replication-min=2', 'cluster.replication_factor_min is larger than max'],
    ['replication-max=-5', 'cluster.replication_factor_min is larger than max'],
    ['replication-min=-5&replication-max=2', 'cluster.replication_factor_min is wrong'],
    ['replication-min=-1&replication-max=2', 'must be -1 when one of them is'],
    ['replication=-2', 'cluster.replication_factor_min is wrong'],
    ['expire-at=2020-01-01T00:00:00Z', 'pin.ExpireAt set before current time'],
  ])('%s: 500 with 1.x message, nothing pinned', async (query, message) => {
    const response = await app.inject({ method: 'POST', url: `/pins/${CID_V0}?${query}` })
    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({ code: 500, message: expect.stringContaining(message) })
    expect(cluster.pins).toEqual([])
  })

  it('accepts -1/-1 (everywhere) and a replication within the defaults', async () => {
    for (const query of [
      'replication=-1',
      'replication-min=-1&replication-max=-1',
      'replication=4',
    ]) {
      const response = await app.inject({ method: 'POST', url: `/pins/${CID_V0}?${query}` })
      expect(response.statusCode, query).toBe(200)
    }
  })

  it('checks them the same way without the cluster (straight to consensus)', async () => {
    const response = await fixture.app.inject({
      method: 'POST',
      url: `/pins/${CID_V0}?replication-min=3&replication-max=2`,
    })
    expect(response.statusCode).toBe(500)
    expect(response.json().message).toBe('cluster.replication_factor_min is larger than max')
    expect(fixture.consensus.pinset.count()).toBe(0)
  })

  it('refuses pin-update without the cluster, saying why', async () => {
    const response = await fixture.app.inject({
      method: 'POST',
      url: `/pins/${CID_V1}?pin-update=${CID_V0}`,
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toContain('pin-update needs the cluster component')
    expect(fixture.consensus.pinset.count()).toBe(0)
  })
})

describe('DELETE /peers/{id} with the cluster', () => {
  it("goes through the cluster's peerRemove (which moves the peer's pins first)", async () => {
    const response = await app.inject({ method: 'DELETE', url: `/peers/${fixture.other}` })
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')
    expect(cluster.removed).toEqual([{ peer: fixture.other, signal: true }])
    expect(fixture.consensus.calls.filter((call) => call.method === 'rmPeer')).toEqual([])
  })

  it('maps its errors as the API does (last peer: 409)', async () => {
    cluster.failure = Object.assign(new Error('it is the last peer of the cluster'), {
      name: 'LastPeerError',
    })
    const response = await app.inject({ method: 'DELETE', url: `/peers/${fixture.self}` })
    expect(response.statusCode).toBe(409)
  })

  it('refuses a malformed peer ID before asking the cluster', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/peers/nobody' })
    expect(response.statusCode).toBe(400)
    expect(cluster.removed).toEqual([])
  })
})
