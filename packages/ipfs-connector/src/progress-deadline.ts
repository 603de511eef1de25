/**
 * A deadline that moves: the signal aborts once `milliseconds` pass without a call to
 * `progress()`. IPFS Cluster 1.x's `pin_timeout` means this ("no progress for this long"), so a
 * large DAG that keeps arriving never times out while a CID nobody holds fails in bounded time.
 */
export interface ProgressDeadline {
  readonly signal: AbortSignal
  progress(): void
  /** Stops the timer (call it once the operation is over). */
  clear(): void
}

export function progressDeadline(
  milliseconds: number,
  onTimeout: () => Error,
  parent?: AbortSignal,
): ProgressDeadline {
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => controller.abort(onTimeout()), milliseconds)
  }
  const onParentAbort = (): void => controller.abort(parent?.reason)
  if (parent?.aborted === true) controller.abort(parent.reason)
  else parent?.addEventListener('abort', onParentAbort, { once: true })
  arm()
  return {
    signal: controller.signal,
    progress: () => {
      if (!controller.signal.aborted) arm()
    },
    clear: () => {
      if (timer !== undefined) clearTimeout(timer)
      parent?.removeEventListener('abort', onParentAbort)
    },
  }
}

/** The error a signal aborted with, or a plain AbortError for one aborted without a reason. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  if (reason instanceof Error) return reason
  const error = new Error('the operation was aborted')
  error.name = 'AbortError'
  return error
}
