import { readFile, stat } from 'node:fs/promises'
import { type ApiClient, describeCallError } from './api-client.ts'
import type { TestCluster } from './cluster.ts'
import type { HistoryRecorder } from './history.ts'
import type { TestNetwork } from './network.ts'
import { bridge, isolate, ring, split } from './partitions.ts'
import { pick, randomIndex } from './random.ts'
import type { FaultRecord } from './report.ts'

export const faultKinds = [
  'kill-one',
  'kill-minority',
  'kill-leader',
  'pause-one',
  'pause-leader',
  'partition-one',
  'partition-halves',
  'partition-bridge',
  'partition-ring',
  'membership',
  'disk-full',
  'wipe-rejoin',
] as const

export type FaultKind = (typeof faultKinds)[number]

/**
 * The faults a run injects unless told otherwise. `wipe-rejoin` (a voter loses its Raft data and
 * comes back with `daemon --bootstrap`) is left out of the CI profile until consensus supports a
 * wiped voter's rejoin; the long profile includes it.
 */
export const defaultFaults: Readonly<Record<'ci' | 'long', readonly FaultKind[]>> = {
  ci: faultKinds.filter((kind) => kind !== 'wipe-rejoin'),
  long: faultKinds,
}

/** Parses `--faults kill-one,membership,...`; says which names exist when one does not. */
export function parseFaultKinds(text: string): FaultKind[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
  const unknown = names.filter((name) => !(faultKinds as readonly string[]).includes(name))
  if (names.length === 0 || unknown.length > 0) {
    throw new RangeError(
      `unknown fault kind ${JSON.stringify(unknown[0] ?? text)}: use a comma-separated list of ${faultKinds.join(', ')}`,
    )
  }
  return names as FaultKind[]
}

/** Shuffles a copy (Fisher-Yates, with the run's seeded generator). */
function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const copy = [...items]
  for (let index = copy.length - 1; index > 0; index--) {
    const other = randomIndex(random, index + 1)
    ;[copy[index], copy[other]] = [copy[other]!, copy[index]!]
  }
  return copy
}

/**
 * The order of faults: the CI profile injects each of `kinds` once (shuffled), the long profile
 * keeps drawing rounds of them until its time is up.
 */
export function faultSchedule(
  random: () => number,
  rounds: number,
  kinds: readonly FaultKind[] = defaultFaults.ci,
): FaultKind[] {
  const schedule: FaultKind[] = []
  for (let round = 0; round < rounds; round++) schedule.push(...shuffled(random, kinds))
  return schedule
}

/** What the nemesis uses of the cluster: a `TestCluster`, or a fake in unit tests. */
export type NemesisCluster = Pick<
  TestCluster,
  | 'peers'
  | 'isRunning'
  | 'kill'
  | 'start'
  | 'stop'
  | 'pause'
  | 'resume'
  | 'resumeAll'
  | 'leader'
  | 'members'
  | 'metrics'
  | 'clusterAddress'
  | 'fillDisk'
  | 'freeDisk'
  | 'wipeData'
>

export interface NemesisInit {
  readonly cluster: NemesisCluster
  readonly network: Pick<TestNetwork, 'partition' | 'heal'>
  readonly client: Pick<ApiClient, 'removePeer'>
  readonly recorder: Pick<HistoryRecorder, 'elapsed'>
  readonly random: () => number
  /** How long a removed peer has to disappear from the members list after its DELETE answered. */
  readonly membershipBound?: number
  /**
   * How long the membership fault waits for a peer other than its target to be ready, to send
   * the DELETE through. A peer restarted by the previous heal takes seconds to listen again.
   */
  readonly readyBound?: number
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}

/** Calls `attempt` every 250 ms until it returns a value; undefined once `bound` ms have passed. */
async function poll<T>(
  bound: number,
  attempt: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const deadline = Date.now() + bound
  while (true) {
    const value = await attempt()
    if (value !== undefined) return value
    if (Date.now() >= deadline) return undefined
    await delay(250)
  }
}

interface ActiveFault {
  readonly record: FaultRecord
  readonly heal: () => Promise<void>
}

/**
 * Injects one fault at a time on the real cluster and heals it; every fault is recorded with
 * its times on the history's clock so the report can line them up with the operations.
 */
export class Nemesis {
  readonly records: FaultRecord[] = []
  readonly #init: NemesisInit
  #active: ActiveFault | undefined

  constructor(init: NemesisInit) {
    this.#init = init
  }

  async inject(kind: FaultKind): Promise<FaultRecord> {
    if (this.#active !== undefined) await this.heal()
    const { cluster, network, random } = this.#init
    const count = cluster.peers.length
    const all = cluster.peers.map((peer) => peer.index)
    const running = all.filter((index) => cluster.isRunning(index))
    const name = (index: number) => cluster.peers[index]!.name
    const leaderOrAny = async () =>
      (await cluster.leader()) ?? pick(random, running.length > 0 ? running : all)
    let targets: number[] = []
    let detail = ''
    let failure: string | undefined
    let heal: () => Promise<void>
    // When the fault began, on the history's clock: the membership fault's DELETE and its wait
    // for the removal are part of it, not something before it.
    const startedAt = this.#init.recorder.elapsed()

    switch (kind) {
      case 'kill-one':
      case 'kill-minority':
      case 'kill-leader': {
        targets =
          kind === 'kill-one'
            ? [pick(random, all)]
            : kind === 'kill-leader'
              ? [await leaderOrAny()]
              : shuffled(random, all).slice(0, Math.floor((count - 1) / 2))
        for (const target of targets) await cluster.kill(target)
        detail = 'kill -9, restarted on heal'
        heal = async () => {
          for (const target of targets) cluster.start(target)
        }
        break
      }
      case 'pause-one':
      case 'pause-leader': {
        targets = [kind === 'pause-one' ? pick(random, all) : await leaderOrAny()]
        for (const target of targets) cluster.pause(target)
        detail = 'SIGSTOP, SIGCONT on heal'
        heal = async () => {
          for (const target of targets) cluster.resume(target)
        }
        break
      }
      case 'partition-one':
      case 'partition-halves':
      case 'partition-bridge':
      case 'partition-ring': {
        const grudge =
          kind === 'partition-one'
            ? isolate(count, pick(random, all))
            : kind === 'partition-halves'
              ? split(count, shuffled(random, all).slice(0, Math.floor(count / 2)))
              : kind === 'partition-bridge'
                ? bridge(count, pick(random, all))
                : ring(count)
        targets = all.filter((index) => (grudge[index] ?? []).length > 0)
        detail = grudge
          .map((blocked, index) => `${name(index)}✕{${blocked.map(name).join(',')}}`)
          .join(' ')
        await network.partition(grudge)
        heal = () => network.heal()
        break
      }
      case 'membership': {
        const target = pick(random, all)
        targets = [target]
        // An operator sends the DELETE to a peer that works: one that is only started (its API
        // not listening yet) would refuse the connection, and that says nothing of membership.
        const via = await this.#readyPeer(all.filter((index) => index !== target))
        if (via === undefined) {
          const bound = (this.#init.readyBound ?? 30_000) / 1000
          detail = `no peer but ${name(target)} was ready within ${bound} s to take DELETE /peers/${name(target)}`
          failure = detail
          heal = async () => undefined
          break
        }
        const targetId = cluster.peers[target]!.peerId
        const status = await this.#init.client
          .removePeer(cluster.peers[via]!.endpoint, targetId)
          .catch(describeCallError)
        // IPFS Cluster answers 204 once the removal is committed: the member list must say so.
        const removed = await this.#waitUntilRemoved(via, targetId)
        detail = `DELETE /peers/${name(target)} through ${name(via)}: ${status}; ${removed ? 'removed' : 'still a member'}`
        if (status !== 204) failure = `DELETE /peers/${name(target)} answered ${status}, not 204`
        else if (!removed)
          failure = `DELETE /peers/${name(target)} answered 204 but ${name(via)} still lists it as a member after ${(this.#init.membershipBound ?? 10_000) / 1000} s`
        heal = async () => {
          if (!removed) {
            if (!cluster.isRunning(target)) cluster.start(target)
            return
          }
          await cluster.stop(target)
          const sponsor = (await cluster.leader()) ?? via
          cluster.start(target, {
            bootstrap: cluster.clusterAddress(sponsor === target ? via : sponsor),
          })
        }
        detail = `${detail}${removed ? '; re-added on heal with daemon --bootstrap' : ''}`
        break
      }
      case 'disk-full': {
        const target = pick(random, running.length > 0 ? running : all)
        targets = [target]
        const logPath = cluster.peers[target]!.logPath
        const logStart = await stat(logPath).then(
          (file) => file.size,
          () => 0,
        )
        const written = await cluster.fillDisk(target)
        detail = `filled ${name(target)}'s Raft data folder (tmpfs) with ${Math.round(written / 1048576)} MiB`
        const record = () => this.records.at(-1)!
        heal = async () => {
          await cluster.freeDisk(target)
          // Storage errors are fail-stop: the store refuses every write until the process is
          // restarted, which its error message tells the operator to do. Do what it says.
          const log = await readFile(logPath).then(
            (content) => content.subarray(logStart).toString('utf8'),
            () => '',
          )
          if (log.includes('StorageFailedError')) {
            record().detail = `${record().detail}; its store failed (StorageFailedError), restarted`
            await cluster.stop(target)
          }
          if (!cluster.isRunning(target)) cluster.start(target)
        }
        break
      }
      case 'wipe-rejoin': {
        // A voter whose disk is lost: it must come back through a join, never vote from nothing.
        const target = pick(random, running.length > 0 ? running : all)
        targets = [target]
        await cluster.kill(target)
        const entries = await cluster.wipeData(target)
        detail = `kill -9, Raft data wiped (${entries} entries); back on heal with daemon --bootstrap`
        heal = async () => {
          const sponsor =
            (await cluster.leader()) ??
            pick(
              random,
              all.filter((index) => index !== target),
            )
          cluster.start(target, { bootstrap: cluster.clusterAddress(sponsor) })
        }
        break
      }
    }
    const record: FaultRecord = {
      kind,
      targets: targets.map(name),
      startedAt,
      detail,
      ...(failure === undefined ? {} : { failure }),
    }
    this.records.push(record)
    this.#active = { record, heal }
    return record
  }

  /**
   * One of `candidates` that runs and reports itself ready on `GET /metrics`, picked with the
   * run's generator among those ready at the first poll where any is; undefined past the bound.
   */
  async #readyPeer(candidates: readonly number[]): Promise<number | undefined> {
    const { cluster, random } = this.#init
    return poll(this.#init.readyBound ?? 30_000, async () => {
      const ready: number[] = []
      for (const index of candidates) {
        if (!cluster.isRunning(index)) continue
        if ((await cluster.metrics(index))?.ready === true) ready.push(index)
      }
      return ready.length > 0 ? pick(random, ready) : undefined
    })
  }

  /** Polls `via`'s member list until `peerId` is gone; false past the bound. */
  async #waitUntilRemoved(via: number, peerId: string): Promise<boolean> {
    const removed = await poll(this.#init.membershipBound ?? 10_000, async () => {
      const members = await this.#init.cluster.members(via)
      return members !== undefined && !members.includes(peerId) ? true : undefined
    })
    return removed === true
  }

  async heal(): Promise<void> {
    const active = this.#active
    if (active === undefined) return
    this.#active = undefined
    await active.heal()
    active.record.healedAt = this.#init.recorder.elapsed()
  }

  /** Heals the active fault and anything left behind: partitions, pauses, a full disk, stopped peers. */
  async healAll(): Promise<void> {
    await this.heal()
    const { cluster, network } = this.#init
    await network.heal()
    cluster.resumeAll()
    for (const peer of cluster.peers) await cluster.freeDisk(peer.index)
    for (const peer of cluster.peers) if (!cluster.isRunning(peer.index)) cluster.start(peer.index)
  }
}
