import { randomBytes } from 'node:crypto'
import { access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ApiClient } from './api-client.ts'
import { TestCluster } from './cluster.ts'
import { runCommand } from './command.ts'
import { InvalidArgumentError } from './errors.ts'
import { defaultFaults, type FaultKind, faultSchedule, Nemesis, parseFaultKinds } from './faults.ts'
import { checkFinalState, type FinalStateResult } from './final-state.ts'
import { HistoryRecorder } from './history.ts'
import { checkLinearizability } from './linearizability.ts'
import { networkUnavailableReason, TestNetwork } from './network.ts'
import { type ProbeResult, runProbes } from './probes.ts'
import { seededRandom } from './random.ts'
import { buildReport, type RecoveryResult, renderMarkdown, writeReport } from './report.ts'
import { runWorkload } from './workload.ts'

/** A profile's bounds: every loop of the run is limited in count and time. */
export interface Profile {
  readonly name: 'ci' | 'long'
  /** Workload time in seconds (the long profile runs faults until it is over). */
  readonly duration: number
  readonly clients: number
  readonly callTimeout: number
  readonly operationsPerCid: number
  readonly maxOperations: number
  /** How long each fault lasts, then how long the cluster gets to settle, in seconds. */
  readonly faultSeconds: number
  readonly quietSeconds: number
  /** Seconds the cluster has to start, and to recover once every fault is healed. */
  readonly startupBound: number
  readonly recoveryBound: number
  /** The fault kinds of each round (see `defaultFaults`). */
  readonly faults: readonly FaultKind[]
}

export const profiles: Readonly<Record<'ci' | 'long', Profile>> = {
  ci: {
    name: 'ci',
    duration: 150,
    clients: 6,
    callTimeout: 5_000,
    operationsPerCid: 30,
    maxOperations: 100_000,
    faultSeconds: 8,
    quietSeconds: 5,
    startupBound: 60,
    recoveryBound: 60,
    faults: defaultFaults.ci,
  },
  long: {
    name: 'long',
    duration: 1_800,
    clients: 8,
    callTimeout: 5_000,
    operationsPerCid: 40,
    maxOperations: 1_000_000,
    faultSeconds: 12,
    quietSeconds: 6,
    startupBound: 60,
    recoveryBound: 90,
    faults: defaultFaults.long,
  },
}

const here = dirname(fileURLToPath(import.meta.url))
const repository = resolve(here, '..', '..', '..')

function sleep(seconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, seconds * 1000)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      done()
    })
  })
}

async function binaryUnavailableReason(script: string): Promise<string | undefined> {
  try {
    await access(script)
    await runCommand(process.execPath, [script, '--help'], { timeout: 30_000 })
    return undefined
  } catch (error) {
    return `the pinraft CLI (${script}) does not run: ${(error as Error).message}; build apps/service first`
  }
}

export interface RunOptions {
  readonly profile: Profile
  readonly seed: number
  readonly reportFolder: string
  readonly keepFiles: boolean
  readonly signal?: AbortSignal
  readonly log?: (line: string) => void
}

/** One run: set up, load under faults, heal, check, report, tear down. Resolves whether it passed (undefined when skipped). */
export async function runReliability(options: RunOptions): Promise<boolean | undefined> {
  const { profile, seed } = options
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const startedAt = new Date()
  const started = process.hrtime.bigint()
  const script = join(repository, 'apps', 'service', 'bin', 'pinraft.js')
  const skipped = (await networkUnavailableReason()) ?? (await binaryUnavailableReason(script))
  const recorder = new HistoryRecorder()
  const random = seededRandom(seed)
  // Basic auth on every peer: the probes check that calls without it are refused.
  const basicAuth = { user: 'reliability', password: randomBytes(12).toString('hex') }
  const client = new ApiClient({ callTimeout: profile.callTimeout, basicAuth })
  const network = new TestNetwork({ prefix: `pr${(process.pid % 100000).toString(36)}`, nodes: 5 })
  const workFolder = join(tmpdir(), `pinraft-reliability-${process.pid}`)
  const cluster = new TestCluster({
    network,
    binary: { node: process.execPath, script },
    folder: workFolder,
    client,
    basicAuth,
    // Every peer's Raft data on its own small tmpfs: the disk-full fault can pick any of them.
    tmpfsSize: '64m',
  })
  const errors: string[] = []
  const probes: ProbeResult[] = []
  let recovery: RecoveryResult = { verdict: 'timeout', seconds: 0, detail: 'not reached' }
  let finalState: FinalStateResult = {
    verdict: 'not-checked',
    violations: [],
    acknowledgedPinsChecked: 0,
    cidsChecked: 0,
  }
  const nemesis = new Nemesis({ cluster, network, client, recorder, random })
  const signal = options.signal ?? new AbortController().signal

  if (skipped !== undefined) {
    log(`SKIPPED: ${skipped}`)
  } else {
    try {
      log(
        `network ${network.prefix}: 5 namespaces on a bridge (${network.hub}), firewall ${network.firewall}`,
      )
      await network.start()
      await cluster.setUp({ signal })
      cluster.startAll()
      await cluster.waitForRecovery(profile.startupBound * 1000, { signal })
      log(
        `cluster up: ${cluster.peers.map((peer) => `${peer.name}=${peer.peerId.slice(-6)}`).join(' ')}`,
      )
      // Before the workload: a bad call that was applied anyway shows up in the final state.
      for (const peer of cluster.peers)
        probes.push(...(await runProbes(client, peer.endpoint, { signal })))
      log(
        `probes: ${probes.filter((probe) => probe.passed).length}/${probes.length} refused cleanly`,
      )

      const stopWorkload = new AbortController()
      const workload = runWorkload(
        {
          endpoints: cluster.endpoints(),
          client,
          recorder,
          random: seededRandom(seed + 1),
          seed,
          clients: profile.clients,
          maxOperations: profile.maxOperations,
          duration: profile.duration * 1000,
          operationsPerCid: profile.operationsPerCid,
          thinkTime: 20,
        },
        { signal: AbortSignal.any([stopWorkload.signal, signal]) },
      )
      const rounds =
        profile.name === 'ci'
          ? 1
          : Math.ceil(
              profile.duration /
                ((profile.faultSeconds + profile.quietSeconds) * profile.faults.length),
            )
      const deadline = Date.now() + profile.duration * 1000
      log(`faults: ${profile.faults.join(', ')}`)
      for (const kind of faultSchedule(random, rounds, profile.faults)) {
        if (
          signal.aborted ||
          Date.now() + (profile.faultSeconds + profile.quietSeconds) * 1000 > deadline
        )
          break
        try {
          const record = await nemesis.inject(kind)
          log(
            `fault ${record.kind} on ${record.targets.join(' ')}: ${record.detail}${record.failure === undefined ? '' : ` FAILED: ${record.failure}`}`,
          )
          await sleep(profile.faultSeconds, signal)
          await nemesis.heal()
        } catch (error) {
          errors.push(`fault ${kind}: ${(error as Error).message}`)
          await nemesis.heal().catch(() => undefined)
        }
        await sleep(profile.quietSeconds, signal)
      }
      stopWorkload.abort()
      const summary = await workload
      log(`workload: ${summary.operations} calls over ${summary.cids.length} CIDs`)

      await nemesis.healAll()
      const healed = process.hrtime.bigint()
      try {
        const pinsets = await cluster.waitForRecovery(profile.recoveryBound * 1000, { signal })
        const seconds = Number(process.hrtime.bigint() - healed) / 1e9
        recovery = {
          verdict: 'ok',
          seconds,
          detail: `leader ${await cluster.leader().then((index) => (index === undefined ? '?' : cluster.peers[index]!.name))}, all peers converged`,
        }
        finalState = checkFinalState(recorder.operations(), pinsets)
      } catch (error) {
        recovery = {
          verdict: 'timeout',
          seconds: profile.recoveryBound,
          detail: (error as Error).message,
        }
      }
    } catch (error) {
      errors.push(`harness: ${(error as Error).message}`)
    }
  }

  const history = recorder.operations()
  const report = buildReport({
    profile: profile.name,
    seed,
    startedAt,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    peers: cluster.peers.map((peer) => `${peer.name} ${peer.peerId}`),
    faults: nemesis.records,
    history,
    linearizability: checkLinearizability(history, { localReads: 'ignored' }),
    localReads: checkLinearizability(history, { localReads: 'monotonic' }),
    localReadsStrict: checkLinearizability(history, { localReads: 'linearizable' }),
    finalState,
    recovery,
    probes,
    errors,
  })
  const final = skipped === undefined ? report : { ...report, skipped, passed: false }
  const logs = skipped === undefined ? await cluster.logs() : {}
  if (skipped === undefined) {
    await cluster
      .tearDown({ keepFiles: options.keepFiles })
      .catch((error: unknown) => log(`teardown: ${(error as Error).message}`))
    await network.stop()
  }
  const written = await writeReport(options.reportFolder, final, { history, logs })
  // The verdicts and harness errors; each finding's history slice is in report.md.
  log(renderMarkdown(final).split('\n## Verdicts')[1]?.split('\n### ')[0]?.trim() ?? '')
  log(`report: ${written.join(', ')}`)
  return skipped === undefined ? final.passed : undefined
}

function parseCommandLine(argv: readonly string[]): RunOptions & { require: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      profile: { type: 'string', default: 'ci' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      report: { type: 'string' },
      keep: { type: 'boolean', default: false },
      faults: { type: 'string' },
      require: { type: 'boolean', default: false },
    },
  })
  const name = values.profile
  if (name !== 'ci' && name !== 'long')
    throw new InvalidArgumentError(`--profile must be ci or long, got ${JSON.stringify(name)}`)
  let profile: Profile = profiles[name]
  if (values.duration !== undefined) {
    const duration = Number(values.duration)
    if (!Number.isFinite(duration) || duration < 30)
      throw new InvalidArgumentError(
        `--duration is in seconds, at least 30; got ${JSON.stringify(values.duration)}`,
      )
    profile = { ...profile, duration }
  }
  if (values.faults !== undefined) {
    try {
      profile = { ...profile, faults: parseFaultKinds(values.faults) }
    } catch (error) {
      throw new InvalidArgumentError(`--faults: ${(error as Error).message}`)
    }
  }
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed)
  if (!Number.isInteger(seed))
    throw new InvalidArgumentError(`--seed must be an integer, got ${JSON.stringify(values.seed)}`)
  const reportFolder = resolve(
    values.report ??
      join(
        here,
        '..',
        'reports',
        `${new Date().toISOString().replaceAll(':', '-')}-${profile.name}-${seed}`,
      ),
  )
  return { profile, seed, reportFolder, keepFiles: values.keep, require: values.require }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const controller = new AbortController()
  process.once('SIGINT', () => controller.abort())
  process.once('SIGTERM', () => controller.abort())
  try {
    const options = parseCommandLine(process.argv.slice(2))
    const passed = await runReliability({ ...options, signal: controller.signal })
    // A skip is not a failure unless --require says the environment must support the run (CI).
    process.exitCode = passed === true ? 0 : passed === undefined && !options.require ? 0 : 1
  } catch (error) {
    process.stderr.write(`${(error as Error).name}: ${(error as Error).message}\n`)
    process.exitCode = 2
  }
}
