import { OutcomeUnknownError, ProposalLostError } from '../errors.ts'
import { PendingProposals } from './pending-proposals.ts'
import { abortError } from './waiting.ts'

/** A caller waiting for the entry it proposed to apply. */
export interface PendingProposal<Result> {
  /** The term of the entry this node appended; set when it is appended. */
  term: number
  readonly resolve: (result: Result | undefined) => void
  readonly reject: (error: Error) => void
}

function lostError(index: number): ProposalLostError {
  return new ProposalLostError(
    `the proposal at index ${index} was replaced by another leader's entry and will never commit; it is safe to retry`,
  )
}

/**
 * Who waits for which entry this node appended, by log index: settled with the state machine's
 * result when the entry at that index applies, if it is still the entry of the term appended;
 * with `ProposalLostError` if another leader's entry took its place.
 */
export class ProposalWaits<Result> {
  private readonly pending = new PendingProposals<PendingProposal<Result>>()

  /**
   * Makes `pending` wait for the entry at `index`. Something waiting there already was for an
   * entry of an earlier term that this node's log no longer holds (it lost leadership, its log was
   * cut back, and it leads again): that entry will never apply, so its caller learns it now.
   */
  wait(index: number, pending: PendingProposal<Result>): void {
    this.pending.set(index, pending)?.reject(lostError(index))
  }

  /** A promise for the entry at `index` of `term`; rejects when `signal` aborts first. */
  track(
    index: number,
    term: number,
    what: string,
    signal?: AbortSignal,
  ): Promise<Result | undefined> {
    return new Promise<Result | undefined>((resolve, reject) => {
      this.register(index, term, what, signal, resolve, reject)
    })
  }

  /** Registers the callbacks that settle the entry at `index` (no promise of its own: hot path). */
  register(
    index: number,
    term: number,
    what: string,
    signal: AbortSignal | undefined,
    resolve: (result: Result | undefined) => void,
    reject: (error: Error) => void,
  ): void {
    if (signal === undefined) {
      this.wait(index, { term, resolve, reject })
      return
    }
    const pending: PendingProposal<Result> = {
      term,
      resolve: (result) => {
        signal.removeEventListener('abort', onAbort)
        resolve(result)
      },
      reject: (error) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    }
    const onAbort = () => {
      // Only if it still waits: a later proposal may have taken its index (see `wait`).
      if (this.pending.get(index) !== pending) return
      this.pending.take(index)
      reject(abortError(signal, `${what} at index ${index}`))
    }
    this.wait(index, pending)
    signal.addEventListener('abort', onAbort, { once: true })
  }

  /** The entry at `index` of `term` applied with `result`: settles whoever waits for it. */
  applied(index: number, term: number, result: Result | undefined): void {
    const proposal = this.pending.take(index)
    if (proposal === undefined) return
    if (proposal.term === term) {
      proposal.resolve(result)
    } else {
      proposal.reject(lostError(index))
    }
  }

  /** A snapshot from the leader replaced the log through `index` before it applied here. */
  replacedBySnapshot(index: number): void {
    for (const [at, proposal] of this.pending.takeThrough(index)) {
      proposal.reject(
        new OutcomeUnknownError(
          `entry ${at} was replaced by a snapshot from the leader before it was applied here; check the state to learn whether it committed`,
        ),
      )
    }
  }

  /** Rejects everyone with `error` (the node stopped or failed). */
  rejectAll(error: Error): void {
    for (const proposal of this.pending.takeAll()) proposal.reject(error)
  }
}
