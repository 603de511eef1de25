import type { AbortOptions } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { CID } from 'multiformats/cid'
import { multihashKey } from '../cid-keys.ts'
import { messageOf } from '../error-message.ts'

/**
 * For how long (from the walk's start) a CID not yet in the lists is asked about on its own;
 * after that the walk waits for the lists, which answer a CID far faster than a question each.
 */
const askWindow = 100
/** Lines asked about on their own even when the window is over (a loaded machine's first lines). */
const askAtLeast = 64

/** The IPFS node's pins, read in the background by one statusAll walk. */
export interface IpfsPinListing {
  /** Waits until the lists are read, or `milliseconds` passed; throws if listing failed. */
  settledWithin(milliseconds: number): Promise<void>
  /** Whether IPFS pins `cid` recursively or directly: from the lists, or asked while they are read. */
  holds(cid: CID, options?: AbortOptions): boolean | Promise<boolean>
  abort(): void
}

/**
 * Reads the IPFS node's recursive and direct pin lists (never `all`, which would also list
 * every indirectly pinned block) into a set of multihashes, in the background: the walk does not
 * wait for a large list before its first line. For its first `askWindow` ms, a CID not yet seen
 * in the lists is asked about on its own (`pinLsCid`); then the walk waits for the lists. Every
 * answer is the IPFS node's, as in 1.x.
 */
export function listIpfsPins(connector: IpfsConnector, options: AbortOptions): IpfsPinListing {
  const held = new Set<string>()
  const controller = new AbortController()
  const signal =
    options.signal === undefined
      ? controller.signal
      : AbortSignal.any([options.signal, controller.signal])
  let complete = false
  let failure: Error | null = null
  const began = performance.now()
  let asked = 0
  const done = (async () => {
    try {
      for (const type of ['recursive', 'direct'] as const) {
        for await (const entry of connector.pinLs({ type, signal })) {
          held.add(multihashKey(entry.cid))
        }
      }
      complete = true
    } catch (error) {
      if (!controller.signal.aborted) {
        failure = new Error(`could not get pinset from IPFS: ${messageOf(error)}`, {
          cause: error,
        })
      }
    }
  })()
  const check = (): void => {
    options.signal?.throwIfAborted()
    if (failure !== null) throw failure
  }
  return {
    settledWithin: async (milliseconds) => {
      // Real time, not the injected clock: this bounds a latency, it schedules no work.
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        done,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, milliseconds)
        }),
      ])
      clearTimeout(timer)
      check()
    },
    // Synchronous once the lists are in.
    holds: (cid, askOptions) => {
      check()
      const key = multihashKey(cid)
      if (held.has(key)) return true
      if (complete) return false
      if (asked >= askAtLeast && performance.now() - began > askWindow) {
        // Asking per CID is slower than the lists: past the first lines, wait for them.
        return done.then(() => {
          check()
          return held.has(key)
        })
      }
      asked++
      return connector.pinLsCid(cid, askOptions).then(
        (type) => type === 'recursive' || type === 'direct',
        (error: unknown) => {
          askOptions?.signal?.throwIfAborted()
          throw new Error(`could not get pinset from IPFS: ${messageOf(error)}`, {
            cause: error,
          })
        },
      )
    },
    abort: () => controller.abort(),
  }
}
