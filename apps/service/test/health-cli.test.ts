import { mkdtemp, readFile, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { ClusterPinOptions } from '@pinraft/cluster'
import { type Pin, type PinInput, validatePin } from '@pinraft/state-pinset'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { humanBytes, relativeTime } from '../src/cli/humanize.ts'
import type { CliIo } from '../src/cli/io.ts'
import { runCli } from '../src/cli/program.ts'
import type { ApiCluster } from '../src/http/api-context.ts'
import { createApp } from '../src/http/app.ts'
import { type ApiFixture, apiFixture, CID_V0, CID_V1, newPeerId } from './support/api-fixture.ts'
import { FakeClusterHealth, metric } from './support/fake-health.ts'

/** Records the pins the CLI sends through the API. */
class RecordingCluster {
  readonly pins: { input: PinInput; pinUpdate: string | undefined }[] = []
  async pin(input: PinInput, options?: ClusterPinOptions): Promise<Pin> {
    this.pins.push({ input, pinUpdate: options?.pinUpdate?.toString() })
    return validatePin(input)
  }
  readonly paths: { path: string; pinUpdate: string | undefined }[] = []
  /** Pins by path resolve to CID_V1 here. */
  async pinPath(path: string, input: Omit<PinInput, 'cid'>, options?: ClusterPinOptions) {
    this.paths.push({ path, pinUpdate: options?.pinUpdate?.toString() })
    return this.pin({ ...input, cid: CID_V1 }, options)
  }
  async peerRemove(): Promise<void> {}
}

let fixture: ApiFixture
let health: FakeClusterHealth
let cluster: RecordingCluster
let app: ReturnType<typeof createApp>
let host: string
let folder: string

beforeEach(async () => {
  fixture = await apiFixture()
  health = new FakeClusterHealth()
  cluster = new RecordingCluster()
  app = createApp({
    context: {
      ...fixture.context,
      // Defaults a replication of 2 fits in, as a 3-peer cluster's would be.
      replicationFactorMin: 1,
      replicationFactorMax: 3,
      health,
      cluster: cluster as unknown as ApiCluster,
    },
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  host = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  folder = await mkdtemp(join(tmpdir(), 'pinraft-health-cli-'))
})

afterEach(async () => {
  await app.close()
  await fixture.app.close()
  await rm(folder, { recursive: true, force: true })
})

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    stdin: Readable.from([]),
    interactive: false,
    environment: { HOME: folder },
  }
  const code = await runCli([...args, '--host', host], io)
  return { code, stdout, stderr }
}

describe('pinraft health', () => {
  it('lists its four commands, as ctl', async () => {
    const { stdout } = await run(['health', '--help'])
    for (const command of ['graph', 'metrics', 'alerts', 'bandwidth'])
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'))
  })
})

describe('pinraft health metrics', () => {
  it('lists the metric names, one per line (text) or one JSON string per line', async () => {
    const peer = await newPeerId()
    health.metrics = [metric({ name: 'ping', peer }), metric({ name: 'freespace', peer })]
    expect(await run(['health', 'metrics'])).toMatchObject({
      code: 0,
      stdout: 'freespace\nping\n',
    })
    expect((await run(['health', 'metrics', '--enc', 'json'])).stdout).toBe('"freespace"\n"ping"\n')
  })

  it('prints one line per peer as ctl: freespace in SI units, the expiry relative to now', async () => {
    const [a, b] = (await Promise.all([newPeerId(), newPeerId()])).sort() as [string, string]
    const expire = Date.now() + 30_500
    health.metrics = [
      metric({ name: 'freespace', peer: a, value: '1500000', weight: 1_500_000, expire }),
      metric({ name: 'freespace', peer: b, value: '0', weight: 0, expire }),
    ]
    const { code, stdout } = await run(['health', 'metrics', 'freespace'])
    expect(code).toBe(0)
    expect(stdout.split('\n')).toEqual([
      `${a} | freespace: 1.5 MB | Expires in: 30 seconds from now`,
      `${b} | freespace: 0 | Expires in: 30 seconds from now`,
      '',
    ])
  })

  it('prints the metrics as 1.x JSON objects with --enc json', async () => {
    const peer = await newPeerId()
    health.metrics = [metric({ name: 'numpin', peer, value: '12', weight: -12 })]
    const { stdout } = await run(['health', 'metrics', 'numpin', '--enc', 'json'])
    const lines = stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ name: 'numpin', peer, value: '12', weight: -12 })
  })
})

describe('pinraft health alerts', () => {
  it('prints each alert as ctl, newest first', async () => {
    const [a, b] = await Promise.all([newPeerId(), newPeerId()])
    const now = Date.now()
    // As the API answers them: newest first.
    health.alertList = [
      { metric: metric({ name: 'ping', peer: b, expire: now - 5_500 }), triggeredAt: now - 2_500 },
      {
        metric: metric({ name: 'ping', peer: a, expire: now - 185_000 }),
        triggeredAt: now - 125_000,
      },
    ]
    const { code, stdout } = await run(['health', 'alerts'])
    expect(code).toBe(0)
    expect(stdout.split('\n')).toEqual([
      `${b}: ping. Expired at: 5 seconds ago. Triggered at: 2 seconds ago`,
      `${a}: ping. Expired at: 3 minutes ago. Triggered at: 2 minutes ago`,
      '',
    ])
  })

  it('prints nothing when there is no alert', async () => {
    expect(await run(['health', 'alerts'])).toMatchObject({ code: 0, stdout: '' })
  })
})

describe('pinraft health bandwidth', () => {
  it('prints a line per protocol, sorted, in ctl columns', async () => {
    health.bandwidth = {
      '/pinraft/raft/1.0.0': { totalIn: 2_500_000, totalOut: 999, rateIn: 12.345, rateOut: 0 },
      '/ipfs/id/1.0.0': { totalIn: 5, totalOut: 15_000, rateIn: 0, rateOut: 1.5 },
    }
    const { stdout } = await run(['health', 'bandwidth'])
    expect(stdout.split('\n')).toEqual([
      '           /ipfs/id/1.0.0: In:     5 B. Out:   15 kB. RateIn: 0.00B/s. RateOut: 1.50B/s',
      '      /pinraft/raft/1.0.0: In:  2.5 MB. Out:   999 B. RateIn: 12.35B/s. RateOut: 0.00B/s',
      '',
    ])
    const json = await run(['health', 'bandwidth', '--enc', 'json'])
    expect(JSON.parse(json.stdout)['/ipfs/id/1.0.0']).toEqual({
      total_in: 5,
      total_out: 15000,
      rate_in: 0,
      rate_out: 1.5,
    })
  })
})

describe('pinraft health graph', () => {
  it('prints the DOT graph of the cluster, or writes it to --file', async () => {
    const [a, x] = await Promise.all([newPeerId(), newPeerId()])
    health.graph = {
      clusterId: a,
      idToPeername: { [a]: 'alpha' },
      ipfsLinks: { [x]: [] },
      clusterLinks: { [a]: [] },
      clusterTrustLinks: { [a]: true },
      clusterToIpfs: { [a]: x },
    }
    const printed = await run(['health', 'graph'])
    expect(printed.code).toBe(0)
    expect(printed.stdout).toMatch(/^digraph cluster \{\n/)
    expect(printed.stdout).toContain(`group="${a}"`)
    expect(printed.stdout).toContain('C0 -> I0\n')
    const file = join(folder, 'cluster.dot')
    const written = await run(['health', 'graph', '--file', file])
    expect(written).toMatchObject({ code: 0, stdout: '' })
    expect(await readFile(file, 'utf8')).toBe(printed.stdout)
  })

  it('says what to do when the file cannot be written', async () => {
    health.graph = { ...health.graph, clusterId: await newPeerId() }
    const result = await run(['health', 'graph', '--file', join(folder, 'missing', 'x.dot')])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('creating output file')
  })

  it('reports the API error instead of drawing', async () => {
    health.failure = new Error('boom')
    const result = await run(['health', 'graph'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('500')
    expect(result.stdout).toBe('')
  })
})

describe('pinraft pin add and pin update, as ipfs-cluster-ctl', () => {
  it('-r sets both factors and --allocations the peers to pin on first', async () => {
    const [a, b] = await Promise.all([newPeerId(), newPeerId()])
    const result = await run([
      'pin',
      'add',
      CID_V0,
      '-r',
      '2',
      '--allocations',
      `${a}, ${b}`,
      '--no-status',
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(cluster.pins[0]?.input).toMatchObject({
      replicationFactorMin: 2,
      replicationFactorMax: 2,
      userAllocations: [a, b],
    })
    // --no-status: the pin itself, as ctl prints it.
    expect(result.stdout).toMatch(
      new RegExp(`^${CID_V0} \\|  \\| PIN \\| Repl. Factor: 2--2 \\| Allocations: \\[`),
    )
  })

  it('takes --rmin/--rmax as --replication-min/-max, and -r over both', async () => {
    expect(
      (await run(['pin', 'add', CID_V0, '--rmin', '1', '--rmax', '3', '--no-status'])).code,
    ).toBe(0)
    expect(
      (
        await run([
          'pin',
          'add',
          CID_V1,
          '--replication-min',
          '2',
          '--replication-max',
          '2',
          '--no-status',
        ])
      ).code,
    ).toBe(0)
    expect((await run(['pin', 'add', CID_V1, '-r', '3', '--rmin', '1', '--no-status'])).code).toBe(
      0,
    )
    expect(
      cluster.pins.map(({ input }) => [input.replicationFactorMin, input.replicationFactorMax]),
    ).toEqual([
      [1, 3],
      [2, 2],
      [3, 3],
    ])
  })

  it('refuses --allocations with something that is not a peer ID, before any request', async () => {
    const result = await run(['pin', 'add', CID_V0, '--allocations', 'nobody', '--no-status'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('some peer IDs could not be decoded (nobody)')
    expect(cluster.pins).toEqual([])
  })

  it('pin update pins the new CID with pin-update set to the old one', async () => {
    const result = await run([
      'pin',
      'update',
      CID_V0,
      CID_V1,
      '--name',
      'v2',
      '--expire-in',
      '1h',
      '--no-status',
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(cluster.pins).toHaveLength(1)
    expect(cluster.pins[0]!.pinUpdate).toBe(CID_V0)
    expect(String(cluster.pins[0]!.input.cid)).toBe(CID_V1)
    expect(cluster.pins[0]!.input.name).toBe('v2')
    expect(cluster.pins[0]!.input.expireAt).toBe(fixture.now + 3_600_000)
  })

  it('pin update to an IPFS path sends pin-update with the path', async () => {
    const path = `/ipfs/${CID_V1}/docs`
    const result = await run(['pin', 'update', CID_V0, path, '--no-status'])
    expect(result.code, result.stderr).toBe(0)
    expect(cluster.paths).toEqual([{ path, pinUpdate: CID_V0 }])
  })

  it('pin update refuses a <from> that is not a CID', async () => {
    const result = await run(['pin', 'update', 'nope', CID_V1, '--no-status'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('parsing from Cid')
    expect(cluster.pins).toEqual([])
  })
})

describe("go-humanize's formats", () => {
  it.each([
    [0, '0 B'],
    [9, '9 B'],
    [999, '999 B'],
    [1500, '1.5 kB'],
    [15_000, '15 kB'],
    [1_000_000_000, '1.0 GB'],
    [123_456_789_012, '124 GB'],
    [12_500_000_000, '12 GB'],
    [13_500_000_000, '14 GB'],
  ])('Bytes(%d) is %s', (bytes, text) => {
    expect(humanBytes(bytes)).toBe(text)
  })

  it.each([
    [0, 'now'],
    [999, 'now'],
    [1000, '1 second ago'],
    [59_999, '59 seconds ago'],
    [60_000, '1 minute ago'],
    [3 * 3600_000, '3 hours ago'],
    [36 * 3600_000, '1 day ago'],
    [10 * 86400_000, '1 week ago'],
    [-45_000, '45 seconds from now'],
  ])('Time(now - %d ms) is %s', (ago, text) => {
    const now = Date.parse('2030-01-02T03:04:05Z')
    expect(relativeTime(now - ago, now)).toBe(text)
  })
})
