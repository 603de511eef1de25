import type { CID } from 'multiformats/cid'

/** What applying one pin or unpin did. */
export type OperationOutcome =
  /** The CID was not pinned and now is. */
  | { readonly kind: 'pinned'; readonly cid: CID }
  /** The CID was pinned with other options; its pin was replaced. */
  | { readonly kind: 'updated'; readonly cid: CID }
  /** The CID was already pinned identically (timestamps aside): nothing changed. */
  | { readonly kind: 'unchanged'; readonly cid: CID }
  /** The CID was pinned and now is not. */
  | { readonly kind: 'unpinned'; readonly cid: CID }
  /** The CID was not pinned: nothing changed, and that is not an error. */
  | { readonly kind: 'absent'; readonly cid: CID }
  /** An operation with this request id was applied before: this retry was skipped. */
  | { readonly kind: 'duplicate'; readonly requestId: string; readonly cid: CID }

/** The result of `apply` for one log entry. */
export type ApplyResult =
  | OperationOutcome
  /** A batch: one outcome per operation, in order. */
  | { readonly kind: 'batch'; readonly results: readonly OperationOutcome[] }
  /** A whole batch skipped because its request id was applied before. */
  | { readonly kind: 'duplicate-batch'; readonly requestId: string }
  /**
   * The entry's bytes are not an operation: nothing changed. Every replica rejects the same
   * bytes the same way, so the replicas stay identical.
   */
  | {
      readonly kind: 'rejected'
      readonly error: { readonly name: string; readonly message: string }
    }
