import type { ApiClient, ApiEndpoint } from './api-client.ts'
import { workloadCid } from './cid.ts'
import type { CallLabel, HistoryRecorder } from './history.ts'
import { pick } from './random.ts'

export interface WorkloadInit {
  readonly endpoints: readonly ApiEndpoint[]
  readonly client: ApiClient
  readonly recorder: HistoryRecorder
  readonly random: () => number
  /** Names the run's CIDs (see `workloadCid`). */
  readonly seed: number
  /** Concurrent clients; each makes one call at a time. */
  readonly clients: number
  /** The workload stops after this many calls in all... */
  readonly maxOperations: number
  /** ...or after this many milliseconds, whichever comes first. */
  readonly duration: number
  /**
   * Calls per CID before the workload moves to a fresh one. Short per-CID histories keep the
   * linearizability search small while every client still contends on the same CID.
   */
  readonly operationsPerCid: number
  /** Up to this many milliseconds (random) between one client's calls. */
  readonly thinkTime?: number
  /** Relative weights of the call kinds. */
  readonly mix?: Readonly<Record<CallLabel, number>>
  /**
   * Share (0 to 1) of consistent reads made through `GET /allocations?consistent=true` (the whole
   * pinset) rather than `GET /allocations/{cid}?consistent=true`. Default 0.02: the pinset grows.
   */
  readonly pinsetReads?: number
}

export interface WorkloadSummary {
  readonly operations: number
  readonly cids: readonly string[]
}

const defaultMix: Readonly<Record<CallLabel, number>> = {
  pin: 35,
  unpin: 25,
  'local read': 20,
  'consistent read': 20,
}

const labels = ['pin', 'unpin', 'local read', 'consistent read'] as const

function chooseKind(random: () => number, mix: Readonly<Record<CallLabel, number>>): CallLabel {
  const total = labels.reduce((sum, label) => sum + mix[label], 0)
  let point = random() * total
  for (const label of labels) {
    point -= mix[label]
    if (point < 0) return label
  }
  return 'local read'
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || milliseconds <= 0) return resolve()
    const timer = setTimeout(done, milliseconds)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * Runs `clients` concurrent clients that pin, unpin and read (locally and consistently) through random peers' HTTP APIs and
 * record every call in the history. Bounded in calls and in time; calls still in flight when the
 * run stops are abandoned and recorded as `unknown`.
 */
export async function runWorkload(
  init: WorkloadInit,
  options: { signal?: AbortSignal } = {},
): Promise<WorkloadSummary> {
  if (init.endpoints.length === 0)
    throw new RangeError('the workload needs at least one peer endpoint')
  const stopSignals = [AbortSignal.timeout(init.duration)]
  if (options.signal !== undefined) stopSignals.push(options.signal)
  const stop = AbortSignal.any(stopSignals)
  const mix = init.mix ?? defaultMix
  const pinsetReads = init.pinsetReads ?? 0.02
  const cids: string[] = []
  let issued = 0

  const cidFor = (sequence: number): string => {
    const key = Math.floor(sequence / init.operationsPerCid)
    while (cids.length <= key) cids.push(workloadCid(init.seed, cids.length))
    return cids[key]!
  }

  const client = async (process: number): Promise<void> => {
    while (!stop.aborted && issued < init.maxOperations) {
      const cid = cidFor(issued)
      issued += 1
      const label = chooseKind(init.random, mix)
      const endpoint = pick(init.random, init.endpoints)
      const call = { signal: stop }
      if (label === 'pin' || label === 'unpin') {
        const id = init.recorder.invoke({ process, kind: label, cid, node: endpoint.node })
        const result =
          label === 'pin'
            ? await init.client.pin(endpoint, cid, call)
            : await init.client.unpin(endpoint, cid, call)
        init.recorder.complete(id, result)
      } else {
        const consistency = label === 'consistent read' ? 'consistent' : 'local'
        const throughPinset = consistency === 'consistent' && init.random() < pinsetReads
        const id = init.recorder.invoke({
          process,
          kind: 'read',
          cid,
          node: endpoint.node,
          consistency,
        })
        const result = throughPinset
          ? await init.client.readThroughPinset(endpoint, cid, call)
          : await init.client.read(endpoint, cid, { ...call, consistency })
        init.recorder.complete(id, result)
      }
      if (init.thinkTime !== undefined && init.thinkTime > 0)
        await sleep(init.random() * init.thinkTime, stop)
    }
  }

  await Promise.all(Array.from({ length: init.clients }, (_, process) => client(process)))
  return { operations: issued, cids }
}
