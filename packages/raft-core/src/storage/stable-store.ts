import type { AbortOptions } from '../abort.ts'
import type { HardState } from '../types.ts'

/**
 * What Raft must never forget: the current term, the vote cast in it and the commit index.
 * `save` resolves only once the state is durable; a node that forgets a vote could vote twice in
 * a term (paper §5.2).
 */
export interface StableStore {
  /** The last saved state, or undefined for a node that has never saved one. */
  load(options?: AbortOptions): Promise<HardState | undefined>
  save(state: HardState, options?: AbortOptions): Promise<void>
}
