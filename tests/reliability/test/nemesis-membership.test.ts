import { describe, expect, it } from 'vitest'
import type { PeerInfo, PeerMetrics } from '../src/cluster.ts'
import { Nemesis, type NemesisCluster } from '../src/faults.ts'
import { seededRandom } from '../src/random.ts'

const refused = () =>
  Promise.reject(
    new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    }),
  )

/**
 * Five peers, every one started; only those in `ready` answer their API (the others are still
 * starting, as a peer is for seconds after the previous fault's heal restarted it). A DELETE
 * through a ready peer removes the target from every member list.
 */
function fakeCluster(ready: ReadonlySet<number>) {
  const peers: PeerInfo[] = Array.from({ length: 5 }, (_, index) => ({
    index,
    name: `peer-${index + 1}`,
    folder: `/fake/peer-${index + 1}`,
    dataFolder: `/fake/peer-${index + 1}/raft`,
    logPath: `/fake/peer-${index + 1}.log`,
    endpoint: { node: `peer-${index + 1}`, url: `http://10.250.0.${11 + index}:9094` },
    peerId: `id-${index + 1}`,
  }))
  let members = peers.map((peer) => peer.peerId)
  // The history's clock: the DELETE moves it on, so a record stamped after it shows.
  const clock = { now: 1_000 }
  const deletesThrough: number[] = []
  const metrics: PeerMetrics = {
    leader: false,
    leaderKnown: true,
    ready: true,
    term: 3,
    appliedIndex: 10,
  }
  const indexOf = (url: string) => peers.findIndex((peer) => peer.endpoint.url === url)
  const cluster: NemesisCluster = {
    peers,
    isRunning: () => true,
    kill: async () => undefined,
    start: () => undefined,
    stop: async () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    resumeAll: () => undefined,
    leader: async () => undefined,
    members: async (index) => (ready.has(index) ? [...members].sort() : undefined),
    metrics: async (index) => (ready.has(index) ? metrics : undefined),
    clusterAddress: (index) => `/ip4/10.250.0.${11 + index}/tcp/9096`,
    fillDisk: async () => 0,
    freeDisk: async () => undefined,
    wipeData: async () => 0,
  }
  const client = {
    removePeer: async (endpoint: PeerInfo['endpoint'], peerId: string) => {
      const via = indexOf(endpoint.url)
      deletesThrough.push(via)
      clock.now += 5_000
      if (!ready.has(via)) return refused()
      members = members.filter((member) => member !== peerId)
      return 204
    },
  }
  return { cluster, client, deletesThrough, clock }
}

function nemesis(seed: number, ready: ReadonlySet<number>, readyBound = 1_000) {
  const fake = fakeCluster(ready)
  const instance = new Nemesis({
    cluster: fake.cluster,
    network: { partition: async () => undefined, heal: async () => undefined },
    client: fake.client,
    recorder: { elapsed: () => fake.clock.now },
    random: seededRandom(seed),
    membershipBound: 1_000,
    readyBound,
  })
  return { instance, ...fake }
}

describe('the membership fault', () => {
  it('sends its DELETE through a peer that is ready, not one whose API is still starting', async () => {
    const ready = new Set([0, 1])
    for (let seed = 1; seed <= 12; seed++) {
      const { instance, deletesThrough } = nemesis(seed, ready)
      const record = await instance.inject('membership')
      expect(record.failure, `seed ${seed}: ${record.detail}`).toBeUndefined()
      expect(deletesThrough).toHaveLength(1)
      expect(ready.has(deletesThrough[0]!), `seed ${seed}: ${record.detail}`).toBe(true)
      expect(record.detail).toMatch(/: 204; removed/)
    }
  })

  it('is recorded as starting before its DELETE, not once the removal was seen', async () => {
    const { instance } = nemesis(7, new Set([0, 1, 2, 3, 4]))
    const record = await instance.inject('membership')
    expect(record.detail).toMatch(/: 204; removed/)
    expect(record.startedAt).toBe(1_000)
  })

  it('fails, saying so, when no peer but the target becomes ready within the bound', async () => {
    const { instance, deletesThrough } = nemesis(3, new Set(), 300)
    const record = await instance.inject('membership')
    expect(deletesThrough).toEqual([])
    expect(record.failure).toMatch(/^no peer but peer-\d was ready within 0.3 s to take DELETE/)
  })
})
