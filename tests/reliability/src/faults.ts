import { readFile, stat } from 'node:fs/promises'
import type { ApiClient } from './api-client.ts'
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
] as const

export type FaultKind = (typeof faultKinds)[number]

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
 * The order of faults: the CI profile injects every kind once (shuffled), the long profile
 * keeps drawing rounds of every kind until its time is up.
 */
export function faultSchedule(random: () => number, rounds: number): FaultKind[] {
  const schedule: FaultKind[] = []
  for (let round = 0; round < rounds; round++) schedule.push(...shuffled(random, faultKinds))
  return schedule
}

export interface NemesisInit {
  readonly cluster: TestCluster
  readonly network: TestNetwork
  readonly client: ApiClient
  readonly recorder: HistoryRecorder
  readonly random: () => number
  /** The peer whose data folder is a tmpfs (see `TestClusterInit.diskFullPeer`). */
  readonly diskFullPeer: number
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
    let heal: () => Promise<void>

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
        const via = pick(
          random,
          all.filter((index) => index !== target && cluster.isRunning(index)),
        )
        targets = [target]
        const status = await this.#init.client
          .removePeer(cluster.peers[via]!.endpoint, cluster.peers[target]!.peerId)
          .catch((error: unknown) => `${(error as Error).message}`)
        detail = `DELETE /peers/${name(target)} through ${name(via)}: ${status}; re-added on heal with daemon --bootstrap`
        heal = async () => {
          await cluster.stop(target)
          const sponsor = (await cluster.leader()) ?? via
          cluster.start(target, {
            bootstrap: cluster.clusterAddress(sponsor === target ? via : sponsor),
          })
        }
        break
      }
      case 'disk-full': {
        const target = this.#init.diskFullPeer
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
    }
    const record: FaultRecord = {
      kind,
      targets: targets.map(name),
      startedAt: this.#init.recorder.elapsed(),
      detail,
    }
    this.records.push(record)
    this.#active = { record, heal }
    return record
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
    await cluster.freeDisk(this.#init.diskFullPeer)
    for (const peer of cluster.peers) if (!cluster.isRunning(peer.index)) cluster.start(peer.index)
  }
}
