import { describe, expect, it } from 'vitest'
import { ProposalWaits } from '../src/node/proposal-waits.ts'

/** Settles to what the promise did, so a test can compare outcomes without awaiting rejections. */
function outcome(promise: Promise<unknown>): { value?: unknown; error?: Error } {
  const seen: { value?: unknown; error?: Error } = {}
  promise.then(
    (value) => {
      seen.value = value
    },
    (error: Error) => {
      seen.error = error
    },
  )
  return seen
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('ProposalWaits', () => {
  it('resolves a proposal with the result of its own entry once it applies', async () => {
    const waits = new ProposalWaits<string>()
    const seen = outcome(waits.track(7, 2, 'the proposal'))
    waits.applied(6, 2, 'not mine')
    await settle()
    expect(seen).toEqual({})
    waits.applied(7, 2, 'mine')
    await settle()
    expect(seen.value).toBe('mine')
  })

  it('rejects a proposal whose index applied with another leader’s entry, as safe to retry', async () => {
    const waits = new ProposalWaits<string>()
    const seen = outcome(waits.track(7, 2, 'the proposal'))
    waits.applied(7, 3, 'theirs')
    await settle()
    expect(seen.error?.name).toBe('ProposalLostError')
    expect(seen.error?.message).toContain('safe to retry')
  })

  it('tells the earlier caller its entry is lost when a later term appends at the same index', async () => {
    const waits = new ProposalWaits<string>()
    const earlier = outcome(waits.track(7, 2, 'the proposal'))
    const later = outcome(waits.track(7, 4, 'the proposal'))
    await settle()
    expect(earlier.error?.name).toBe('ProposalLostError')
    waits.applied(7, 4, 'later')
    await settle()
    expect(later.value).toBe('later')
  })

  it('gives an unknown outcome to the proposals a snapshot replaced, and keeps the later ones', async () => {
    const waits = new ProposalWaits<string>()
    const replaced = [outcome(waits.track(5, 2, 'p')), outcome(waits.track(6, 2, 'p'))]
    const kept = outcome(waits.track(9, 2, 'p'))
    waits.replacedBySnapshot(8)
    await settle()
    for (const seen of replaced) {
      expect(seen.error?.name).toBe('OutcomeUnknownError')
      expect(seen.error?.message).toContain('replaced by a snapshot from the leader')
    }
    expect(kept).toEqual({})
    waits.applied(9, 2, 'applied')
    await settle()
    expect(kept.value).toBe('applied')
  })

  it('rejects an aborted proposal at once and ignores its entry when it applies later', async () => {
    const waits = new ProposalWaits<string>()
    const controller = new AbortController()
    const seen = outcome(waits.track(3, 1, 'the barrier', controller.signal))
    controller.abort(new Error('caller gave up'))
    await settle()
    expect(seen.error?.name).toBe('AbortedError')
    expect(seen.error?.message).toContain('the barrier at index 3 was aborted (caller gave up)')
    waits.applied(3, 1, 'late')
    await settle()
    expect(seen.value).toBeUndefined()
  })

  it('rejects everyone with the error of a node that stopped', async () => {
    const waits = new ProposalWaits<string>()
    const seen = [outcome(waits.track(1, 1, 'p')), outcome(waits.track(2, 1, 'p'))]
    waits.rejectAll(new Error('stopped'))
    await settle()
    expect(seen.map((each) => each.error?.message)).toEqual(['stopped', 'stopped'])
  })
})
